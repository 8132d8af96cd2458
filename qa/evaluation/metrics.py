"""Scores of one run: SQuAD exact match and F1, abstention, retrieval rank, latency.

Exact match, F1, accuracy, precision and recall are percentages (0-100), as the official SQuAD 2.0
script reports them; MRR is in [0, 1]. The gold answers are compared with SQuAD's normalisation
(lower case, no punctuation or articles) and the best of the acceptable answers counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from qa.training.squad import best_scores, normalize_answer

RECALL_AT = (1, 3, 5)


@dataclass(frozen=True)
class QuestionResult:
    """How the system did on one question. `gold_rank`: 1-based rank of the first returned passage
    holding a gold answer, 0 when none does, None when not measured (no-answer question, reader-only)."""

    id: str
    question: str
    type: str
    gold: list[str]
    predicted: str | None  # None: the system abstained
    score: float  # the answer probability behind the abstain decision
    exact_match: float  # 0 or 1
    f1: float  # 0..1
    gold_rank: int | None
    latency_ms: float
    rewritten_question: str | None = None
    history_turns: int = 0
    band: str = ""  # sure | unsure | none ("": a run from before the bands, read from `predicted`)
    candidate: str | None = None  # the span a "not sure" reply offered (sure: = predicted)
    in_view: bool | None = None  # answerable: a right sure answer, or an unsure reply's sentences hold gold

    @property
    def answerable(self) -> bool:
        return bool(self.gold)

    @property
    def sure(self) -> bool:
        return self.band == "sure" or (not self.band and self.predicted is not None)

    @property
    def abstained(self) -> bool:
        return self.predicted is None

    def to_dict(self) -> dict:
        return asdict(self) | {"abstained": self.abstained}


def score_answer(predicted: str | None, gold: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) as the official SQuAD 2.0 script: golds that normalise to nothing are dropped, and with
    no gold left the only right prediction is to abstain."""
    golds = [g for g in gold if normalize_answer(g)]
    return best_scores(predicted or "", golds)


def _padded(text: str) -> str:
    return f" {normalize_answer(text)} "


def contains_answer(text: str, gold: Iterable[str]) -> bool:
    """True when the passage holds one of the answers (normalised, on word boundaries)."""
    padded = _padded(text)
    return any(normalize_answer(g) and _padded(g) in padded for g in gold)


def gold_rank(passages: Sequence[str], gold: Sequence[str]) -> int:
    """1-based rank of the first passage holding a gold answer; 0 when none does."""
    return next((i for i, text in enumerate(passages, start=1) if contains_answer(text, gold)), 0)


def _pct(values: Sequence[float]) -> float | None:
    return round(100.0 * sum(values) / len(values), 2) if values else None


def _block(results: Sequence[QuestionResult]) -> dict:
    return {
        "count": len(results),
        "exact_match": _pct([r.exact_match for r in results]),
        "f1": _pct([r.f1 for r in results]),
    }


def _ratio(hits: int, total: int) -> float | None:
    return round(100.0 * hits / total, 2) if total else None


def roc_auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """The chance that a random positive scores above a random negative (ties count half)."""
    if not positive or not negative:
        return None
    scores = np.concatenate([np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = len(positive), len(negative)
    return round(float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)), 4)


@dataclass
class Summary:
    overall: dict
    has_answer: dict
    no_answer: dict
    abstention: dict
    retrieval: dict | None
    latency_ms: dict
    by_type: dict = field(default_factory=dict)
    bands: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


RIGHT_F1 = 0.5  # a sure answer is right when its F1 against a gold answer reaches this


def band_figures(results: Sequence[QuestionResult]) -> dict:
    """The three bands' shares and what a person gets from them (percentages): of the sure answers
    the share right (`sure_precision`; a sure answer to an unanswerable question is wrong), of the
    answerable questions the share answered right and sure (`sure_coverage`) and the share with the
    answer in view (a right sure answer or a "not sure" sentence holding it), and of the
    unanswerable ones the share answered sure."""
    has = [r for r in results if r.answerable]
    no = [r for r in results if not r.answerable]
    sure = [r for r in results if r.sure]
    counts = {band: sum(r.band == band for r in results) for band in ("sure", "unsure", "none")}
    return {
        **counts,
        "sure_precision": _ratio(sum(r.answerable and r.f1 >= RIGHT_F1 for r in sure), len(sure)),
        "sure_coverage": _ratio(sum(r.sure and r.f1 >= RIGHT_F1 for r in has), len(has)),
        "answer_in_view": _ratio(sum(bool(r.in_view) for r in has), len(has)),
        "sure_on_unanswerable": _ratio(sum(r.sure for r in no), len(no)),
    }


def summarize(results: Sequence[QuestionResult]) -> Summary:
    has = [r for r in results if r.answerable]
    no = [r for r in results if not r.answerable]
    abstained = [r for r in results if r.abstained]
    abstention = {
        "abstained": len(abstained),
        # of the questions the system abstained on, the share that had no answer
        "precision": _ratio(sum(not r.answerable for r in abstained), len(abstained)),
        # of the questions with no answer, the share the system abstained on (= no-answer accuracy)
        "recall": _ratio(sum(r.abstained for r in no), len(no)),
        "no_answer_accuracy": _ratio(sum(r.abstained for r in no), len(no)),
        "has_answer_abstention_rate": _ratio(sum(r.abstained for r in has), len(has)),
        # how well the answer probability separates answerable from unanswerable questions (0.5: not)
        "answerability_auc": roc_auc([r.score for r in has], [r.score for r in no]),
    }
    ranked = [r.gold_rank for r in has if r.gold_rank is not None]
    retrieval = None
    if ranked:
        retrieval = {
            f"recall@{k}": _ratio(sum(0 < rank <= k for rank in ranked), len(ranked)) for k in RECALL_AT
        }
        retrieval["mrr"] = round(sum(1.0 / rank for rank in ranked if rank) / len(ranked), 4)
        retrieval["count"] = len(ranked)
    latencies = np.array([r.latency_ms for r in results], dtype=float)
    latency = {
        "p50": round(float(np.percentile(latencies, 50)), 1) if len(latencies) else None,
        "p95": round(float(np.percentile(latencies, 95)), 1) if len(latencies) else None,
        "mean": round(float(latencies.mean()), 1) if len(latencies) else None,
    }
    groups: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        groups[r.type].append(r)
    by_type = {name: _block(group) for name, group in sorted(groups.items())}
    return Summary(
        _block(results),
        _block(has),
        _block(no),
        abstention,
        retrieval,
        latency,
        by_type,
        band_figures(results),
    )


__all__ = [
    "RECALL_AT",
    "RIGHT_F1",
    "QuestionResult",
    "Summary",
    "band_figures",
    "contains_answer",
    "gold_rank",
    "roc_auc",
    "score_answer",
    "summarize",
]
