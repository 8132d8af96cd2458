"""Comma-separated tables (.csv): Haystack's CSVToDocument for the text, every row read as a sentence
with its headers, located by row (the header is row 1). The delimiter (, ; tab |) is sniffed."""

from __future__ import annotations

import csv
import io

from index.formats.guard import Guard, Section, line
from index.formats.rows import row_sections
from index.formats.sniff import decode_text


def read_csv(data: bytes, guard: Guard) -> list[Section]:
    from haystack.components.converters import CSVToDocument
    from haystack.dataclasses import ByteStream

    if decode_text(data) is None:
        raise guard.refuse("content is binary, not a table of text; skipped")
    text = decode_text(data) or ""
    documents = CSVToDocument().run(sources=[ByteStream(data=text.encode("utf-8"))])["documents"]
    if not documents:
        raise guard.refuse("cannot read this CSV file; skipped")
    content = documents[0].content or ""
    try:
        dialect: type[csv.Dialect] | str = csv.Sniffer().sniff(content[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = "excel"
    try:
        rows = list(csv.reader(io.StringIO(content), dialect))
    except csv.Error as exc:
        raise guard.refuse(f"cannot read this CSV file ({line(exc)}); skipped") from None
    return row_sections(((i, r) for i, r in enumerate(rows, start=1)), "", guard)
