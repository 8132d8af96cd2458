"""The evaluation core, shared by `qa eval`, the quality gate and the baseline recorder.

`evaluate(assistant, questions)` asks every question through the assistant's front door and scores
the answers; `evaluate_dataset` adds what a dataset needs first (a temporary index of a SQuAD
corpus, or the gold paragraphs for a reader-only run).
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.errors import BadInputError
from qa.evaluation.datasets import SQUAD, Dataset, Paragraph, Question
from qa.evaluation.metrics import (
    RIGHT_F1,
    QuestionResult,
    Summary,
    contains_answer,
    gold_rank,
    score_answer,
    summarize,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Status = Callable[[str], None]  # says which stage starts (loading, indexing, asking)
RETRIEVAL = "retrieval"
READER_ONLY = "reader-only"


@dataclass
class EvalRun:
    """One evaluation: every question's result, the summary, and what produced them."""

    results: list[QuestionResult]
    summary: Summary
    reader: str
    mode: str = RETRIEVAL
    dataset: str = ""
    format: str = ""
    threshold: float | None = None
    settings: dict = field(default_factory=dict)
    corpus: dict = field(default_factory=dict)
    created: str = ""
    elapsed_s: float = 0.0

    def to_dict(self) -> dict:
        """summary.json: every metric, the configuration and the reader."""
        return {
            "dataset": self.dataset,
            "format": self.format,
            "mode": self.mode,
            "reader": self.reader,
            "questions": len(self.results),
            "created": self.created,
            "elapsed_s": self.elapsed_s,
            **self.summary.to_dict(),
            "threshold": self.threshold,
            "corpus": self.corpus,
            "config": self.settings,
        }


def settings_dict(settings: Any) -> dict:
    """The settings as plain JSON values (paths as strings)."""
    return json.loads(json.dumps(asdict(settings), default=str))


def threshold_of(assistant: Any) -> float | None:
    """The answer probability below which the assistant abstains (configured, else calibrated)."""
    return getattr(assistant, "threshold", None)


def _one(assistant: Any, q: Question, *, reader_only: bool, top_k: int | None) -> QuestionResult:
    started = time.perf_counter()
    try:
        if reader_only:
            answer = assistant.read(q.question, [q.context or ""])
        else:
            answer = assistant.ask(q.question, history=q.history or None, top_k=top_k)
    except BadInputError as exc:
        raise BadInputError(f"question {q.id}: {exc}") from exc
    latency = (time.perf_counter() - started) * 1000
    band = getattr(answer, "band", "none" if answer.no_answer else "sure")
    predicted = answer.text if band == "sure" else None  # strict: a "not sure" reply is no answer
    em, f1 = score_answer(predicted, q.answers)
    in_view = None
    if q.answerable:
        shown = answer.evidence_sentences if band == "unsure" else []  # the closest, and its runner-up
        in_view = f1 >= RIGHT_F1 if band == "sure" else any(contains_answer(s, q.answers) for s in shown)
    rank = None if reader_only or not q.answerable else gold_rank([s.text for s in answer.sources], q.answers)
    return QuestionResult(
        id=q.id,
        question=q.question,
        type=q.kind,
        gold=list(q.answers),
        predicted=predicted,
        score=float(answer.score),
        exact_match=em,
        f1=round(f1, 4),
        gold_rank=rank,
        latency_ms=round(latency, 1),
        rewritten_question=answer.rewritten_question,
        history_turns=len(q.history),
        band=band,
        candidate=None if band == "none" else answer.text,
        in_view=in_view,
    )


def evaluate(
    assistant: Any,
    questions: Sequence[Question],
    *,
    progress: Progress | None = None,
    reader_only: bool = False,
    top_k: int | None = None,
    status: Status | None = None,
) -> EvalRun:
    """Ask every question (`reader_only`: read its gold paragraph instead) and score the answers.

    Models and index are loaded before the clock starts, so latency is per question, not start-up.
    `status` hears each stage as it starts; `progress(done, total)` each answered question.
    """
    say = status or (lambda message: None)
    if not questions:
        raise BadInputError("no questions to evaluate; check the dataset and --limit")
    if reader_only and any(q.context is None for q in questions):
        raise BadInputError("--reader-only needs the gold paragraphs: use a SQuAD-format dataset")
    started = time.perf_counter()
    say("loading the models" if reader_only else "loading the models and the index")
    if reader_only:
        assistant.read(questions[0].question, [questions[0].context or ""])  # warm-up, untimed
    else:
        assistant.warm_up()
    say(f"asking {len(questions)} question{'' if len(questions) == 1 else 's'}")
    results = []
    for done, q in enumerate(questions, start=1):
        results.append(_one(assistant, q, reader_only=reader_only, top_k=top_k))
        if progress:
            progress(done, len(questions))
    return EvalRun(
        results=results,
        summary=summarize(results),
        reader=assistant.reader,
        mode=READER_ONLY if reader_only else RETRIEVAL,
        threshold=threshold_of(assistant),
        settings=settings_dict(assistant.settings) | ({"top_k_override": top_k} if top_k else {}),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        elapsed_s=round(time.perf_counter() - started, 1),
    )


def write_corpus(paragraphs: Sequence[Paragraph], folder: Path) -> Path:
    """Each paragraph as `<title>__<n>.txt` in `folder` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in paragraphs:
        title = re.sub(r"[^\w.-]+", "_", p.title).strip("_") or "article"
        (folder / f"{title}__{p.number:03d}.txt").write_text(p.context, encoding="utf-8")
    return folder


def evaluate_dataset(
    assistant: Any,
    dataset: Dataset,
    *,
    reader_only: bool = False,
    top_k: int | None = None,
    progress: Progress | None = None,
    index_progress: Progress | None = None,
    status: Status | None = None,
) -> EvalRun:
    """Evaluate a loaded dataset. SQuAD questions are asked over a temporary index of the dataset's
    paragraphs (the user's index is untouched); JSONL questions over the assistant's own index."""
    if reader_only and dataset.format != SQUAD:
        raise BadInputError("--reader-only needs the gold paragraphs: use a SQuAD-format dataset")
    corpus: dict = {"index": str(assistant.settings.index_dir)}
    if dataset.format == SQUAD and reader_only:
        corpus = {"index": None, "paragraphs": len({(p.title, p.number) for p in dataset.paragraphs})}
        run = evaluate(assistant, dataset.questions, progress=progress, reader_only=True, status=status)
    elif dataset.format == SQUAD:
        from qa.assistant import Assistant

        with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
            folder = write_corpus(dataset.paragraphs, Path(tmp) / "corpus")
            # a temporary index: a folder, or a schema of its own in a shared database
            scratch = Assistant(
                assistant.settings.with_overrides(
                    index_dir=Path(tmp) / "index", db_schema=f"qa_eval_{uuid.uuid4().hex[:12]}"
                )
            )
            logger.info("indexing %d paragraphs into a temporary index", len(dataset.paragraphs))
            if status:
                status(f"indexing the {len(dataset.paragraphs)} paragraphs into a temporary index")
            try:
                report = scratch.index([folder], rebuild=True, progress=index_progress)
                corpus = {
                    "index": "temporary",
                    "paragraphs": len(dataset.paragraphs),
                    "articles": len({p.title for p in dataset.paragraphs}),
                    "passages": report.passages,
                }
                run = evaluate(scratch, dataset.questions, progress=progress, top_k=top_k, status=status)
            finally:
                scratch.store.discard()
            run.settings["index_dir"] = "(temporary)"
    else:
        run = evaluate(assistant, dataset.questions, progress=progress, top_k=top_k, status=status)
    run.dataset, run.format, run.corpus = str(dataset.path), dataset.format, corpus
    return run


__all__ = [
    "READER_ONLY",
    "RETRIEVAL",
    "EvalRun",
    "evaluate",
    "evaluate_dataset",
    "threshold_of",
    "write_corpus",
]
