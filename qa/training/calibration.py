"""Fitting the answerability model: logistic regression on the signals of end-to-end answers.

The label is "the best span is right" (F1 > 0.5 against the gold answers; never for unanswerable
questions). The threshold is the one that maximises SQuAD 2.0 F1 on the calibration questions,
where abstaining scores 1 on unanswerable questions and 0 on answerable ones, with the unanswerable
questions reweighted to the share users ask (`UNANSWERABLE_SHARE`): SQuAD 2.0 holds half
adversarial unanswerable questions, and a threshold tuned to that abstains on most real questions.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.answerability import FEATURES, Calibrator
from qa.evaluation.datasets import Paragraph
from qa.evaluation.runner import write_corpus
from qa.training.squad import SquadQuestion, best_scores

logger = logging.getLogger(__name__)

UNANSWERABLE_SHARE = 0.2  # of the questions people ask about their documents (assumed, see docs)


@dataclass(frozen=True)
class Observation:
    x: list[float]
    f1: float  # F1 of the best span (0 when there was none)
    answerable: bool


def paragraphs_of(questions: Sequence[SquadQuestion]) -> list[Paragraph]:
    """The distinct paragraphs the questions are about, numbered within their article."""
    seen: set[str] = set()
    per_title: Counter[str] = Counter()
    paragraphs = []
    for q in questions:
        if q.context not in seen:
            seen.add(q.context)
            paragraphs.append(Paragraph(q.title, per_title[q.title], q.context))
            per_title[q.title] += 1
    return paragraphs


def observe(
    assistant, questions: Sequence[SquadQuestion], progress: Callable[[int, int], None] | None = None
) -> list[Observation]:
    """Ask every question end to end and record the signals the decision sees."""
    rows = []
    for i, q in enumerate(questions):
        answer = assistant.ask(q.question)  # the assistant is built never to abstain (threshold 0)
        x = [answer.signals.get(name, 0.0) for name in FEATURES]
        f1 = best_scores(answer.text, q.answers)[1] if q.answerable and answer.text else 0.0
        rows.append(Observation(x=x, f1=f1, answerable=q.answerable))
        if progress:
            progress(i + 1, len(questions))
    return rows


def _logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias by Newton's method with an L2 penalty (no intercept penalty)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.eye(d + 1) * l2
    reg[-1, -1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def squad_f1(
    probabilities: np.ndarray,
    rows: Sequence[Observation],
    threshold: float,
    unanswerable_share: float | None = None,
) -> float:
    """Mean SQuAD 2.0 F1 when answering above `threshold` and abstaining below; with
    `unanswerable_share`, the unanswerable questions are weighted to make up that share."""
    n_no = sum(not r.answerable for r in rows)
    n_has = len(rows) - n_no
    w_no = w_has = 1.0
    if unanswerable_share is not None and n_no and n_has:
        w_no, w_has = unanswerable_share / n_no, (1 - unanswerable_share) / n_has
    total = weight = 0.0
    for p, r in zip(probabilities, rows, strict=True):
        score = r.f1 if p >= threshold else (0.0 if r.answerable else 1.0)
        w = w_has if r.answerable else w_no
        total += w * score
        weight += w
    return total / weight if weight else 0.0


def fit(
    rows: Sequence[Observation],
    unanswerable_share: float | None = UNANSWERABLE_SHARE,
    features: Sequence[str] = FEATURES,
) -> Calibrator:
    """Logistic weights of the named `features` (a subset of FEATURES, the columns of `rows`), and
    the threshold that maximises SQuAD 2.0 F1 at the given share of unanswerable questions."""
    columns = [FEATURES.index(name) for name in features]
    x = np.array([[r.x[c] for c in columns] for r in rows], dtype=float)
    y = np.array([1.0 if r.f1 > 0.5 else 0.0 for r in rows])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    w, b = _logistic((x - mean) / std, y)
    weights = w / std  # undo the standardisation so the calibrator works on raw features
    bias = b - float((w * mean / std).sum())
    calibrator = Calibrator(tuple(float(v) for v in weights), bias, 0.5, tuple(features))
    probs = np.array([calibrator.probability(dict(zip(FEATURES, r.x, strict=True))) for r in rows])
    grid = np.linspace(0.05, 0.95, 91)
    best = max(grid, key=lambda t: squad_f1(probs, rows, t, unanswerable_share))
    return replace(calibrator, threshold=float(round(best, 3)))


def calibrate(
    model_dir: str | Path,
    questions: Sequence[SquadQuestion],
    *,
    config: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    **overrides: Any,
) -> tuple[Calibrator, list[Observation]]:
    """Index the questions' paragraphs, answer them with the reader in `model_dir` under the
    settings of `config` (as `Assistant.from_config` finds them; `overrides` win), fit the
    answerability model, and save it beside the reader."""
    from qa.assistant import Assistant

    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(paragraphs_of(questions), Path(tmp) / "corpus")
        assistant = Assistant.from_config(
            config,
            index_dir=Path(tmp) / "index",
            **{
                **overrides,
                "reader": "offline",
                "offline_model": str(model_dir),
                "followups": "off",
                "no_answer_threshold": 0.0,
            },
        )
        assistant.index([corpus], rebuild=True)
        rows = observe(assistant, questions, progress)
    calibrator = fit(rows, features=observed(rows))
    calibrator.save(model_dir, {"calibration_questions": len(rows)})
    return calibrator, rows


def observed(rows: Sequence[Observation]) -> tuple[str, ...]:
    """The signals that varied across `rows`: one the reader did not compute (no classifier, say)
    is 0 throughout and must not be named, or the reader would be asked for it."""
    return tuple(name for c, name in enumerate(FEATURES) if len({r.x[c] for r in rows}) > 1)
