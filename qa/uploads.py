"""Checking uploaded files before they are indexed: allowed types by content, and size.

The check is quick (nothing is parsed): reading a file (OCR can take a minute) happens once, when
`Assistant.index` indexes it, and what it could not read comes back in its report's `skipped`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from index.formats import check_file
from index.reading import DOCUMENT_TYPES, MAX_FILE_BYTES, SUFFIXES, Skipped, document_name
from qa.errors import BadInputError

ALLOWED_SUFFIXES = tuple(sorted(SUFFIXES))


@dataclass
class UploadCheck:
    accepted: list[Path] = field(default_factory=list)
    refused: list[Skipped] = field(default_factory=list)  # one message per refused file, naming it


def check_upload(path: str | Path) -> Path:
    """`path` if it is a document the index can take, else BadInputError saying why (a type by its
    name and its content, the 10 MB limit)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{document_name(path.name)}: the upload did not arrive; try again")
    check_file(path, document_name(path.name))  # the suffix, the size, the content type
    return path


def check_uploads(paths: Iterable[str | Path]) -> UploadCheck:
    """Split `paths` into files to index and messages for the refused ones (two files with the same
    name: the second is refused, names identify documents)."""
    result = UploadCheck()
    names: set[str] = set()
    for raw in paths:
        try:
            path = check_upload(raw)
        except BadInputError as exc:
            result.refused.append(Skipped(str(exc), getattr(exc, "group", "unreadable")))
            continue
        name = document_name(path.name)  # as the index names it: NFC and NFD are one name
        if name in names:
            message = f"{name}: uploaded twice; names identify documents, so one is kept"
            result.refused.append(Skipped(message, "uploaded twice"))
            continue
        names.add(name)
        result.accepted.append(path)
    return result


__all__ = [
    "ALLOWED_SUFFIXES",
    "DOCUMENT_TYPES",
    "MAX_FILE_BYTES",
    "UploadCheck",
    "check_upload",
    "check_uploads",
    "document_name",
]
