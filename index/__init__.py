"""Documents -> passages -> a stored, searchable index (FAISS vectors + BM25 keywords + manifest)."""

import os

# No usage telemetry: the assistant must work (and stay quiet) offline.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

from index.errors import BadInputError, ConfigError, IndexMismatchError, IndexMissingError, QAError
from index.indexer import Indexer, IndexReport
from index.stores import IndexSpec
from index.stores.faiss import PassageIndex

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
