"""The span reader's model, one forward pass per question: every (question, sentence) window's span
candidates and its no-answer ([CLS]) logit come from the same pass, on the engine index/engines.py
picks (ONNX Runtime, else torch).

Spans are scored as Haystack's TransformersExtractiveReader scores them, so answers stay the same:
start + end logit over context tokens only, end not before start, probability sigmoid(0.1 x logit),
the 20 best per window, and a span overlapping a better one from the same text by more than 1% is
dropped. The model is fed as that reader feeds it: no token_type_ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.engines import padded

CALIBRATION = 0.1  # Haystack's calibration_factor: probability = sigmoid(0.1 x (start + end logit))
ANSWERS_PER_WINDOW = 20
MAX_ANSWER_TOKENS = 30  # a span longer than this is a clause, not an answer (SQuAD decoders use 15-30)
OVERLAP = 0.01
PADDING_SLACK = 0.15  # windows share a batch when the longest is at most 15% longer than the shortest


@dataclass(frozen=True)
class Span:
    text: int  # which of the texts read
    start: int  # character offsets into that text
    end: int
    logit: float  # start + end logit
    score: float  # sigmoid(CALIBRATION x logit)


class SpanModel:
    """Tokenizer and question-answering model of a reader folder, loaded in `warm_up()`."""

    def __init__(self, model: str, *, max_seq_length: int = 192, stride: int = 64) -> None:
        self.model, self.max_seq_length, self.stride = model, max_seq_length, stride
        self.calibration_factor = CALIBRATION
        self.tokenizer: Any = None  # tokenizers.Tokenizer, in warm_up()
        self._counter: Any = None  # the same tokenizer without truncation, in warm_up()
        self.encoder: Any = None  # index.engines.Encoder, in warm_up()

    @property
    def engine(self) -> str | None:
        return self.encoder.engine if self.encoder is not None else None

    def warm_up(self) -> None:
        if self.encoder is not None:
            return
        from tokenizers import Tokenizer

        from index.engines import load_encoder

        tokenizer = Tokenizer.from_file(str(Path(self.model) / "tokenizer.json"))
        tokenizer.no_padding()
        # counts a question's tokens whole: the reading tokenizer's only_second truncation raises
        # "Second sequence not provided" on a question alone of more than max_seq_length tokens
        self._counter = Tokenizer.from_file(str(Path(self.model) / "tokenizer.json"))
        self._counter.no_truncation()  # tokenizer.json may carry truncation settings of its own
        self._counter.no_padding()
        tokenizer.enable_truncation(self.max_seq_length, stride=self.stride, strategy="only_second")
        self.tokenizer, self.encoder = tokenizer, load_encoder(self.model, "qa")

    def question_budget(self) -> int:
        """The most question tokens that leave the text room (max_seq_length less stride and the
        special tokens), as the reader's question is cut before reading."""
        self.warm_up()
        assert self.tokenizer is not None
        # the text's room must stay above the stride (the tokenizer panics when it equals it)
        return self.max_seq_length - self.stride - self.tokenizer.num_special_tokens_to_add(True) - 1

    def fit_question(self, query: str) -> str:
        """`query` cut to `question_budget()` tokens (at a token's end), else as it is."""
        budget = self.question_budget()
        assert self.tokenizer is not None
        offsets = self._counter.encode(query, add_special_tokens=False).offsets
        return query if len(offsets) <= budget else query[: offsets[budget - 1][1]].rstrip()

    def read(self, query: str, texts: list[str], top_k: int) -> tuple[list[Span], list[float]]:
        """The best `top_k` spans over `texts` (best first), and each text's no-answer logit
        ([CLS] start + end, of its first window)."""
        self.warm_up()
        assert self.tokenizer is not None and self.encoder is not None
        if not texts:
            return [], []
        windows, owners = [], []
        for i, encoding in enumerate(self.tokenizer.encode_batch([(query, t) for t in texts])):
            for window in [encoding, *encoding.overflowing]:
                windows.append(window)
                owners.append(i)
        start, end = self._logits(windows)
        nulls: dict[int, float] = {}
        spans: list[Span] = []
        for row, w in enumerate(windows):
            nulls.setdefault(owners[row], float(start[row][0] + end[row][0]))
            spans.extend(_window_spans(start[row], end[row], w, owners[row]))
        spans.sort(key=lambda s: -s.score)
        return _deduplicate(spans)[:top_k], [nulls[i] for i in range(len(texts))]

    def _logits(self, windows: list[Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Each window's start and end logits, read once: windows of about the same length share a
        batch, so no batch pads a short sentence to a long one's width (padding is computed, then
        thrown away; a question's 8 sentences padded to the longest were a third padding)."""
        lengths = [len(w.ids) for w in windows]
        starts: list[np.ndarray] = [np.zeros(0, dtype=np.float32)] * len(windows)
        ends = list(starts)
        for group in similar_lengths(lengths):
            start, end = self.encoder.run(*padded([windows[i] for i in group]))
            for row, i in enumerate(group):
                starts[i], ends[i] = start[row, : lengths[i]], end[row, : lengths[i]]
        return starts, ends


def similar_lengths(lengths: list[int], slack: float | None = None) -> list[list[int]]:
    """Indices of `lengths` in groups, shortest first, each no longer than (1 + slack) x its shortest."""
    slack = PADDING_SLACK if slack is None else slack
    groups: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if groups and lengths[i] <= (1 + slack) * lengths[groups[-1][0]]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _window_spans(start: np.ndarray, end: np.ndarray, window: Any, owner: int) -> list[Span]:
    """A window's ANSWERS_PER_WINDOW best spans over its context tokens."""
    n = len(window.ids)
    context = np.array([s == 1 for s in window.sequence_ids] + [False] * (len(start) - n))
    context &= np.array(list(window.attention_mask) + [0] * (len(start) - n)) == 1
    s = np.where(context, start, -np.inf).astype(np.float32)
    e = np.where(context, end, -np.inf).astype(np.float32)
    logits = s[:, None] + e[None, :]
    square = np.ones(logits.shape, dtype=bool)
    allowed = np.triu(square) & ~np.triu(square, k=MAX_ANSWER_TOKENS)  # start <= end < start + max
    logits = np.where(allowed, logits, -np.inf)
    flat = logits.ravel()
    best = np.argsort(-flat, kind="stable")[:ANSWERS_PER_WINDOW]
    found = []
    for index in best:
        logit = float(flat[index])
        if not math.isfinite(logit):
            break
        first, last = divmod(int(index), logits.shape[1])
        score = float(1.0 / (1.0 + np.exp(np.float32(-logit * CALIBRATION), dtype=np.float32)))
        if score <= 0:
            break
        found.append(Span(owner, window.offsets[first][0], window.offsets[last][1], logit, score))
    return found


def _deduplicate(spans: list[Span]) -> list[Span]:
    """Drop a span that overlaps a better one from the same text by more than OVERLAP of either."""
    kept: list[Span] = []
    for span in spans:
        if all(_apart(span, other) for other in kept if other.text == span.text):
            kept.append(span)
    return kept


def _apart(a: Span, b: Span) -> bool:
    if not (a.start <= b.end and b.start <= a.end):
        return True
    overlap = min(a.end - a.start, a.end - b.start, b.end - a.start, b.end - b.start)
    if overlap == 0:
        return True
    return overlap / (b.end - b.start) <= OVERLAP and overlap / (a.end - a.start) <= OVERLAP
