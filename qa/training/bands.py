"""Fit the three bands (qa/bands.py) on the calibration half of a question set like users', and
report them on the other half.

    python -m qa.training.bands tests/data/own_documents --out qa/models/reader

The folder holds `documents/`, question files (`*.jsonl`, each question naming its `document`) and
`split.json` (`{"calibrate": [document names], "report": [...]}`): the split is by document, so no
reported question's document was seen in fitting. Each half is indexed on its own and every
question asked through `Assistant.ask` (follow-ups with their history). Every candidate span the
reader proposes is a row (right when its F1 against a gold answer is at least 0.5; wrong for any
candidate to an unanswerable question); a logistic model is fitted on the rows, then two thresholds:
`sure`, the lowest at which sure answers on the calibration half are at least `--precision` right,
and `close`, the closeness below which no more than `--lost` of the answerable questions fall.
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.bands import FEATURES, BandModel, alternatives
from qa.evaluation.datasets import Question, load_dataset
from qa.evaluation.metrics import contains_answer, score_answer

logger = logging.getLogger(__name__)
RIGHT_F1 = 0.5


@dataclass
class Asked:
    """One question's candidates as the decision saw them."""

    question: Question
    half: str
    rows: list[tuple[str, dict, str]]  # (span, signals, sentence), as the band model then rated them
    closeness: float
    fallback: list[float]  # each row's probability as rated when asked (used when no weights are fitted)


def questions_of(folder: Path) -> dict[str, list[Question]]:
    """The set's questions by half, as split.json splits their documents."""
    split = json.loads((folder / "split.json").read_text(encoding="utf-8"))
    by_doc: dict[str, str] = {doc: half for half, docs in split.items() for doc in docs}
    halves: dict[str, list[Question]] = {half: [] for half in split}
    for path in sorted(folder.glob("*.jsonl")):
        raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for q, row in zip(load_dataset(path).questions, raw, strict=True):
            halves[by_doc[row["document"]]].append(q)
    return halves


def ask_all(folder: Path, work: Path, halves: dict[str, list[Question]]) -> list[Asked]:
    from qa.assistant import Assistant

    split = json.loads((folder / "split.json").read_text(encoding="utf-8"))
    asked = []
    for half, questions in halves.items():
        index_dir = work / f"{half}-index"
        assistant = Assistant.from_config(index_dir=index_dir, reader="offline")
        if not assistant.has_index():
            assistant.index([folder / "documents" / name for name in split[half]], rebuild=True)
        for q in questions:
            answer = assistant.ask(q.question, history=q.history or None)
            rows = [(text, values, sentence) for text, _, values, sentence in answer.candidates]
            asked.append(
                Asked(
                    q,
                    half,
                    rows,
                    answer.signals.get("closeness", 0.0),
                    [p for _, p, _, _ in answer.candidates],
                )
            )
        logger.info("%s: %d questions asked", half, len(questions))
    return asked


def right(span: str, q: Question) -> bool:
    return q.answerable and score_answer(span, q.answers)[1] >= RIGHT_F1


def fit(
    asked: list[Asked], l2: float = 1.0, features: tuple[str, ...] = FEATURES
) -> tuple[np.ndarray, float]:
    """Logistic regression on every candidate row (Newton's method, L2 on the weights)."""
    x = np.array([[values[f] for f in features] for a in asked for _, values, _ in a.rows], dtype=float)
    y = np.array([right(span, a.question) for a in asked for span, _, _ in a.rows], dtype=float)
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = np.eye(xb.shape[1]) * l2
    penalty[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-xb @ w))
        gradient = xb.T @ (p - y) + penalty @ w
        hessian = xb.T @ (xb * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


@dataclass(frozen=True)
class Outcome:
    band: str
    span: str | None
    sentence: str | None
    probability: float
    also: tuple[str, ...] = ()  # a "not sure" reply's runners-up's sentences (qa.bands.alternatives)


def decide(model: BandModel, a: Asked) -> Outcome:
    if not a.rows:
        return Outcome("none", None, None, 0.0)
    rated = sorted(
        (
            (model.probability(values, f), span, sentence)
            for (span, values, sentence), f in zip(a.rows, a.fallback, strict=True)
        ),
        key=lambda t: -t[0],
    )
    p, span, sentence = rated[0]
    band = model.band(p, a.closeness)
    if band == "none":
        return Outcome(band, None, None, p)
    shown = alternatives([(q, s) for q, _, s in rated]) if band == "unsure" else []
    return Outcome(band, span, sentence, p, tuple(rated[i][2] for i in shown))


def in_view(outcome: Outcome, q: Question) -> bool:
    """A right sure answer, or a "not sure" reply whose sentence (or a runner-up's) holds a gold answer."""
    if outcome.band == "sure":
        return right(outcome.span or "", q)
    if outcome.band == "unsure":  # as `qa eval` and benchmarks/bands.py judge it
        return any(contains_answer(s, q.answers) for s in (outcome.sentence, *outcome.also) if s)
    return False


def figures(model: BandModel, asked: list[Asked]) -> dict[str, Any]:
    """The issue's figures: sure precision, sure coverage, answer in view, sure on unanswerable,
    strict F1 (only sure answers count), and the bands' shares."""
    outcomes = [(decide(model, a), a.question) for a in asked]
    answerable = [(o, q) for o, q in outcomes if q.answerable]
    unanswerable = [(o, q) for o, q in outcomes if not q.answerable]
    sure = [(o, q) for o, q in outcomes if o.band == "sure"]
    strict = [score_answer(o.span if o.band == "sure" else None, q.answers)[1] for o, q in outcomes]

    def share(part: list, whole: list) -> float:
        return round(100 * len(part) / len(whole), 1) if whole else 0.0

    return {
        "questions": len(outcomes),
        "sure_precision": share([1 for o, q in sure if right(o.span or "", q)], sure),
        "sure_coverage": share(
            [1 for o, q in answerable if o.band == "sure" and right(o.span or "", q)], answerable
        ),
        "answer_in_view": share([1 for o, q in answerable if in_view(o, q)], answerable),
        "sure_on_unanswerable": share([1 for o, _ in unanswerable if o.band == "sure"], unanswerable),
        "strict_f1": round(100 * sum(strict) / len(strict), 1) if strict else 0.0,
        "bands": {
            b: share([1 for o, _ in outcomes if o.band == b], outcomes) for b in ("sure", "unsure", "none")
        },
        "forced_right": share([1 for o, q in answerable if o.span and right(o.span, q)], answerable),
    }


def thresholds(model: BandModel, asked: list[Asked], precision: float, lost: float) -> BandModel:
    """`sure`: the lowest threshold whose sure answers are at least `precision` right; `close`: the
    closeness below which at most `lost` of the answerable questions fall."""
    closeness = sorted(a.closeness for a in asked if a.question.answerable)
    close = closeness[int(lost * len(closeness))] if closeness else 0.0
    model = replace(model, close=close)
    best = 1.0
    for cut in np.linspace(0.99, 0.05, 95):
        trial = replace(model, sure=float(cut))
        if figures(trial, asked)["sure_precision"] >= 100 * precision:
            best = float(cut)
    return replace(model, sure=round(best, 3))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="documents/, *.jsonl questions and split.json")
    parser.add_argument("--out", type=Path, help="the reader folder to write bands.json into")
    parser.add_argument("--work", type=Path, default=Path("runs/bands"), help="indexes and the dump")
    parser.add_argument("--precision", type=float, default=0.92, help="sure precision to reach (0-1)")
    parser.add_argument("--lost", type=float, default=0.02, help="answerable share allowed in 'none'")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logger.setLevel(logging.INFO)
    args.work.mkdir(parents=True, exist_ok=True)
    asked = ask_all(args.folder, args.work, questions_of(args.folder))
    with (args.work / "asked.pkl").open("wb") as f:  # the lab's record, to refit without asking again
        pickle.dump(asked, f)
    calibrate = [a for a in asked if a.half == "calibrate"]
    # the verifier's signal only when the reader has one (without, it is 0 on every row)
    verified = any(values["verifier"] for a in asked for _, values, _ in a.rows)
    features = FEATURES if verified else tuple(f for f in FEATURES if f != "verifier")
    weights, bias = fit(calibrate, features=features)
    model = thresholds(
        BandModel(tuple(float(w) for w in weights), bias, features=features),
        calibrate,
        args.precision,
        args.lost,
    )
    report = {half: figures(model, [a for a in asked if a.half == half]) for half in ("calibrate", "report")}
    for half, numbers in report.items():
        logger.info("%s: %s", half, json.dumps(numbers))
    logger.info("weights: %s", dict(zip(features, np.round(weights, 3), strict=True)))
    if args.out:
        model.save(
            args.out, {"fitted_on": str(args.folder / "split.json") + " calibrate half", "figures": report}
        )
        logger.info("wrote %s", args.out / "bands.json")


if __name__ == "__main__":
    main()
