"""Web pages (.html, .htm): Haystack's HTMLToDocument (trafilatura) keeps the main text, without
menus, scripts and footers; it writes Markdown, so the page is cut into sections at its headings."""

from __future__ import annotations

import re

from index.formats.guard import Guard, Section
from index.formats.sniff import decode_text

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_ENTITY = re.compile(r"<!\s*ENTITY", re.IGNORECASE)


def _plain(line: str) -> str:
    """A line of trafilatura's Markdown as text: no emphasis marks, links as their text, a table row
    as its cells with '; ' between them."""
    line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)
    line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"(\*\*|__|`)", "", line)
    if line.startswith("|") and line.rstrip().endswith("|"):
        line = "; ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
    return re.sub(r"^\s*[-*+]\s+", "", line)


def markdown_sections(markdown: str, where: str = "section") -> list[Section]:
    """Markdown text cut at its headings, as text, each section located by its heading."""
    sections: list[Section] = []
    lines: list[str] = []
    location: str | None = None
    for raw in markdown.split("\n"):
        heading = _HEADING.match(raw)
        if heading:
            if any(x.strip() for x in lines):
                sections.append(Section("\n".join(lines), location))
            lines, location = [], f"{where} “{_plain(heading.group(1)).strip()}”"
            lines.append(_plain(heading.group(1)))
        elif not _RULE.match(raw):
            lines.append(_plain(raw))
    if any(x.strip() for x in lines):
        sections.append(Section("\n".join(lines), location))
    return sections


def read_html(data: bytes, guard: Guard) -> list[Section]:
    from haystack.components.converters import HTMLToDocument
    from haystack.dataclasses import ByteStream

    text = decode_text(data)
    if text is None:
        raise guard.refuse("content is binary, not a web page; skipped")
    if _ENTITY.search(text):
        raise guard.refuse("declares entities (<!ENTITY), which a web page never needs; skipped", "unsafe")
    converter = HTMLToDocument(extraction_kwargs={"output_format": "markdown", "include_comments": False})
    documents = converter.run(sources=[ByteStream(data=text.encode("utf-8"))])["documents"]
    guard.check_time()
    if not documents or not (documents[0].content or "").strip():
        raise guard.refuse("no main text found in this web page; skipped", "no text")
    return markdown_sections(guard.text(documents[0].content or ""))
