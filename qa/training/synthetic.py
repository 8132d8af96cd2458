"""Synthetic questions from plain text, to pre-train a reader before the few real questions.

Rule-based cloze questions (no parser, no model): in each sentence, a candidate answer (a date, a
number with its noun, a run of capitalised words) is cut out, the words around it become the question,
led by a wh-word that fits the answer's type, with some words dropped and neighbours swapped so the
reader must match meaning rather than copy the sentence ("noisy cloze", as in Lewis et al. 2019,
"Unsupervised Question Answering by Cloze Translation"). The answer is an exact span of the context.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Sequence

from index.splitting import split_sentences
from qa.training.squad import SquadQuestion

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})(?:\s+\d{{1,2}})?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+(?:{_MONTHS})(?:\s+\d{{4}})?"
    r"|(?:1[0-9]|20)\d{2}s?)\b"
)
_NUMBER = re.compile(
    r"(?<![\w.])(?:\$\s?)?\d+(?:[,.]\d+)*%?(?:\s+(?:percent|per cent|million|billion|thousand|hundred))?"
    r"(?:\s+([a-z][a-z-]+))?"
)
# fmt: off
_NOT_NOUNS = {  # words after a number that are not what it counts
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "into", "by", "for", "from", "with",
    "as", "is", "was", "were", "are", "be", "been", "that", "which", "who", "than", "compared", "after",
    "before", "but", "per", "when", "while", "where", "it", "its", "their", "his", "her",
}
# fmt: on
_CAPS = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:(?:of|the|and|de|du|von|van)\s+)?[A-Z][\w'’-]*)*")
_PLACE_WORDS = re.compile(
    r"\b(?:University|River|War|Company|Empire|Church|Kingdom|Republic|Party|Act|Council|Museum|Street|"
    r"Sea|Ocean|Island|Islands|Mountains|City|State|States|Union|Institute|Army|Navy|Court|Bank)\b"
)
_WORD = re.compile(r"\S+")
_START_WORDS = {"The", "A", "An", "In", "On", "At", "It", "This", "These", "Its", "He", "She", "They"}


def _candidates(sentence: str) -> list[tuple[int, int, str]]:
    """(start, end, wh-word) of answer candidates in the sentence, not overlapping each other."""
    found: list[tuple[int, int, str]] = []

    def add(start: int, end: int, wh: str) -> None:
        if end - start < 2 or any(s < end and start < e for s, e, _ in found):
            return
        found.append((start, end, wh))

    for m in _DATE.finditer(sentence):
        add(m.start(), m.end(), "When")
    for m in _NUMBER.finditer(sentence):
        end, noun = m.end(), m.group(1)
        if noun in _NOT_NOUNS:
            end, noun = m.start(1), None
        text = sentence[m.start() : end].rstrip(",. ")
        wh = "How many" if noun else "How much" if "$" in text else "What"
        add(m.start(), m.start() + len(text), wh)
    for m in _CAPS.finditer(sentence):
        text = re.sub(r"['’]s?$", "", m.group())
        start = m.start()
        if start == 0:  # the sentence's first word is capitalised anyway: drop a plain first word
            first, _, rest = text.partition(" ")
            if not rest:
                continue
            if first in _START_WORDS:
                text, start = rest, len(first) + 1
        if text in _START_WORDS or len(text) < 3:
            continue
        words = text.split()
        wh = "What" if _PLACE_WORDS.search(text) or len(words) == 1 else "Who"
        add(start, start + len(text), wh)
    return sorted(found)


def _noisy(words: list[str], rng: random.Random, drop: float = 0.1, swap: float = 0.05) -> list[str]:
    kept = [w for w in words if rng.random() >= drop] or words[:1]
    for i in range(len(kept) - 1):
        if rng.random() < swap:
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
    return kept


def cloze_question(sentence: str, start: int, end: int, wh: str, rng: random.Random, window: int = 9) -> str:
    """The words around the answer (at most `window` each side), noised, led by `wh`."""
    left = _WORD.findall(sentence[:start])[-window:]
    right = _WORD.findall(sentence[end:])[:window]
    words = _noisy([w.strip(',;:“”"()') for w in left + right], rng)
    words = [w for w in words if w]
    return " ".join([wh, *words]).rstrip(" .!?") + "?"


def synthetic_questions(
    contexts: Iterable[tuple[str, str]],
    *,
    seed: int = 42,
    per_sentence: int = 2,
    negatives: float = 0.2,
    limit: int | None = None,
) -> list[SquadQuestion]:
    """Cloze questions over (title, context) pairs. Each is asked on its own sentence, sometimes with
    the next one; with probability `negatives` it is also asked on another sentence of the same text
    that does not hold the answer, as a no-answer example."""
    rng = random.Random(seed)
    out: list[SquadQuestion] = []
    for title, context in contexts:
        spans = split_sentences(context)
        for k, span in enumerate(spans):
            sentence = context[span.start : span.end]
            if not 6 <= len(sentence.split()) <= 60:
                continue
            options = _candidates(sentence)
            rng.shuffle(options)
            for start, end, wh in options[:per_sentence]:
                question = cloze_question(sentence, start, end, wh, rng)
                if len(question.split()) < 4:
                    continue
                answer = sentence[start:end]
                qid = hashlib.sha1(f"{title}|{span.start}|{start}".encode()).hexdigest()[:16]
                stop = spans[k + 1].end if k + 1 < len(spans) and rng.random() < 0.5 else span.end
                window = context[span.start : stop]
                out.append(SquadQuestion(qid, question, [answer], [start], window, title))
                others = [s for s in spans if s is not span and answer not in context[s.start : s.end]]
                if others and rng.random() < negatives:
                    other = rng.choice(others)
                    out.append(
                        SquadQuestion(qid + "/neg", question, [], [], context[other.start : other.end], title)
                    )
    rng.shuffle(out)
    return out[:limit] if limit else out


def contexts_of(questions: Sequence[SquadQuestion]) -> list[tuple[str, str]]:
    """The distinct (title, context) pairs of SQuAD questions."""
    seen: dict[str, str] = {}
    for q in questions:
        seen.setdefault(q.context, q.title)
    return [(title, context) for context, title in seen.items()]


_KEY = re.compile(r"\b(?:[A-Z][\w'’-]+|\d[\d,.]*)\b")


def swapped_questions(
    questions: Sequence[SquadQuestion], *, share: float = 0.1, seed: int = 42
) -> list[SquadQuestion]:
    """Unanswerable questions made as SQuAD 2.0's annotators made theirs: one key word of an answerable
    question (a name or a number that its context holds) swapped for another of the same kind from
    its article that the context does not hold, asked on the same context, as no-answer."""
    rng = random.Random(seed)
    keys: dict[str, dict[bool, set[str]]] = {}
    for q in questions:
        found = keys.setdefault(q.title, {True: set(), False: set()})
        for word in _KEY.findall(q.context):
            found[word[0].isdigit()].add(word)
    out: list[SquadQuestion] = []
    for q in questions:
        if not q.answerable or rng.random() >= share:
            continue
        words = [m for m in _KEY.finditer(q.question) if m.start() > 0 and m.group() in q.context]
        if not words:
            continue
        word = rng.choice(words)
        pool = sorted(
            w for w in keys[q.title][word.group()[0].isdigit()] if w not in q.context and w not in q.question
        )
        if not pool:
            continue
        question = q.question[: word.start()] + rng.choice(pool) + q.question[word.end() :]
        out.append(SquadQuestion(q.id + "/swap", question, [], [], q.context, q.title))
    return out
