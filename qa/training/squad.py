"""SQuAD data and metrics: loading the JSON format, answer normalisation, exact match and F1.

The normalisation follows the official SQuAD 2.0 evaluation script: lower case, no punctuation,
no articles, white space folded. An empty gold list means "no answer": the only right prediction
is to abstain (an empty string).
"""

from __future__ import annotations

import collections
import gzip
import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split() if text else []


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    pred, ref = _tokens(prediction), _tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = collections.Counter(pred) & collections.Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_scores(prediction: str | None, golds: list[str]) -> tuple[float, float]:
    """(EM, F1) of a prediction against acceptable answers; no golds means abstaining is right."""
    pred = prediction or ""
    refs = golds or [""]
    return max(exact_match(pred, g) for g in refs), max(f1(pred, g) for g in refs)


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: list[str]
    answer_starts: list[int]
    context: str
    title: str
    history: list[dict] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Paragraph:
    title: str
    number: int  # position within its article
    context: str


class SquadFormatError(ValueError):
    """What is wrong with a SQuAD file, and where (a JSON path such as data[0].paragraphs[3])."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def read_squad_json(path: str | Path) -> Any:
    """The JSON of a SQuAD file, plain or gzipped (`.gz`)."""
    path = Path(path)
    if path.suffix.lower() == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    return json.loads(path.read_text(encoding="utf-8"))


def parse_squad(data: Any) -> tuple[list[SquadQuestion], list[Paragraph]]:
    """Every question and paragraph of SQuAD 1.1/2.0 JSON; SquadFormatError says where it is not."""
    if not isinstance(data, dict) or "data" not in data:
        raise SquadFormatError("(top)", 'expected {"data": [articles]}')
    if not isinstance(data["data"], list):
        raise SquadFormatError("data", "expected a list of articles")
    questions: list[SquadQuestion] = []
    paragraphs: list[Paragraph] = []
    for a, article in enumerate(data["data"]):
        where = f"data[{a}]"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise SquadFormatError(where, 'expected {"title", "paragraphs": [...]}')
        title = str(article.get("title") or f"article-{a}")
        for p, paragraph in enumerate(article["paragraphs"]):
            here = f"{where}.paragraphs[{p}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
                raise SquadFormatError(here, 'expected {"context": str, "qas": [...]}')
            if not isinstance(paragraph.get("qas"), list):
                raise SquadFormatError(here, 'missing "qas" (a list of questions)')
            context = paragraph["context"]
            paragraphs.append(Paragraph(title, p, context))
            for q, qa in enumerate(paragraph["qas"]):
                questions.append(_question(qa, context, title, f"{here}.qas[{q}]"))
    return questions, paragraphs


def _question(qa: Any, context: str, title: str, where: str) -> SquadQuestion:
    if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or not qa["question"].strip():
        raise SquadFormatError(where, 'missing "question"')
    raw = [] if qa.get("is_impossible") else qa.get("answers", [])
    if not isinstance(raw, list) or not all(
        isinstance(x, dict) and isinstance(x.get("text"), str) and isinstance(x.get("answer_start", 0), int)
        for x in raw
    ):
        raise SquadFormatError(where, '"answers" must be a list of {"text", "answer_start"}')
    return SquadQuestion(
        id=str(qa.get("id", where)),
        question=qa["question"],
        answers=[x["text"] for x in raw],
        answer_starts=[x.get("answer_start", context.find(x["text"])) for x in raw],
        context=context,
        title=title,
    )


def load_squad(path: str | Path, titles: set[str] | None = None) -> list[SquadQuestion]:
    """Every question of a SQuAD 1.1/2.0 file (or `.json.gz`), optionally only the named articles'."""
    questions, _ = parse_squad(read_squad_json(path))
    return [q for q in questions if titles is None or q.title in titles]
