"""The fixed inputs on which index/engine_choice.py times each engine and judges its outputs against
torch fp32: 8 passages and 4 queries for an embedder, 8 (question, sentence) pairs for a reader or a
classifier (qa/verifier.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from index.engines import Encoder, padded

MIN_COSINE = 0.999
TOP_PASSAGES = 3
MAX_ANSWER_TOKENS = 30
MAX_LOGIT_DRIFT = 0.1  # bf16 autocast moved them by up to 0.04 and answered all the article set alike

PASSAGES = [  # the embedder's probe: 8 passages on distinct topics, of the lengths indexing sees
    "China imposed sanctions on 10 Europeans and four institutions on Monday, saying they had harmed "
    "its sovereignty and interests and spread malicious lies and misinformation.",
    "The European Union, the United States, Britain and Canada imposed sanctions on officials in "
    "Xinjiang over human rights abuses against the Uyghur Muslim minority.",
    "The harbour was rebuilt in 1887 by Hanseatic engineers after a storm destroyed the wooden piers; "
    "the new quay was built of granite brought by ship from Sweden.",
    "A day pass costs 12 euros for adults and 6 euros for students; children under six travel free "
    "on every line of the city's trams and buses.",
    "Mix 200 grams of flour with 100 grams of butter and two eggs, add a spoon of sugar, and bake the "
    "cake for 40 minutes at 180 degrees.",
    "The tenancy runs for twelve months from the first of March; either party may end it with two "
    "months' notice in writing.",
    "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen in the chloroplasts "
    "of plant cells.",
    "The committee meets on the first Tuesday of every month at 9 a.m. in room 204 of the town hall.",
]
QUERIES = [
    "Who did China sanction?",
    "How much is a day pass for students?",
    "When was the harbour rebuilt?",
    "How long does the cake bake?",
]
READINGS = [  # the reader's probe: (question, sentence) pairs, read in one batch as a question is
    ("Who was sanctioned by China?", PASSAGES[0]),
    ("Who imposed sanctions over Xinjiang?", PASSAGES[1]),
    ("When was the harbour rebuilt?", PASSAGES[2]),
    ("How much is a day pass for students?", PASSAGES[3]),
    ("How long does the cake bake?", PASSAGES[4]),
    ("How much notice ends the tenancy?", PASSAGES[5]),
    ("Where does photosynthesis happen?", PASSAGES[6]),
    ("Where does the committee meet?", PASSAGES[7]),
]


def _tokenizer(folder: str) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    return tokenizer


class Probe:
    """A task's fixed inputs, how to time an engine on them and how to judge its outputs."""

    def __init__(self, folder: str, task: str) -> None:
        self.task = task
        tokenizer = _tokenizer(folder)
        if task == "embed":
            self.inputs = [padded(tokenizer.encode_batch(PASSAGES + QUERIES))]
            # what is timed: a batch of passages as indexing embeds them, and one question
            self.timed = [
                padded(tokenizer.encode_batch(PASSAGES)),
                padded(tokenizer.encode_batch(QUERIES[:1])),
            ]
        else:
            encodings = tokenizer.encode_batch(list(READINGS))
            self.context = [np.array([s == 1 for s in e.sequence_ids]) for e in encodings]
            self.inputs = [padded(encodings)]
            self.timed = self.inputs

    def outputs(self, encoder: Encoder) -> list[np.ndarray]:
        ids, mask = self.inputs[0]
        return encoder.run(ids, mask)

    def time_once(self, encoder: Encoder) -> float:
        started = time.perf_counter()
        for ids, mask in self.timed:
            encoder.run(ids, mask)
        return (time.perf_counter() - started) * 1000

    def judge(self, reference: list[np.ndarray], found: list[np.ndarray]) -> tuple[bool, str]:
        if self.task == "embed":
            return self._judge_embeddings(reference[0], found[0])
        if self.task == "classify":
            drift = float(np.max(np.abs(reference[0] - found[0])))
            return drift <= MAX_LOGIT_DRIFT, f"logits within {drift:.3f}"
        return self._judge_spans(reference, found)

    def _pooled(self, hidden: np.ndarray) -> np.ndarray:
        mask = self.inputs[0][1][:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def _judge_embeddings(self, reference: np.ndarray, found: np.ndarray) -> tuple[bool, str]:
        ref, got = self._pooled(reference), self._pooled(found)
        cosine = float(np.min(np.sum(ref * got, axis=1)))
        n = len(PASSAGES)

        def tops(vectors: np.ndarray) -> list[list[int]]:
            scores = vectors[n:] @ vectors[:n].T
            return [list(np.argsort(-row, kind="stable")[:TOP_PASSAGES]) for row in scores]

        same = tops(ref) == tops(got)
        verdict = f"min cosine {cosine:.5f}, top {TOP_PASSAGES} passages {'same' if same else 'differ'}"
        return cosine >= MIN_COSINE and same, verdict

    def _judge_spans(self, reference: list[np.ndarray], found: list[np.ndarray]) -> tuple[bool, str]:
        ref, got = self._spans(*reference), self._spans(*found)
        same = sum(a[:2] == b[:2] for a, b in zip(ref, got, strict=True))
        drift = max(max(abs(a[2] - b[2]), abs(a[3] - b[3])) for a, b in zip(ref, got, strict=True))
        verdict = f"{same}/{len(ref)} best spans same, logits within {drift:.3f}"
        return same == len(ref) and drift <= MAX_LOGIT_DRIFT, verdict

    def _spans(self, start: np.ndarray, end: np.ndarray) -> list[tuple[int, int, float, float]]:
        """Each probe's best span (token offsets) over its sentence, as qa/spans.py picks it, with
        its logit (start + end) and the no-answer ([CLS]) logit."""
        best = []
        for row, context in enumerate(self.context):
            n = len(context)
            s = np.where(context, start[row, :n], -np.inf)
            e = np.where(context, end[row, :n], -np.inf)
            logits = s[:, None] + e[None, :]
            square = np.ones(logits.shape, dtype=bool)
            logits = np.where(np.triu(square) & ~np.triu(square, k=MAX_ANSWER_TOKENS), logits, -np.inf)
            first, last = divmod(int(np.argmax(logits)), n)
            best.append((first, last, float(logits[first, last]), float(start[row, 0] + end[row, 0])))
        return best
