"""Plain text (.txt) and Markdown (.md): UTF-8, or UTF-16/32 with a byte-order mark. Markdown is read
as text (index.reading's `_strip_markdown`), one section per heading."""

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


def heading_sections(markdown: str) -> list[tuple[str, str | None]]:
    """Markdown source cut before each ATX heading outside code fences: (source, heading text)."""
    parts: list[tuple[str, str | None]] = []
    lines: list[str] = []
    heading: str | None = None
    fenced = False
    for raw in markdown.split("\n"):
        if _FENCE.match(raw):
            fenced = not fenced
        match = None if fenced else _HEADING.match(raw)
        if match:
            if "".join(lines).strip():
                parts.append(("\n".join(lines), heading))
            lines, heading = [], re.sub(r"[*_`]", "", match.group(2)).strip()
        lines.append(raw)
    if "".join(lines).strip():
        parts.append(("\n".join(lines), heading))
    return parts


def read_markdown(data: bytes, guard: Guard) -> list[Section]:
    from index.reading import _strip_markdown  # the one Markdown-to-text the index has

    return [
        Section(_strip_markdown(source), f"section “{heading}”" if heading else None)
        for source, heading in heading_sections(_decoded(data, guard))
    ]
