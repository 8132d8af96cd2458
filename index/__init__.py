"""Documents -> passages -> a stored, searchable index (FAISS vectors + BM25 keywords + manifest)."""

import os
from typing import TYPE_CHECKING, Any

from index.errors import BadInputError, ConfigError, IndexMismatchError, IndexMissingError, QAError
from index.lazy import defer_import

# No usage telemetry: the assistant must work (and stay quiet) offline.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
defer_import("torch")  # Haystack imports it eagerly; only the torch engines and training use it

if TYPE_CHECKING:
    from index.indexer import Indexer, IndexReport
    from index.stores import IndexSpec
    from index.stores.faiss import PassageIndex

_LAZY = {  # imported on first use: they bring Haystack and FAISS
    "Indexer": "index.indexer",
    "IndexReport": "index.indexer",
    "IndexSpec": "index.stores",
    "PassageIndex": "index.stores.faiss",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'index' has no attribute {name!r}")


__all__ = [
    "BadInputError",
    "ConfigError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexReport",
    "IndexSpec",
    "Indexer",
    "PassageIndex",
    "QAError",
]
