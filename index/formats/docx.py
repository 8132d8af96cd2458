"""Word documents (.docx): Haystack's DOCXToDocument (python-docx) for the text (paragraphs, tables,
text boxes), cut into sections at the document's headings, each section located by its heading."""

from __future__ import annotations

import io
from typing import Any

from index.formats.guard import Guard, Section, check_zip, line
from index.formats.text import by_headings

HEADING_STYLES = ("Heading", "Title")


def _headings(document: Any) -> list[str]:
    """The text of the document's headings (paragraph styles "Heading N" and "Title"), in order."""
    found = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style.startswith(HEADING_STYLES) and paragraph.text.strip():
            found.append(paragraph.text.strip())
    return found


def read_docx(data: bytes, guard: Guard) -> list[Section]:
    import docx
    from haystack.components.converters.docx import DOCXToDocument
    from haystack.dataclasses import ByteStream

    check_zip(io.BytesIO(data), guard, "Word document").close()
    try:
        headings = _headings(docx.Document(io.BytesIO(data)))
    except Exception as exc:  # python-docx raises many kinds on a broken package
        raise guard.refuse(f"cannot read this Word document ({line(exc)}); skipped") from None
    guard.check_time()
    documents = DOCXToDocument(table_format="csv").run(sources=[ByteStream(data=data)])["documents"]
    if not documents:
        raise guard.refuse("cannot read this Word document (python-docx could not convert it); skipped")
    text = guard.text((documents[0].content or "").replace("\f", "\n"))
    return by_headings(text, headings)
