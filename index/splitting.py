"""Offline sentence splitting and passage building, with character offsets into the source text.

A rule-based splitter (no NLTK download): a sentence ends at `.`, `!` or `?` (optionally followed by
closing quotes or brackets) before white space and an upper-case letter, digit or opening quote, unless
the word before the stop is a known abbreviation or a single capital initial. Paragraph breaks (a blank
line or a line break) always end a sentence.

Passages are bounded whatever the text: a "sentence" longer than `max_chars` (a file with no
sentence end, a PDF table read as one line) is cut into near-equal pieces of at most `max_chars`,
at white space where there is some, else between characters.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "gov", "sen", "rep", "col", "lt",
    "sgt", "capt", "cmdr", "adm", "rev", "hon", "pres", "vs", "etc", "inc", "ltd", "co", "corp", "no",
    "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g",
    "i.e", "u.s", "u.k", "u.n", "a.m", "p.m", "approx", "dept", "est", "vol",
}  # fmt: skip
# Linear on any input: a stop run is only tried where it starts (the lookbehind), and taken whole
# (possessive quantifiers), so a run of 30,000 dots is one failed attempt, not 30,000 backtracking ones.
_STOP = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_BREAK = re.compile(r"\n\s*")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class PassageSpan:
    start: int
    end: int
    sentences: int


def _is_abbreviation(text: str, stop_at: int) -> bool:
    if text[stop_at] != ".":
        return False
    word_start = stop_at
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:stop_at].strip("\"'“‘([").lower()
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha() and text[word_start:stop_at].strip("\"'“‘([").isupper()


def split_sentences(text: str) -> list[Span]:
    """Character spans of the sentences in `text`, stripped of surrounding white space."""
    cuts = {0, len(text)}
    for m in _BREAK.finditer(text):
        cuts.add(m.end())
    for m in _STOP.finditer(text):
        if not _is_abbreviation(text, m.start()):
            cuts.add(m.end())
    spans = []
    bounds = sorted(cuts)
    for a, b in itertools.pairwise(bounds):
        piece = text[a:b]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right > left and _has_word(piece, Span(0, len(piece))):
            spans.append(Span(a + left, a + right))
    return spans


def sentences_around(text: str, start: int, end: int) -> Span:
    """The sentence(s) of `text` that hold the characters start..end (all of `text` when none does):
    the evidence a person reads around an answer."""
    hit = [s for s in split_sentences(text) if s.start < end and s.end > start]
    return Span(hit[0].start, hit[-1].end) if hit else Span(0, len(text))


def _cut(text: str, span: Span, max_chars: int) -> list[Span]:
    """`span` in near-equal pieces of at most `max_chars`, cut after white space where there is
    some in the second half of a piece, else between characters; pieces stripped of white space."""
    pieces: list[Span] = []
    start = span.start
    while span.end - start > max_chars:
        parts = -(-(span.end - start) // max_chars)  # pieces still needed
        size = -(-(span.end - start) // parts)  # <= max_chars
        space = text.rfind(" ", start + size // 2, start + size)
        end = space if space > start else start + size
        while end - 1 > start and text[end - 1].isspace():
            end -= 1
        pieces.append(Span(start, end))
        start = end
        while start < span.end and text[start].isspace():
            start += 1
    if start < span.end:
        pieces.append(Span(start, span.end))
    # a piece of punctuation alone (a run of 30,000 dots cut up) is no passage
    return [p for p in pieces if p.end > p.start and _has_word(text, p)]


def _has_word(text: str, span: Span) -> bool:
    return any(ch.isalnum() for ch in text[span.start : span.end])


def bounded_sentences(text: str, max_chars: int) -> list[Span]:
    """`split_sentences`, with every sentence longer than `max_chars` cut into pieces that fit."""
    if max_chars < 1:
        raise ValueError("need max_chars >= 1")
    spans: list[Span] = []
    for span in split_sentences(text):
        spans.extend(_cut(text, span, max_chars) if span.end - span.start > max_chars else [span])
    return spans


def build_passages(
    text: str, *, max_sentences: int = 3, overlap: int = 1, max_chars: int = 600
) -> list[PassageSpan]:
    """Windows of up to `max_sentences` consecutive sentences, `overlap` shared with the next.

    A window stops early when it would pass `max_chars`, so no passage is longer than that: a single
    sentence longer than `max_chars` is cut into pieces (`bounded_sentences`), each its own sentence.
    """
    if max_sentences < 1 or not 0 <= overlap < max_sentences:
        raise ValueError("need max_sentences >= 1 and 0 <= overlap < max_sentences")
    sentences = bounded_sentences(text, max_chars)
    passages: list[PassageSpan] = []
    i = 0
    while i < len(sentences):
        j = i + 1
        while (
            j < len(sentences)
            and j - i < max_sentences
            and sentences[j].end - sentences[i].start <= max_chars
        ):
            j += 1
        passages.append(PassageSpan(sentences[i].start, sentences[j - 1].end, j - i))
        if j >= len(sentences):
            break
        i = max(i + 1, j - overlap)
    return passages
