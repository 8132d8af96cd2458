"""Small records kept beside the passages (users, keys, collections' owners and shares): one protocol,
`RecordBook`, and its file form for the FAISS folder (the PostgreSQL form is `pgvector_records.py`).

A book holds kinds of records (`{"users": {name: {...}}, "keys": {...}, ...}`), each a JSON object.
`read()` is a consistent snapshot; `update(change)` runs `change` on the latest records while writers
take turns, and stores what it left, all of it or nothing.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from index.errors import IndexDamagedError, IndexWriteError

Records = dict[str, dict[str, dict[str, Any]]]
T = TypeVar("T")
RECORDS_FORMAT = 1


class RecordBook(Protocol):
    where: str

    def read(self) -> Records:
        """The records now; the caller reads them and never changes them (`update` does)."""
        ...

    def update(self, change: Callable[[Records], T]) -> T:
        """Apply `change` (it edits the records it is given) to the latest records and store the result."""
        ...


class FileBook:
    """`INDEX_DIR/access.json`, replaced atomically (a temporary file, fsync, os.replace) while the
    index folder's writer lock is held, so writers in any process take turns and lose nothing."""

    FILE = "access.json"

    def __init__(self, index_dir: str | Path) -> None:
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / self.FILE
        self.where = str(self.path)
        self._cache: tuple[tuple[int, int, int], Records] | None = None
        self._lock = threading.Lock()

    def read(self) -> Records:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]  # read on every request: shared, not copied
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            records = data["records"]
            if not isinstance(records, dict):
                raise ValueError("records is not an object")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexDamagedError(
                f"{self.path} is damaged ({exc}); restore it from a backup (it holds the users and "
                "the collections' owners and shares)"
            ) from exc
        self._cache = (key, records)
        return records

    def update(self, change: Callable[[Records], T]) -> T:
        from index.stores.faiss import writing

        with self._lock, writing(self.index_dir):
            records = copy.deepcopy(self.read())
            result = change(records)
            text = json.dumps({"format": RECORDS_FORMAT, "records": records}, indent=1, sort_keys=True)
            temp = self.index_dir / f".access-{uuid.uuid4().hex[:8]}.tmp"
            try:
                with open(temp, "w", encoding="utf-8") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
                os.chmod(temp, 0o600)  # password hashes: for the operator's eyes
                os.replace(temp, self.path)
            except OSError as exc:
                temp.unlink(missing_ok=True)
                raise IndexWriteError(
                    f"could not write {self.path} ({exc.strerror or exc}); nothing changed: free disk "
                    "space and retry"
                ) from exc
            return result


__all__ = ["RECORDS_FORMAT", "FileBook", "RecordBook", "Records"]
