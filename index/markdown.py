"""Markdown as the text a person reads, through a real parser (markdown-it-py), with bounded work.

Headings, paragraphs, list items, table rows and code keep their own lines; links keep their words,
images and raw HTML go. Paragraph lines wrapped in the file are joined, so a sentence wrapped over two
lines stays one sentence.

markdown-it-py is linear, but its constant is large on markup-dense text (about 25 us a character for
a file of `![`, against 0.5 us for prose). So the file is parsed in pieces of at most PIECE_CHARS (16 KB
of `![` take 0.4 s), cut at blank lines, and once PARSE_BUDGET_S is spent the rest is kept as plain
text: no file, whatever its shape, takes more than a few seconds to read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

PIECE_CHARS = 16 * 1024
PARSE_BUDGET_S = 3.0


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _pieces(text: str, size: int) -> Iterator[str]:
    """`text` in pieces of at most `size` characters, each ending at its last blank line where it
    has one, else at its last line end, else where the size runs out. (A code fence cut in two reads
    as code to the end of the first piece and from the start of the second: its text is kept.)"""
    start = 0
    while len(text) - start > size:
        end = text.rfind("\n\n", start, start + size) + 2
        if end <= start + 2:
            end = text.rfind("\n", start, start + size) + 1
        if end <= start + 1:
            end = start + size
        yield text[start:end]
        start = end
    if start < len(text):
        yield text[start:]


def _inline(token: Any) -> str:
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" " if child.type == "softbreak" else "\n")
    return "".join(parts).strip()


def _blocks(piece: str) -> Iterator[str]:
    """The text blocks of one piece of Markdown, in order; a table row is one block, its cells
    joined by "; "."""
    row: list[str] | None = None
    for token in _parser().parse(piece):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            if row := [cell for cell in row or () if cell]:
                yield "; ".join(row)
            row = None
        elif token.type == "inline":
            text = _inline(token)
            if row is not None:
                row.append(text)
            elif text:
                yield text
        elif token.type in ("fence", "code_block") and token.content.strip():
            yield token.content.strip("\n")


def markdown_text(text: str) -> str:
    """The readable text of a Markdown document, blocks separated by blank lines."""
    blocks: list[str] = []
    deadline = time.monotonic() + PARSE_BUDGET_S
    pieces = _pieces(text, PIECE_CHARS)
    for piece in pieces:
        blocks.extend(_blocks(piece))
        if time.monotonic() > deadline:
            rest = "".join(pieces)
            if rest.strip():
                logger.warning(
                    "markdown: parsing budget of %.0f s spent; the last %d characters are read as plain text",
                    PARSE_BUDGET_S,
                    len(rest),
                )
                blocks.append(rest)
            break
    return "\n\n".join(blocks)
