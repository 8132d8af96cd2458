"""`qa eval --compare OTHER_RUN_DIR`: what got better and worse, metric by metric and question by
question (matched by id)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.errors import BadInputError
from qa.evaluation.metrics import RECALL_AT

COMPARE_MD = "compare.md"
# (label, path into summary.json); no-answer accuracy and recall@k matter as much as F1
METRICS = (
    ("F1", ("overall", "f1")),
    ("exact match", ("overall", "exact_match")),
    ("has-answer F1", ("has_answer", "f1")),
    ("no-answer accuracy", ("abstention", "no_answer_accuracy")),
    ("has-answer abstention", ("abstention", "has_answer_abstention_rate")),
    *((f"recall@{k}", ("retrieval", f"recall@{k}")) for k in RECALL_AT),
    ("latency p50 (ms)", ("latency_ms", "p50")),
)


@dataclass
class Change:
    id: str
    question: str
    gold: list[str]
    before: str | None  # None: abstained
    after: str | None
    f1_before: float
    f1_after: float


@dataclass
class Comparison:
    other: str
    metrics: list[tuple[str, float | None, float | None]]  # (label, other run, this run)
    better: list[Change] = field(default_factory=list)
    worse: list[Change] = field(default_factory=list)
    unchanged: int = 0
    only_here: list[str] = field(default_factory=list)
    only_there: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def load_run(folder: Path) -> tuple[dict, list[dict]]:
    """summary.json and questions.json of a run folder written by `qa eval`."""
    folder = Path(folder)
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        questions = json.loads((folder / "questions.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(
            f"--compare {folder}: not a run folder with summary.json and questions.json; "
            "pass a folder written by `qa eval --out`"
        ) from exc
    if not isinstance(summary, dict) or not isinstance(questions, list):
        raise BadInputError(f"--compare {folder}: summary.json or questions.json has the wrong shape")
    return summary, questions


def _get(summary: dict, path: tuple[str, str]) -> float | None:
    block = summary.get(path[0]) or {}
    return block.get(path[1])


def compare(other: Path, summary: dict, questions: list[dict]) -> Comparison:
    """This run (`summary`, `questions` as written to the run folder) against the run in `other`."""
    old_summary, old_questions = load_run(other)
    result = Comparison(
        other=str(other), metrics=[(label, _get(old_summary, p), _get(summary, p)) for label, p in METRICS]
    )
    old = {q["id"]: q for q in old_questions}
    new = {q["id"]: q for q in questions}
    for qid, q in new.items():
        before = old.get(qid)
        if before is None:
            result.only_here.append(qid)
            continue
        change = Change(
            qid, q["question"], q["gold"], before["predicted"], q["predicted"], before["f1"], q["f1"]
        )
        if q["f1"] > before["f1"]:
            result.better.append(change)
        elif q["f1"] < before["f1"]:
            result.worse.append(change)
        else:
            result.unchanged += 1
    result.only_there = [qid for qid in old if qid not in new]
    result.better.sort(key=lambda c: c.f1_before - c.f1_after)
    result.worse.sort(key=lambda c: c.f1_after - c.f1_before)
    return result


def _shown(answer: str | None) -> str:
    return "(abstained)" if answer is None else repr(answer)


def _delta(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return f"{before} -> {after}"
    return f"{before:.1f} -> {after:.1f} ({after - before:+.1f})"


def render(c: Comparison, limit: int = 20) -> str:
    """Plain text: the metric deltas, then the questions that got better and worse."""
    lines = [f"compared with {c.other}:"]
    lines += [f"  {label}: {_delta(b, a)}" for label, b, a in c.metrics if b is not None or a is not None]
    for name, changes in (("better", c.better), ("worse", c.worse)):
        lines.append(f"{name} ({len(changes)}):")
        for ch in changes[:limit]:
            lines.append(
                f"  {ch.id} F1 {ch.f1_before:.2f} -> {ch.f1_after:.2f}  {ch.question}  "
                f"{_shown(ch.before)} -> {_shown(ch.after)}  (gold: {' / '.join(ch.gold) or 'no answer'})"
            )
        if len(changes) > limit:
            lines.append(f"  … and {len(changes) - limit} more (see {COMPARE_MD})")
    lines.append(f"unchanged: {c.unchanged}; only in this run: {len(c.only_here)}; ")
    lines[-1] += f"only in the other: {len(c.only_there)}"
    return "\n".join(lines)


__all__ = ["COMPARE_MD", "Comparison", "compare", "load_run", "render"]
