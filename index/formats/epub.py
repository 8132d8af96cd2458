"""E-books (.epub): Haystack has no converter, so ebooklib reads the book and each chapter (the
spine, in reading order) becomes a section located by its title. DRM-protected books are refused."""

from __future__ import annotations

import io
import re
from typing import Any

from index.formats.guard import MAX_CHAPTERS, Guard, Section, check_zip, line

_BLOCKS = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section",
    "article", "table", "dd", "dt", "figcaption", "hr",
}  # fmt: skip
_DROPPED = ("script", "style", "head", "nav")


def chapter_text(markup: bytes) -> tuple[str, str | None]:
    """A chapter's text (a line per block) and its first heading, if any."""
    import lxml.html

    root = lxml.html.fromstring(markup)
    for element in root.xpath("|".join(f"//{tag}" for tag in _DROPPED)):
        element.drop_tree()
    title = None
    for element in root.iter("h1", "h2", "h3"):
        title = " ".join(element.text_content().split()) or None
        if title:
            break
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
    text = root.text_content()
    return re.sub(r"[ \t]*\n\s*", "\n", text).strip(), title


def _titles(book: Any) -> dict[str, str]:
    """The table of contents: file name -> title."""
    titles: dict[str, str] = {}

    def walk(entries: Any) -> None:
        for entry in entries:
            if isinstance(entry, (list, tuple)):
                walk(entry)
            elif getattr(entry, "href", None) and getattr(entry, "title", None):
                titles.setdefault(entry.href.split("#")[0], entry.title)

    walk(book.toc)
    return titles


def read_epub(data: bytes, guard: Guard) -> list[Section]:
    import ebooklib
    from ebooklib import epub

    with check_zip(io.BytesIO(data), guard, "e-book") as archive:
        names = set(archive.namelist())
    if {"META-INF/encryption.xml", "META-INF/rights.xml"} & names:
        raise guard.refuse(
            "is DRM-protected (its chapters are encrypted); skipped (use a copy without DRM)", "encrypted"
        )
    try:
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    except Exception as exc:  # ebooklib raises many kinds on a broken book
        raise guard.refuse(f"cannot read this e-book ({line(exc)}); skipped") from None
    spine = [book.get_item_with_id(ref) for ref, *_ in book.spine]
    chapters = [i for i in spine if i is not None and i.get_type() == ebooklib.ITEM_DOCUMENT]
    guard.count(len(chapters), MAX_CHAPTERS, "chapters")
    titles = _titles(book)
    sections: list[Section] = []
    for number, item in enumerate(chapters, start=1):
        try:
            text, heading = chapter_text(item.get_content())
        except Exception as exc:
            raise guard.refuse(f"cannot read chapter {item.get_name()} ({line(exc)}); skipped") from None
        title = titles.get(item.get_name()) or heading
        if text:
            where = f"chapter “{title}”" if title else f"chapter {len(sections) + 1}"
            sections.append(Section(guard.text(text), where))
        guard.unit(number, len(chapters))
    return sections
