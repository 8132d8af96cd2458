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


def read_squad_json(path: str | Path) -> dict:
    """The JSON of a SQuAD file, plain or gzipped (`.gz`)."""
    path = Path(path)
    if path.suffix.lower() == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    return json.loads(path.read_text(encoding="utf-8"))


def load_squad(path: str | Path, titles: set[str] | None = None) -> list[SquadQuestion]:
    """Every question of a SQuAD 1.1/2.0 file (or `.json.gz`), optionally only the named articles'."""
    data = read_squad_json(path)
    questions = []
    for article in data["data"]:
        if titles is not None and article["title"] not in titles:
            continue
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                questions.append(
                    SquadQuestion(
                        id=qa["id"],
                        question=qa["question"],
                        answers=[a["text"] for a in answers],
                        answer_starts=[a["answer_start"] for a in answers],
                        context=paragraph["context"],
                        title=article["title"],
                    )
                )
    return questions


def squad_titles(path: str | Path) -> list[str]:
    data = read_squad_json(path)
    return [article["title"] for article in data["data"]]
