"""Readers behind one interface: a Haystack component with `run(query, documents, top_k)` that
returns `answers: list[ExtractedAnswer]` (exact spans of the passages, offsets into them).

- `extractive`: Haystack's `TransformersExtractiveReader` on a hub model id or local folder
  (`deepset/roberta-base-squad2` for users with internet).
- `offline`: bundled weights only: the MiniLM span reader trained by `qa train-reader` and shipped
  in `qa/models/reader`, or the word-overlap sentence picker (`offline_model: overlap`). Its span
  reader (`SentenceSpanReader`) runs one forward pass per question (qa/spans.py) on the engine
  index/engines.py picks (ONNX Runtime, else torch).
- `auto`: `extractive` when its model is in the local cache or can be fetched, else `offline`.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from haystack import Document, component, default_from_dict, default_to_dict
from haystack.dataclasses import ExtractedAnswer

from index.keyword import tokenize, word_overlap
from index.splitting import split_sentences
from qa.answerability import Calibrator
from qa.config import Settings
from qa.context import LEAD, in_context
from qa.errors import ConfigError
from qa.phrasing import as_question, correct_spelling
from qa.spans import SpanModel

logger = logging.getLogger(__name__)

BUNDLED_READER = Path(__file__).resolve().parent / "models" / "reader"
OVERLAP = "overlap"
CACHE_SIZE = 20_000  # sentence embeddings kept by SentenceSpanReader (float32: 30 MB at 384 dimensions)
CLASSIFIER = "classifier"  # the answerability classifier's folder inside a reader's (qa train-answerability)
MAX_SEQ_LENGTH = 192  # the passages are 1-3 sentences, well inside it (the bundled reader trained on 128)


@dataclass(frozen=True)
class ReaderChoice:
    kind: str  # "extractive" | "offline"
    model: str  # model id, folder, or "overlap"

    @property
    def name(self) -> str:
        if self.model == OVERLAP:
            return "offline:word-overlap"
        if Path(self.model) == BUNDLED_READER:
            return "offline:minilm-squad2 (bundled)"
        return f"{self.kind}:{self.model}"


@component
class OverlapReader:
    """Picks the sentences sharing the most words with the question (ties: the earlier passage in
    retrieval order). No model, no training."""

    def __init__(self, *, top_k: int = 5) -> None:
        self.top_k = top_k

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, top_k=self.top_k)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OverlapReader:
        return default_from_dict(cls, data)

    def warm_up(self) -> None:
        """Nothing to load."""

    @component.output_types(answers=list[ExtractedAnswer])
    def run(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, Any]:
        terms = set(tokenize(query))
        answers = []
        for doc in documents:
            text = doc.content or ""
            for span in split_sentences(text):
                answers.append(
                    ExtractedAnswer(
                        query=query,
                        score=word_overlap(terms, text[span.start : span.end]),
                        data=text[span.start : span.end],
                        document=doc,
                        document_offset=ExtractedAnswer.Span(span.start, span.end),
                    )
                )
        answers.sort(key=lambda a: -a.score)
        return {"answers": answers[: top_k or self.top_k]}


@component
class SentenceSpanReader:
    """Sentence first, then span: the `sentences` best sentences of the passages are picked (share of
    the question's words, plus `dense_weight` x cosine similarity to the question with
    `embedding_model`, plus `passage_weight` x the passage's retrieval similarity), and the span
    reader answers inside those sentences only. Offsets are mapped back to the passages, so answers
    stay exact spans of what retrieval returned."""

    def __init__(
        self,
        *,
        model: str,
        top_k: int = 5,
        sentences: int = 2,
        max_seq_length: int = 192,
        stride: int = 64,
        embedding_model: str | None = None,
        dense_weight: float = 0.0,
        passage_weight: float = 0.0,
        sentence_weight: float = 0.0,
        null_margin: bool = False,
        classifier: str | None = None,
        answer_ranking: str = "null_margin",
        context: bool = False,
        rephrase: bool = False,
    ) -> None:
        self.model, self.top_k, self.sentences = model, top_k, sentences
        self.context = context  # read a sentence opening with a pronoun with the one before (qa/context.py)
        self.rephrase = rephrase  # typos and keyword questions put the way the reader reads (qa/phrasing.py)
        self._known: frozenset[str] | None = None
        self.max_seq_length, self.stride = max_seq_length, stride
        self.embedding_model, self.dense_weight = embedding_model, dense_weight
        self.passage_weight, self.sentence_weight = passage_weight, sentence_weight
        self.null_margin = null_margin  # the span's logit over the no-answer logit (the same pass)
        self.answer_ranking = answer_ranking  # null_margin: rank spans by it
        self.classifier = classifier  # answerability classifier folder (qa train-answerability)
        self._classifier: Any = None
        self.picker = OverlapReader(top_k=10_000)
        self.embedder: Any = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        if embedding_model and dense_weight > 0:
            from index.embedding import document_embedder

            self.embedder = document_embedder(embedding_model)
        self.spans = SpanModel(model, max_seq_length=max_seq_length, stride=stride)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self, model=self.model, top_k=self.top_k, sentences=self.sentences,
            max_seq_length=self.max_seq_length, stride=self.stride,
            embedding_model=self.embedding_model, dense_weight=self.dense_weight,
            passage_weight=self.passage_weight, sentence_weight=self.sentence_weight,
            null_margin=self.null_margin, classifier=self.classifier, answer_ranking=self.answer_ranking,
            context=self.context, rephrase=self.rephrase,
        )  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SentenceSpanReader:
        return default_from_dict(cls, data)

    def warm_up(self) -> None:
        self.spans.warm_up()
        if self.embedder is not None:
            self.embedder.warm_up()
        if self.classifier and self._classifier is None:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            model = AutoModelForSequenceClassification.from_pretrained(self.classifier).float().eval()
            self._classifier = (AutoTokenizer.from_pretrained(self.classifier), model)

    def _embed(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Embeddings of `texts`; sentences recur across overlapping passages and questions, so the
        last CACHE_SIZE are kept (questions may run in several threads at once)."""
        unique = list(dict.fromkeys(texts))
        with self._cache_lock:
            found = {t: self._cache[t] for t in unique if t in self._cache}
        missing = [t for t in unique if t not in found]
        if missing:
            docs = self.embedder.run(documents=[Document(content=t) for t in missing])["documents"]
            for text, doc in zip(missing, docs, strict=True):
                found[text] = np.asarray(doc.embedding, dtype=np.float32)
        with self._cache_lock:
            for text, vector in found.items():
                self._cache[text] = vector
                self._cache.move_to_end(text)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def _pick(self, query: str, documents: list[Document]) -> list[ExtractedAnswer]:
        """The best `sentences` sentences: shared words, plus `dense_weight` times the cosine
        similarity to the question when an embedding model is set (paraphrases share few words)."""
        picked = self.picker.run(query=query, documents=documents)["answers"]
        if self.context:  # a sentence opening with "She ..." is read, and ranked, with the one before
            picked = in_context(picked, documents, query)
        if self.embedder is None:
            picked = [a for a in picked if a.score > 0]
        elif picked:
            vectors = self._embed([query] + [a.data for a in picked])
            q, weight = vectors[query], self.dense_weight
            picked = [replace(a, score=a.score + weight * float(q @ vectors[a.data])) for a in picked]
        if self.passage_weight:
            weight = self.passage_weight
            picked = [
                replace(a, score=a.score + weight * float(a.document.meta.get("dense_score", 0.0)))
                for a in picked
                if a.document is not None
            ]
        picked.sort(key=lambda a: -a.score)
        # overlapping passages repeat sentences: read each once (the best-ranked copy)
        distinct = {a.data: a for a in reversed(picked)}
        return [a for a in picked if distinct[a.data] is a][: self.sentences]

    def _forward(self, tokenizer: Any, model: Any, query: str, texts: list[str]) -> Any:
        """`model` on (query, text) pairs, fed as Haystack feeds its reader: no token_type_ids."""
        import torch

        assert model is not None, "warm_up() loads the model"
        enc = tokenizer(
            [query] * len(texts), texts, truncation="only_second", max_length=self.max_seq_length,
            padding=True, return_tensors="pt",
        )  # fmt: skip
        with torch.inference_mode():
            return model(
                input_ids=enc["input_ids"].to(model.device),
                attention_mask=enc["attention_mask"].to(model.device),
            )

    def _classifier_logits(self, query: str, texts: list[str]) -> list[float]:
        """The answerability classifier's logit that each text answers the question."""
        assert self._classifier is not None, "warm_up() loads the classifier"
        tokenizer, model = self._classifier
        return self._forward(tokenizer, model, query, texts).logits[:, 0].tolist()

    def _known_words(self) -> frozenset[str]:
        """English words: the whole words of the reader's vocabulary (never "corrected")."""
        if self._known is None:
            self.spans.warm_up()
            tokenizer = self.spans.tokenizer
            vocab = tokenizer.get_vocab() if tokenizer is not None else {}
            self._known = frozenset(w for w in vocab if w.isalpha())
        return self._known

    def phrased(self, query: str, documents: list[Document]) -> str:
        """The question as the reader reads it: typos put right against the passages' words, and a
        keyword question ("school office phone") asked as one (qa/phrasing.py)."""
        if not self.rephrase:
            return query
        fixed = correct_spelling(query, (d.content or "" for d in documents), self._known_words())
        return as_question(fixed)

    @component.output_types(answers=list[ExtractedAnswer], read_ms=float)
    def run(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, Any]:
        """The best spans; `read_ms`: how long reading took (an answer's timings say where the time went)."""
        started = time.perf_counter()
        answers = self._read(query, documents, top_k)
        return {"answers": answers, "read_ms": (time.perf_counter() - started) * 1000}

    def _read(self, query: str, documents: list[Document], top_k: int | None) -> list[ExtractedAnswer]:
        # phrased first, then cut to the reader's question budget ("what is ...?" adds tokens)
        query = self.spans.fit_question(self.phrased(query, documents))
        picked = self._pick(query, documents)
        if not picked:
            return []
        k = top_k or self.top_k
        texts = [a.data or "" for a in picked]
        # every sentence's best spans compete, ranked by span score + sentence_weight x sentence rank;
        # the no-answer logits come from the same forward pass
        found, nulls = self.spans.read(query, texts, top_k=k * len(texts))
        judged = self._classifier_logits(query, texts) if found and self.classifier else []
        answers = []
        for span in found:
            source = picked[span.text]
            assert source.document_offset is not None
            if span.start < source.meta.get(LEAD, 0):
                continue  # inside the context read before the sentence, not the sentence
            shift = source.document_offset.start
            answers.append(
                ExtractedAnswer(
                    query=query,
                    score=span.score,
                    data=texts[span.text][span.start : span.end],
                    document=source.document,
                    document_offset=ExtractedAnswer.Span(span.start + shift, span.end + shift),
                    meta={
                        "question": query,  # as read: typos put right (qa/phrasing.py)
                        "sentence_score": source.score,
                        "null_margin": span.logit - nulls[span.text],
                        "classifier": judged[span.text] if judged else 0.0,
                    },
                )
            )
        answers.sort(key=lambda a: -(self._rank_score(a) + self.sentence_weight * a.meta["sentence_score"]))
        # a sentence read alone and again with the one after it gives the same span twice: keep the best
        seen: set[tuple] = set()
        distinct = []
        for a in answers:
            where = (a.document_offset.start, a.document_offset.end) if a.document_offset else None
            key = (a.document.id if a.document else None, where)
            if key not in seen:
                seen.add(key)
                distinct.append(a)
        return distinct[:k]

    @property
    def engine(self) -> str | None:
        """The engine the span model runs on (None before warm_up())."""
        return self.spans.engine

    def _rank_score(self, answer: ExtractedAnswer) -> float:
        """The span's score for ranking: its probability, or with `answer_ranking: null_margin` its
        margin over the no-answer logit of its sentence, on the same 0-1 scale (Haystack's sigmoid)."""
        if self.answer_ranking != "null_margin":
            return answer.score
        return 1.0 / (1.0 + math.exp(-answer.meta["null_margin"] * self.spans.calibration_factor))


TORCH_COMPONENTS = {  # Haystack components that run their model in torch fp32
    "TransformersExtractiveReader",
    "SentenceTransformersTextEmbedder",
    "SentenceTransformersDocumentEmbedder",
}


def engine_name(*components: Any) -> str:
    """One name for what runs the pipeline's models: "onnx" when all run there, else "embedder
    onnx, reader torch-fp32"; "none" when no component has a model (hash embedder, overlap reader)."""
    found = {}
    for role, part in zip(("embedder", "reader"), components, strict=False):
        engine = getattr(part, "engine", None)
        if engine is None and type(part).__name__ in TORCH_COMPONENTS:
            engine = "torch-fp32"
        if engine is not None:
            found[role] = engine
    if not found:
        return "none"
    if len(set(found.values())) == 1:
        return next(iter(found.values()))
    return ", ".join(f"{role} {engine}" for role, engine in found.items())


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def hub_model_available(model: str) -> bool:
    """True when `model` is a local folder, is in the Hugging Face cache, or (online) can be fetched.

    Never touches the network when HF_HUB_OFFLINE is set.
    """
    if Path(model).is_dir():
        return True
    if re.fullmatch(r"[\w.-]+/[\w.-]+", model) is None:
        return False
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(model, local_files_only=True)
        return True
    except Exception:
        pass
    if _truthy("HF_HUB_OFFLINE"):
        return False
    try:
        from huggingface_hub import model_info

        model_info(model, timeout=5)
    except Exception as exc:
        logger.info("hub model %s not reachable (%s); using the offline reader", model, exc)
        return False
    return True


def offline_choice(settings: Settings) -> ReaderChoice:
    model = settings.offline_model
    if model == "bundled":
        if (BUNDLED_READER / "config.json").is_file():
            return ReaderChoice("offline", str(BUNDLED_READER))
        logger.warning("the bundled reader is missing from %s; using the word-overlap reader", BUNDLED_READER)
        return ReaderChoice("offline", OVERLAP)
    if model == OVERLAP:
        return ReaderChoice("offline", OVERLAP)
    if not Path(model).is_dir():
        raise ConfigError(
            f"config key 'offline_model': {model!r} is not a folder; use bundled, overlap or a model folder"
        )
    return ReaderChoice("offline", model)


def choose_reader(settings: Settings) -> ReaderChoice:
    if settings.reader == "offline":
        return offline_choice(settings)
    if settings.reader == "extractive":
        return ReaderChoice("extractive", settings.extractive_model)
    if hub_model_available(settings.extractive_model):
        return ReaderChoice("extractive", settings.extractive_model)
    return offline_choice(settings)


def _weighed(model: str) -> set[str]:
    """The signals the answerability model calibrated for this reader weighs. An uncalibrated reader
    reports every signal it can, so that calibrating it (`qa train-reader --calibrate`) weighs them."""
    calibrator = Calibrator.load(model if Path(model).is_dir() else None)
    if calibrator.weights is not None:
        return set(calibrator.features)
    return {"null_margin", *(["classifier"] if _classifier_folder(model) else [])}


def _classifier_folder(model: str) -> Path | None:
    """The answerability classifier beside a reader (`qa train-answerability`), if it has one."""
    folder = Path(model) / CLASSIFIER
    return folder if (folder / "config.json").is_file() else None


def _classifier_of(model: str, weighed: set[str]) -> str | None:
    """The reader's answerability classifier folder, when its calibrator weighs it."""
    if "classifier" not in weighed:
        return None
    folder = _classifier_folder(model)
    if folder is None:
        raise ConfigError(
            f"{model}: its answerability.json weighs a classifier, but {Path(model) / CLASSIFIER} has none; "
            "train one with `qa train-answerability` or recalibrate without it"
        )
    return str(folder)


def build_reader(choice: ReaderChoice, settings: Settings) -> Any:
    """The reader component; `offline_sentences` > 0 makes an offline span reader answer inside the
    best N sentences only (SentenceSpanReader)."""
    top_k = settings.retrieval.top_k
    if choice.model == OVERLAP:
        return OverlapReader(top_k=top_k)
    if choice.kind == "offline" and settings.offline_sentences > 0:
        weighed = _weighed(choice.model)
        return SentenceSpanReader(
            model=choice.model,
            top_k=top_k,
            sentences=settings.offline_sentences,
            embedding_model=settings.embedding_model,
            dense_weight=settings.sentence_dense_weight,
            passage_weight=settings.sentence_passage_weight,
            sentence_weight=settings.sentence_weight,
            null_margin="null_margin" in weighed,
            classifier=_classifier_of(choice.model, weighed),
            answer_ranking=settings.answer_ranking,
            context=settings.sentence_context,
            rephrase=settings.rephrase,
        )
    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    return TransformersExtractiveReader(
        model=choice.model,
        top_k=top_k,
        no_answer=False,
        max_seq_length=MAX_SEQ_LENGTH if choice.kind == "offline" else 384,
        stride=64 if choice.kind == "offline" else 128,
    )
