"""Question sets: JSONL (one question a line) or SQuAD 1.1/2.0 JSON, detected from the content.

Every problem with a file is a `BadInputError` naming the file, the line or the JSON path, and what
to do, so `qa eval` can show it as one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import BadInputError
from qa.training.squad import Paragraph, SquadFormatError, parse_squad

JSONL = "jsonl"
SQUAD = "squad"
_EXPECTED = (
    'use JSONL ({"id", "question", "answers": [...]} a line) or SQuAD JSON ({"data": [{"paragraphs": ...}]})'
)
_WH_WORDS = ("who", "whom", "whose", "what", "when", "where", "which", "why", "how")


@dataclass(frozen=True)
class Question:
    """One evaluation question; `answers == []` means the right behaviour is to abstain."""

    id: str
    question: str
    answers: list[str]
    type: str = ""
    history: list[dict] = field(default_factory=list)
    context: str | None = None  # the gold paragraph (SQuAD only)
    title: str | None = None  # the article (SQuAD only)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def kind(self) -> str:
        """The question's type for the report: its own "type", else its wh-word (SQuAD has no types)."""
        if self.type:
            return self.type
        if not self.answerable:
            return "unanswerable"
        words = self.question.lower().replace("?", " ").split()
        return next((w if w != "whom" else "who" for w in words if w in _WH_WORDS), "other")


@dataclass(frozen=True)
class Dataset:
    path: Path
    format: str  # JSONL | SQUAD
    questions: list[Question]
    paragraphs: list[Paragraph] = field(default_factory=list)  # the corpus (SQuAD only)

    @property
    def name(self) -> str:
        return self.path.stem

    def limited(self, limit: int | None) -> Dataset:
        """The first `limit` questions; a SQuAD corpus keeps every paragraph of their articles."""
        if limit is None or limit >= len(self.questions):
            return self
        questions = self.questions[:limit]
        titles = {q.title for q in questions}
        paragraphs = [p for p in self.paragraphs if p.title in titles]
        return Dataset(self.path, self.format, questions, paragraphs)


def load_dataset(path: str | Path) -> Dataset:
    """The questions in `path`, JSONL or SQuAD JSON (detected from the content, not the name)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"dataset {path} not found; pass a .jsonl question set or a SQuAD .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"dataset {path} is not UTF-8 text; {_EXPECTED}") from exc
    if not text.strip():
        raise BadInputError(f"dataset {path} is empty; {_EXPECTED}")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and "data" in whole:
        questions, paragraphs = _squad(whole, path)
        return Dataset(path, SQUAD, questions, paragraphs)
    if whole is not None and not isinstance(whole, dict):
        raise BadInputError(f"dataset {path} holds one JSON {type(whole).__name__}; {_EXPECTED}")
    return Dataset(path, JSONL, _jsonl(text, path))


def _fail(path: Path, where: str, problem: str) -> BadInputError:
    return BadInputError(f"dataset {path}, {where}: {problem}; {_EXPECTED}")


def _answers(value: Any, path: Path, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise _fail(path, where, '"answers" must be a list of strings ([] when there is no answer)')
    return value


def _history(value: Any, path: Path, where: str) -> list[dict]:
    ok = isinstance(value, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in value
    )
    if not ok:
        raise _fail(path, where, '"history" must be a list of {"role", "content"} messages')
    return value


def _jsonl(text: str, path: Path) -> list[Question]:
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(path, where, f"not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise _fail(path, where, "expected a JSON object")
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise _fail(path, where, 'missing "question" (a non-empty string)')
        if "answers" not in row:
            raise _fail(path, where, 'missing "answers"')
        answers = _answers(row["answers"], path, where)
        if row.get("unanswerable") and answers:
            raise _fail(path, where, '"unanswerable": true but "answers" is not empty')
        qid = str(row.get("id", f"line-{number}"))
        if qid in seen:
            raise _fail(path, where, f"the id {qid!r} is used twice")
        seen.add(qid)
        questions.append(
            Question(
                id=qid,
                question=question,
                answers=answers,
                type=str(row.get("type") or ""),
                history=_history(row.get("history") or [], path, where),
            )
        )
    if not questions:
        raise BadInputError(f"dataset {path} has no questions; {_EXPECTED}")
    return questions


def _squad(data: dict, path: Path) -> tuple[list[Question], list[Paragraph]]:
    try:
        parsed, paragraphs = parse_squad(data)
    except SquadFormatError as exc:
        raise _fail(path, exc.where, exc.problem) from exc
    if not parsed:
        raise BadInputError(f"dataset {path} has no questions; {_EXPECTED}")
    questions = [Question(q.id, q.question, q.answers, context=q.context, title=q.title) for q in parsed]
    return questions, paragraphs


__all__ = ["JSONL", "SQUAD", "Dataset", "Paragraph", "Question", "load_dataset"]
