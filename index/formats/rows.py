"""Table rows as sentences a reader can answer from: "Name: Ada; Role: engineer; Start: 2021", the
header kept with every row (spreadsheets and CSV files share this)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from index.formats.guard import MAX_ROWS, Guard, Section

_WHOLE = re.compile(r"-?\d+\.0")  # 2021.0: a whole number pandas read into a column with blanks


def _cell(value: str) -> str:
    value = " ".join(value.split())
    return value[:-2] if _WHOLE.fullmatch(value) else value


def row_sections(
    rows: Iterable[tuple[int, list[str]]], where: str, guard: Guard, *, seen: int = 0
) -> list[Section]:
    """A section per row after the header (the first row with a value): its cells as "Header: value"
    pairs, empty cells left out; located "<where>row N". `seen` rows were read before (other sheets)."""
    header: list[str] | None = None
    sections: list[Section] = []
    for number, raw in rows:
        cells = [_cell(c) for c in raw]
        if not any(cells):
            continue
        if header is None:
            header = cells
            continue
        if seen + len(sections) >= MAX_ROWS:
            guard.count(seen + len(sections) + 1, MAX_ROWS, "rows", "split the table")
        named = [
            f"{header[i] if i < len(header) and header[i] else f'Column {i + 1}'}: {value}"
            for i, value in enumerate(cells)
            if value
        ]
        sections.append(Section(guard.text("; ".join(named) + "."), f"{where}row {number}"))
    if header is not None and not sections:  # a table of one row: its header is its text
        only = "; ".join(c for c in header if c) + "."
        sections.append(Section(guard.text(only), where.rstrip(", ") or None))
    return sections
