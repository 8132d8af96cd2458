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
from index.stores.records import FileBook, RecordBook, Records

STORES = ("faiss", "pgvector")
INDEX_TYPES = ("flat", "hnsw")
URL_VARS = ("QA_DATABASE_URL", "PG_CONN_STR")
COLLECTIONS = "collections"  # FAISS: INDEX_DIR/collections/NAME holds collection NAME


def database_url() -> str | None:
    return next((os.environ[v] for v in URL_VARS if os.environ.get(v, "").strip()), None)


def open_store(
    kind: str, spec: IndexSpec, *, index_dir: str | Path, index_type: str = "flat", schema: str = "public",
    collection: str | None = None,
) -> PassageStore:  # fmt: skip
    """The store the settings name: `faiss` in `index_dir`, or `pgvector` at $QA_DATABASE_URL (in the
    PostgreSQL `schema`: one index per schema).

    `collection` (None: the index itself) is another set of passages kept apart beside it: for FAISS
    the folder `index_dir/collections/NAME`, for pgvector a schema of its own (`collection_schema`)."""
    if index_type not in INDEX_TYPES:
        raise ConfigError(f"config key 'index_type': {index_type!r} is not one of {' | '.join(INDEX_TYPES)}")
    if kind == "faiss":
        from index.stores.faiss import FaissStore

        folder = Path(index_dir) if collection is None else Path(index_dir) / COLLECTIONS / collection
        return FaissStore(folder, spec, index_type)
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
        from index.stores.pgvector import PgvectorStore, check_schema, collection_schema

        if collection is not None:
            schema = collection_schema(check_schema(schema), collection)
        return PgvectorStore(url, spec, index_type, schema)
    raise ConfigError(f"config key 'store': {kind!r} is not one of {' | '.join(STORES)}")


def open_book(kind: str, *, index_dir: str | Path, schema: str = "public") -> RecordBook:
    """Where the small records beside the index live (users, keys, collections' rights): the file
    `index_dir/access.json` for FAISS, the table `SCHEMA.qa_access` for pgvector."""
    if kind == "faiss":
        return FileBook(index_dir)
    if kind == "pgvector":
        url = database_url()
        if url is None:
            raise ConfigError(
                "store: pgvector needs a database: set QA_DATABASE_URL=postgresql://... "
                "(`qa db start` starts a local one and prints it)"
            )
        from index.stores.pgvector_records import TableBook

        return TableBook(url, schema)
    raise ConfigError(f"config key 'store': {kind!r} is not one of {' | '.join(STORES)}")


__all__ = [
    "COLLECTIONS",
    "INDEX_TYPES",
    "STORES",
    "Change",
    "IndexSpec",
    "IndexView",
    "PassageStore",
    "RecordBook",
    "Records",
    "database_url",
    "open_book",
    "open_store",
]
