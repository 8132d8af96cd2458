"""Plain text (.txt) and Markdown (.md): UTF-8, or UTF-16/32 with a byte-order mark. Markdown is read
as text (index.markdown), a section per heading."""

from __future__ import annotations

import re

from index.formats.guard import Guard, Section
from index.formats.sniff import decode_text

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _decoded(data: bytes, guard: Guard) -> str:
    text = decode_text(data)
    if text is None:
        raise guard.refuse("content is binary, or text in neither UTF-8 nor UTF-16 with a byte-order mark")
    return guard.text(text)


def read_text(data: bytes, guard: Guard) -> list[Section]:
    return [Section(_decoded(data, guard))]


def headings(markdown: str) -> list[str]:
    """The text of the ATX headings of Markdown source, outside code fences, in order."""
    found: list[str] = []
    fenced = False
    for raw in markdown.split("\n"):
        if _FENCE.match(raw):
            fenced = not fenced
        match = None if fenced else _HEADING.match(raw)
        if match:
            found.append(
                re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(2))
                .replace("*", "")
                .replace("`", "")
                .strip()
            )
    return found


def by_headings(text: str, headings: list[str]) -> list[Section]:
    """`text` cut before each line that is the next heading; a section is located by its heading
    (a heading not found as a line leaves its text in the section before)."""
    sections: list[Section] = []
    lines: list[str] = []
    location: str | None = None
    waiting = list(reversed(headings))
    for raw in text.split("\n"):
        if waiting and raw.strip() == waiting[-1]:
            if "".join(lines).strip():
                sections.append(Section("\n".join(lines), location))
            lines, location = [], f"section “{waiting.pop()}”"
        lines.append(raw)
    if "".join(lines).strip():
        sections.append(Section("\n".join(lines), location))
    return sections


def read_markdown(data: bytes, guard: Guard) -> list[Section]:
    from index.markdown import markdown_text  # the one Markdown-to-text the index has

    source = _decoded(data, guard)
    return by_headings(markdown_text(source), headings(source))
