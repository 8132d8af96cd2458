"""Answers as chat messages: the short answer first, then its evidence in a collapsed "thought".

Passages come from user documents and may contain markup: every passage is HTML-escaped before the
answer span is wrapped in `<mark>`, and the whole passage is emitted as one HTML block (no blank
line inside) so the chat's markdown renderer leaves its `*`, `_` and `#` alone.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

from qa import Answer, Source
from qa.answer import UNSURE, UNSURE_TEXT

CLOSEST_SHOWN = 3  # passages shown when the assistant abstains

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$&])")


def markdown_text(text: str) -> str:
    """`text` shown literally by a markdown renderer (no emphasis, links, tags or maths)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _html_lines(text: str) -> str:
    """Escaped text with line breaks as <br>, on one line (one HTML block for markdown)."""
    return "<br>".join(html.escape(line) for line in text.split("\n"))


def highlight(text: str, start: int | None, end: int | None, *, kind: str = "qa-answer") -> str:
    """`text` as escaped HTML with `text[start:end]` in <mark class=kind>; escaped only when there is
    no span."""
    if start is None or end is None or not 0 <= start < end <= len(text):
        return _html_lines(text)
    return (
        _html_lines(text[:start])
        + f'<mark class="{kind}">'
        + _html_lines(text[start:end])
        + "</mark>"
        + _html_lines(text[end:])
    )


def passage_html(source: Source) -> str:
    """One passage as a quoted HTML block, its answer span (if any) highlighted."""
    body = highlight(source.text, source.answer_start, source.answer_end)
    return f'<blockquote class="qa-passage">{body}</blockquote>'


def _searched_for(answer: Answer) -> str:
    if not answer.rewritten_question:
        return ""
    return f'<p class="qa-searched">Searched for: <em>{html.escape(answer.rewritten_question)}</em></p>'


def unsure_html(answer: Answer) -> str | None:
    """A "not sure" reply as one HTML block (class "qa-unsure"): the hedge, the closest sentence with
    the candidate marked (class "qa-candidate"), and its document; None for the other bands."""
    quote, evidence = answer.evidence_quote, answer.evidence
    if answer.band != UNSURE or quote is None or evidence is None:
        return None
    sentence, start, end = quote
    marked = highlight(sentence, start, end, kind="qa-answer qa-candidate")
    also = "".join(
        '<p class="qa-or">or</p>'
        f'<blockquote class="qa-closest qa-alternative">'
        f"{highlight(a.sentence, a.answer_start, a.answer_end, kind='qa-answer qa-candidate')}</blockquote>"
        f'<p class="qa-doc">{html.escape(a.as_source().where)}</p>'
        for a in answer.alternatives
    )
    return (
        f'<div class="qa-unsure"><p class="qa-hedge">{html.escape(UNSURE_TEXT)}</p>'
        f'<blockquote class="qa-closest">{marked}</blockquote>'
        f'<p class="qa-doc">{html.escape(evidence.where)}</p>{also}</div>'
    )


def evidence_message(answer: Answer, *, open_: bool = False) -> dict:
    """The collapsible element under an answer (closed unless `open_`): the source passage with the
    answer (or an unsure reply's candidate) highlighted, its document and score; for an abstention,
    the closest passages looked at."""
    status = {} if open_ else {"status": "done"}  # "done" starts the element closed
    evidence = answer.evidence
    if evidence is not None and not answer.no_answer:
        title = "Closest passage" if answer.band == UNSURE else "Source"
        return {
            "role": "assistant",
            "content": _searched_for(answer) + passage_html(evidence),
            "metadata": {
                "title": f"{title}: {markdown_text(evidence.where)}",  # a name is text, never markup
                "log": f"score {answer.score:.2f}",
                **status,
            },
        }
    closest = answer.sources[:CLOSEST_SHOWN]
    if not closest:
        body = "<p>No passage came close.</p>"
    else:
        body = "".join(
            f'<p class="qa-doc"><strong>{html.escape(s.where)}</strong> · relevance {s.score:.2f}</p>'
            + passage_html(s)
            for s in closest
        )
    return {
        "role": "assistant",
        "content": _searched_for(answer) + body,
        "metadata": {
            "title": f"Closest passages ({len(closest)})",
            "log": f"score {answer.score:.2f}",
            **status,
        },
    }


def collection_line(answer: Answer) -> str:
    """The small line under an answer that says which collection answered."""
    name = html.escape(getattr(answer, "collection", "") or "")
    return f'<p class="qa-collection">from collection <strong>{name}</strong></p>'


def answer_messages(answer: Answer, *, open_: bool = False, labelled: bool = False) -> list[dict]:
    """The chat messages for one answer: the short answer (for "not sure", the hedge and the closest
    sentence; `labelled`: then the collection that answered), then its evidence."""
    content = unsure_html(answer) or markdown_text(answer.display_text)
    if labelled:
        content = f"{content}\n\n{collection_line(answer)}"
    short = {"role": "assistant", "content": content}
    return [short, evidence_message(answer, open_=open_)]


def turn_messages(
    question: str, reply: Answer | str, *, latest: bool = False, labelled: bool = False
) -> list[dict]:
    """One exchange; `reply` is an Answer or an error message for the person asking. The latest
    answer shows its evidence open; earlier ones are closed so the chat stays readable. `labelled`:
    each answer says which collection answered (when the person has more than one)."""
    messages = [{"role": "user", "content": markdown_text(question)}]
    if isinstance(reply, Answer):
        return messages + answer_messages(reply, open_=latest, labelled=labelled)
    return [*messages, {"role": "assistant", "content": markdown_text(reply)}]


def collection_choices(collections: list) -> list[tuple[str, str]]:
    """The collection picker's (label, name) choices: the name, and "read-only" where the person
    may not add or remove documents (`qa.CollectionInfo`s, as the assistant lists them)."""
    return [(c.name if c.writable else f"{c.name} (read-only)", c.name) for c in collections]


def document_rows(documents: dict[str, int]) -> list[list]:
    """The document list: [name, passages], by name."""
    return [[name, count] for name, count in sorted(documents.items(), key=lambda kv: kv[0].lower())]


def _quoted(source: Source) -> str:
    """A passage as a Markdown quote, its answer span (if any) in bold; the text shown literally."""
    text, start, end = source.text, source.answer_start, source.answer_end
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = f"{markdown_text(text[:start])}**{markdown_text(text[start:end])}**{markdown_text(text[end:])}"
    else:
        body = markdown_text(text)
    return "\n".join("> " + line for line in body.split("\n"))


def markdown_reply(answer: Answer) -> str:
    """One answer as Markdown, for chat clients and agents: the answer, then the source passage with
    the answer in bold and its document; for "not sure", the hedge with the candidate, then the
    closest sentence with it in bold and its document; for an abstention, the closest passages."""
    lines = [markdown_text(answer.display_text), ""]
    evidence, quote = answer.evidence, answer.evidence_quote
    if answer.band == UNSURE and evidence is not None and quote is not None:
        sentence, start, end = quote
        quoted = _quoted(replace(evidence, text=sentence, answer_start=start, answer_end=end))
        lines += [quoted, "", f"Document: *{markdown_text(evidence.where)}*"]
        for also in (a.as_source() for a in answer.alternatives):
            lines += ["", "Or:", "", _quoted(also), "", f"Document: *{markdown_text(also.where)}*"]
        return "\n".join(lines)
    if evidence is not None and not answer.no_answer:
        return "\n".join([*lines, _quoted(evidence), "", f"Source: *{markdown_text(evidence.where)}*"])
    closest = answer.sources[:CLOSEST_SHOWN]
    if not closest:
        return "\n".join([*lines, "No passage came close."])
    lines.append("Closest passages:")
    for source in closest:
        lines += ["", _quoted(source), "", f"*{markdown_text(source.where)}*"]
    return "\n".join(lines)
