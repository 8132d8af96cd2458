"""Checking uploaded files before they are indexed: allowed types by content, size, readable text.

`Assistant.index` skips unreadable files in a batch with only a log line; a person uploading files
needs to hear about each refused file, so the chat checks every file here first and indexes the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from index.reading import DOCUMENT_TYPES, MAX_FILE_BYTES, SUFFIXES, document_name, read_document
from qa.errors import BadInputError

ALLOWED_SUFFIXES = tuple(sorted(SUFFIXES))


@dataclass
class UploadCheck:
    accepted: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one message per refused file, naming it


def check_upload(path: str | Path) -> Path:
    """`path` if it is a document the index can take, else BadInputError saying why (type by content,
    the 10 MB limit, no text)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{document_name(path.name)}: the upload did not arrive; try again")
    read_document(path)  # checks the suffix, the size, the content type and that there is text
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
            result.refused.append(str(exc))
            continue
        name = document_name(path.name)  # as the index names it: NFC and NFD are one name
        if name in names:
            result.refused.append(f"{name}: uploaded twice; names identify documents, so one is kept")
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
