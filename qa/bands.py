"""The three bands of a reply: sure, unsure (the closest sentence, for a person to judge), none.

A yes/no threshold on one answerability probability must either refuse easy questions or answer
impossible ones. Here the decision has two questions instead:

- Is the best candidate right? A logistic model over the reader's signals for each of its candidate
  spans, and over what a person checks: does the kind of span fit the question (a date for "when", a
  number for "how many"), does it only repeat the question's words, do the other candidates agree.
  The candidate it rates highest is the answer; at or above `sure` it is given as sure.
- Is anything retrieved close to the question at all? Below `close` (the best sentence's word
  overlap plus cosine similarity) the reply is "the documents don't say"; between the two it is
  "not sure, the closest the documents come is ...".

The weights and both thresholds live beside the reader as `bands.json`, fitted on the calibration
half of the project's own documents (`python -m qa.training.bands`); without that file the reader's
answerability probability stands in for the model.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from index.keyword import STOPWORDS, tokenize, word_overlap
from index.splitting import sentences_around
from qa.errors import ConfigError
from qa.verifier import FOLDER as VERIFIER_FOLDER
from qa.verifier import load as load_verifier

FILE = "bands.json"
FEATURES = (
    "rank_score",  # the reader's margin over "no answer" on its sentence, squashed to 0-1
    "span_score",  # the span's own probability
    "sentence_score",  # how close its sentence is to the question (word overlap + cosine)
    "dense_score",  # its passage's cosine similarity to the question
    "kind_fit",  # 1: the span is the kind the question asks for; 0: it contradicts it; 0.5: can't tell
    "echo",  # share of the span's words that are the question's own
    "agreement",  # share of the candidates' score on spans that hold or sit in this one
    "lead",  # how far its score stands above the best competing candidate's (one not inside or around it)
    "reader_rank",  # 1 / (1 + its place in the reader's own ranking)
    "sentence_overlap",  # share of the question's content words in the sentence it came from
    "span_words",  # its length in words, up to 10, over 10
    "verifier",  # the verifier's logit for the span in its sentence (qa/verifier.py; 0 without one)
)

_MONTHS = (  # "may" only beside a number ("3 May", "May 2024"): "you may cancel" is no date
    r"january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|\d{1,2}\s+may|may\s+\d{1,4}"
)
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekday|weekend|noon|midnight"
_TIME = re.compile(
    rf"\b({_MONTHS}|{_DAYS}|spring|summer|autumn|fall|winter|morning|evening|night|today|tomorrow|"
    r"yesterday|year|years|week|weeks|month|months|day|days|hour|hours|minute|minutes|"
    r"(1[89]|20)\d\d|\d{1,2}:\d\d|\d{1,2}\s*(am|pm|a\.m\.|p\.m\.))(?!\w)",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    "fifty|hundred|thousand|million|billion|half|dozen|once|twice|percent"
)
_NUMBER = re.compile(rf"(\d|\b({_NUMBER_WORDS})\b|[%£$€¥])", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]")
_EITHER_OR = re.compile(r"\bor\b", re.IGNORECASE)  # ...unless it picks one of two the question names


def question_kind(question: str) -> str:
    """What the question asks for: when | number | who | where | other."""
    q = " " + " ".join(re.findall(r"\w+", question.lower())) + " "  # tokenize() drops the wh-words
    if re.search(r" (how (many|much|long|old|often|far|big|large|tall|heavy)|what (percentage|share|"
                 r"proportion|number|amount|price|fee|cost)) ", q):  # fmt: skip
        return "number"
    if re.search(r" (when|what (year|date|day|time|month)|which (year|date|day|month)|by when) ", q):
        return "when"
    if re.search(r" (who|whom|whose) ", q):
        return "who"
    if re.search(r" where ", q):
        return "where"
    return "other"


def span_kind(span: str) -> str:
    """What a span looks like: time | number | name | words."""
    if _TIME.search(span):
        return "time"
    if _NUMBER.search(span):
        return "number"
    if _CAPITALISED.search(span):
        return "name"
    return "words"


_FITS = {  # question kind -> span kinds that answer it, and kinds that cannot
    "when": ({"time"}, {"name", "words"}),
    "number": ({"number", "time"}, {"name", "words"}),
    "who": ({"name", "words"}, {"time", "number"}),
    "where": ({"name", "words"}, {"time", "number"}),
}


def kind_fit(question: str, span: str) -> float:
    fits = _FITS.get(question_kind(question))
    if fits is None:
        return 0.5
    kind = span_kind(span)
    return 1.0 if kind in fits[0] else 0.0 if kind in fits[1] else 0.5


def echo(question: str, span: str) -> float:
    """The share of the span's content words that the question already holds (1: it only repeats it)."""
    words = [w for w in tokenize(span) if w not in STOPWORDS]
    if not words:
        return 1.0
    asked = set(tokenize(question))
    return sum(w in asked for w in words) / len(words)


@dataclass(frozen=True)
class Candidate:
    """One span the reader proposes, with what the decision weighs."""

    answer: Any  # the reader's ExtractedAnswer
    values: dict[str, float]
    sentence: str  # the sentence(s) of its passage that hold the span: the evidence a person reads
    probability: float = 0.0
    span: tuple[int, int] = (0, 0)  # the span's offsets in `sentence` (qa.bands.quote)


# The verifier reads the reader's VERIFIED best candidates only: each costs as much as reading a
# sentence (all 8 cost 49-72 ms p50 here), and on the own-documents set 2 kept what 8 gave (docs/reader.md).
# The others get UNVERIFIED, about the 10th percentile of its logits there: the reader's third
# choice is rarely right.
VERIFIED = 2
UNVERIFIED = -4.0
ALTERNATIVE_SHARE = 0.1  # a "not sure" reply's runners-up are shown when at least this share as likely
# ... at most this many, each from another sentence: two put the answer in view a little more often
# (held-out half 80.8 -> 81.2, calibration half 81.9 -> 84.2, article set 83.5 either way), but the
# example question's reply then no longer fits a laptop's chat window (docs/evaluation.md)
RUNNERS_UP = 1


def quote(answer: Any) -> tuple[str, int, int]:
    """(sentence, start, end): the sentence(s) of the answer's passage that hold the span, and the
    span's offsets in it."""
    text = answer.document.content or ""
    span = answer.document_offset
    if span is None:
        return text, 0, len(text)
    around = sentences_around(text, span.start, span.end)
    return text[around.start : around.end], span.start - around.start, span.end - around.start


def alternatives(
    rated: Sequence[tuple[float, str]], share: float = ALTERNATIVE_SHARE, most: int = RUNNERS_UP
) -> list[int]:
    """Which of `rated` ((probability, sentence), best first) a "not sure" reply shows after the best:
    the next `most` from other sentences (one each), those at least `share` as likely as the best.
    On the own-documents set's held-out half, a right sure answer or the best candidate's sentence put
    a gold answer in view for 67.9% of the answerable questions, with one runner-up's 80.8%
    (docs/evaluation.md)."""
    if not rated:
        return []
    best, sentence = rated[0]
    shown: list[int] = []
    seen = {sentence}
    for i, (probability, other) in enumerate(rated[1:], start=1):
        if len(shown) == most or probability < share * best:
            break
        if other not in seen:
            seen.add(other)
            shown.append(i)
    return shown


def _squash(margin: float, factor: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, margin * factor))))


def candidates(
    question: str, answers: Sequence[Any], factor: float = 1.0, verifier: Any = None
) -> list[Candidate]:
    """The reader's answers with their signals, those that only repeat the question left out;
    `verifier` (qa/verifier.py), when given, rates the reader's VERIFIED best spans in their sentences."""
    found = [a for a in answers if a.data and a.data.strip() and a.document is not None]
    # the question as the reader read it (typos put right, qa/phrasing.py), when it says
    question = next((str(a.meta["question"]) for a in found if a.meta.get("question")), question)
    asked = {w for w in tokenize(question) if w not in STOPWORDS}
    ranks = [_squash(float(a.meta.get("null_margin", 0.0)), factor) for a in found]
    total = sum(ranks) or 1.0
    out: list[Candidate] = []
    for i, a in enumerate(found):
        span = a.data.strip()
        repeated = echo(question, span)
        if repeated >= 1.0 and not _EITHER_OR.search(question):
            continue  # a span that only repeats the question's words is never an answer...
        low = span.lower()
        agreeing = sum(
            r for b, r in zip(found, ranks, strict=True) if low in b.data.lower() or b.data.lower() in low
        )
        # the competitors: spans that neither hold this one nor sit in it ("10 Europeans" backs up
        # "10 Europeans and four institutions", it does not compete with it)
        others = [
            r
            for b, r in zip(found, ranks, strict=True)
            if low not in b.data.lower() and b.data.lower() not in low
        ]
        sentence, start, end = quote(a)
        out.append(
            Candidate(
                a,
                {
                    "rank_score": ranks[i],
                    "span_score": float(a.score or 0.0),
                    "sentence_score": float(a.meta.get("sentence_score", 0.0)),
                    "dense_score": float(a.document.meta.get("dense_score", 0.0)),
                    "kind_fit": kind_fit(question, span),
                    "echo": repeated,
                    "agreement": agreeing / total,
                    "lead": ranks[i] - (max(others) if others else 0.0),
                    "reader_rank": 1.0 / (1 + i),
                    "sentence_overlap": word_overlap(asked, sentence),
                    "span_words": min(len(span.split()), 10) / 10,
                    "verifier": 0.0,
                },
                sentence,
                span=(start, end),
            )
        )
    if verifier is not None:
        for candidate in out:
            candidate.values["verifier"] = UNVERIFIED
        logits = verifier.logits(question, [(c.sentence, *c.span) for c in out[:VERIFIED]])
        for candidate, logit in zip(out[:VERIFIED], logits, strict=True):
            candidate.values["verifier"] = logit
    return out


@dataclass(frozen=True)
class BandModel:
    """P(the candidate is right) = sigmoid(bias + weights . features); sure at or above `sure`; "none"
    when the closest sentence scores below `close`."""

    weights: tuple[float, ...] | None = None
    bias: float = 0.0
    sure: float = 0.5
    close: float = 0.0
    features: tuple[str, ...] = FEATURES

    def probability(self, values: dict[str, float], fallback: float) -> float:
        if self.weights is None:
            return fallback
        z = self.bias + sum(w * values[n] for w, n in zip(self.weights, self.features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def rate(self, found: list[Candidate], fallback: Sequence[float]) -> list[Candidate]:
        """`found` with their probabilities, best first (`fallback`: the probability of each without
        a fitted model, e.g. the reader's answerability; then the reader's order stands)."""
        rated = [
            replace(c, probability=self.probability(c.values, f))
            for c, f in zip(found, fallback, strict=True)
        ]
        if self.weights is None:
            return rated  # the earlier decision: the reader's own best first, judged by its probability
        return sorted(rated, key=lambda c: -c.probability)

    def band(self, probability: float, closeness: float) -> str:
        if probability >= self.sure:
            return "sure"
        return "unsure" if closeness >= self.close else "none"

    @classmethod
    def load(cls, model_dir: str | Path | None, sure: float) -> BandModel:
        """The reader's bands.json; without one, the reader's own threshold decides sure vs none."""
        path = Path(model_dir) / FILE if model_dir else None
        if path is None or not path.is_file():
            return cls(sure=sure, close=math.inf)
        refit = "refit with `python -m qa.training.bands`"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            names = tuple(data["features"])
            weights = tuple(float(w) for w in data["weights"])
            model = cls(weights, float(data["bias"]), float(data["sure"]), float(data["close"]), names)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: not a band model ({type(exc).__name__}: {exc}); {refit}") from exc
        unknown = sorted(set(names) - set(FEATURES))
        if unknown:
            raise ConfigError(f"{path}: unknown signals {unknown}; {refit}")
        if len(weights) != len(names):
            raise ConfigError(f"{path}: {len(weights)} weights for {len(names)} signals; {refit}")
        if "verifier" in names and load_verifier(model_dir) is None:
            raise ConfigError(
                f"{path} weighs the verifier's opinion but {path.parent / VERIFIER_FOLDER} holds no "
                f"verifier; put it back (`python -m qa.training.verifier`) or {refit}"
            )
        return model

    def save(self, model_dir: str | Path, extra: dict | None = None) -> None:
        data = {
            "features": list(self.features),
            "weights": list(self.weights or ()),
            "bias": self.bias,
            "sure": self.sure,
            "close": self.close,
            **(extra or {}),
        }
        (Path(model_dir) / FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
