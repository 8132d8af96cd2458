"""Where passages live: one protocol (`base.PassageStore`), one module per backend, one picker.

- `faiss` (default): a folder of FAISS vectors and a BM25 index, embedded, no server.
- `pgvector`: PostgreSQL with pgvector, shared by several servers; the connection string comes from
  the environment (QA_DATABASE_URL, or the integration's PG_CONN_STR), never from a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from index.errors import ConfigError
from index.stores.base import Change, IndexSpec, IndexView, PassageStore

STORES = ("faiss", "pgvector")
INDEX_TYPES = ("flat", "hnsw")
URL_VARS = ("QA_DATABASE_URL", "PG_CONN_STR")


def database_url() -> str | None:
    return next((os.environ[v] for v in URL_VARS if os.environ.get(v, "").strip()), None)


def open_store(
    kind: str, spec: IndexSpec, *, index_dir: str | Path, index_type: str = "flat", schema: str = "public"
) -> PassageStore:
    """The store the settings name: `faiss` in `index_dir`, or `pgvector` at $QA_DATABASE_URL (in the
    PostgreSQL `schema`: one index per schema)."""
    if index_type not in INDEX_TYPES:
        raise ConfigError(f"config key 'index_type': {index_type!r} is not one of {' | '.join(INDEX_TYPES)}")
    if kind == "faiss":
        from index.stores.faiss import FaissStore

        return FaissStore(index_dir, spec, index_type)
    if kind == "pgvector":
        try:  # what it needs, said before anything starts
            import psycopg  # noqa: F401
            from haystack_integrations.document_stores.pgvector import PgvectorDocumentStore  # noqa: F401
        except ImportError as exc:
            raise ConfigError(
                f"store: pgvector needs the pgvector extra ({exc}); "
                "run `.venv/bin/pip install -e '.[pgvector]'`"
            ) from exc
        url = database_url()
        if url is None:
            raise ConfigError(
                "store: pgvector needs a database: set QA_DATABASE_URL=postgresql://... "
                "(`qa db start` starts a local one and prints it)"
            )
        from index.stores.pgvector import PgvectorStore

        return PgvectorStore(url, spec, index_type, schema)
    raise ConfigError(f"config key 'store': {kind!r} is not one of {' | '.join(STORES)}")


__all__ = [
    "INDEX_TYPES",
    "STORES",
    "Change",
    "IndexSpec",
    "IndexView",
    "PassageStore",
    "database_url",
    "open_store",
]
