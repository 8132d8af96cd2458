"""Spreadsheets (.xlsx): Haystack's XLSXToDocument (pandas, openpyxl) for each sheet's cells, every row
read as a sentence with its headers; located by sheet and row. A workbook of more than MAX_SHEETS
sheets is refused before it is parsed (its sheet list is read with defusedxml)."""

from __future__ import annotations

import csv
import io
import zipfile

from index.formats.guard import MAX_SHEETS, Guard, Section, check_zip, line
from index.formats.rows import row_sections

_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _sheet_count(archive: zipfile.ZipFile, guard: Guard) -> int:
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except Exception as exc:
        raise guard.refuse(f"cannot read this Excel workbook ({line(exc)}); skipped") from None
    return len(root.findall(f"{_S}sheets/{_S}sheet"))


def _why_not(data: bytes) -> str:
    """What openpyxl says about a workbook Haystack's converter could not read."""
    import openpyxl

    try:
        openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False).close()
    except Exception as exc:
        return line(exc)
    return "pandas could not convert it"


def read_xlsx(data: bytes, guard: Guard) -> list[Section]:
    from haystack.components.converters import XLSXToDocument
    from haystack.dataclasses import ByteStream

    with check_zip(io.BytesIO(data), guard, "Excel workbook") as archive:
        guard.count(_sheet_count(archive, guard), MAX_SHEETS, "sheets")
    documents = XLSXToDocument(table_format="csv").run(sources=[ByteStream(data=data)])["documents"]
    if not documents:
        raise guard.refuse(f"cannot read this Excel workbook ({_why_not(data)}); skipped")
    sections: list[Section] = []
    for number, document in enumerate(documents, start=1):
        sheet = str((document.meta.get("xlsx") or {}).get("sheet_name", number))
        table = list(csv.reader(io.StringIO(document.content or "")))[1:]  # row 0: column letters
        rows = ((int(r[0]) if r and r[0].isdigit() else i + 1, r[1:]) for i, r in enumerate(table))
        sections += row_sections(rows, f"sheet “{sheet}”, ", guard, seen=len(sections))
        guard.unit(number, len(documents))
    return sections
