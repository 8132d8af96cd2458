"""Reading a sentence in context: one that names its subject only by a pronoun or a description
("She was born in Umea in 1968.", "The town's mayor since 2019 has been ...") is read together with
the sentence before it, so the names the question uses are in what the reader sees."""

from __future__ import annotations

from dataclasses import replace

from haystack import Document
from haystack.dataclasses import ExtractedAnswer

from index.keyword import tokenize, word_overlap
from index.splitting import split_sentences

# first words of a sentence whose subject was named before it
# fmt: off
LEADS = frozenset([
    "he", "she", "it", "they", "his", "her", "its", "their", "him", "them", "this", "these", "those",
    "that", "such", "the", "there", "both",
])
# fmt: on


MAX_BEFORE = 2  # sentences of context at most
LEAD = "context_chars"  # meta key: how many characters of context precede the sentence itself


def needs_context(sentence: str) -> bool:
    """Whether the sentence opens with a pronoun or a definite description."""
    first = sentence.lstrip(" \"'“‘(").split(" ", 1)[0].lower()
    return first in LEADS


def _before(sentence: str, documents: list[Document]) -> tuple[Document, int, int] | None:
    """(passage, start of the context, end of `sentence`) in the first passage that holds `sentence`
    after another one. The context is the sentence before, or more while the one it starts with
    needs context itself ("Her father ..." after "She was born ..."), at most MAX_BEFORE."""
    for doc in documents:
        text = doc.content or ""
        spans = split_sentences(text)
        for k, span in enumerate(spans):
            if k == 0 or text[span.start : span.end] != sentence:
                continue
            first = k - 1
            while first > 0 and k - first < MAX_BEFORE and needs_context(text[spans[first].start :]):
                first -= 1
            return doc, spans[first].start, span.end
    return None


def in_context(
    picked: list[ExtractedAnswer], documents: list[Document], query: str | None = None
) -> list[ExtractedAnswer]:
    """The picked sentences, each that needs it widened to start at the sentence before it: in its
    own passage, or in another retrieved passage that holds it after one (passages overlap). The
    offsets stay offsets into the passage, so answers remain exact spans of what retrieval returned;
    meta[LEAD] says where the sentence itself starts, as answers are taken from it only (the sentence
    before is read on its own when it is picked). With `query`, a widened sentence scores the share
    of the question's words that it and its context hold, when that is more than its own."""
    terms = set(tokenize(query or ""))
    out = []
    for answer in picked:
        sentence = answer.data or ""
        own = [answer.document] if answer.document is not None else []
        widened = _before(sentence, own + documents) if needs_context(sentence) else None
        if widened is None:
            out.append(answer)
            continue
        doc, start, end = widened
        text = doc.content or ""
        out.append(
            replace(
                answer,
                data=text[start:end],
                document=doc,
                document_offset=ExtractedAnswer.Span(start, end),
                meta={**answer.meta, LEAD: end - start - len(sentence)},
                score=max(answer.score, word_overlap(terms, text[start:end])) if query else answer.score,
            )
        )
    return out
