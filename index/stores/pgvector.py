"""PostgreSQL + pgvector: one database that several servers share, for corpora past one machine.

Searches go through Haystack's `PgvectorEmbeddingRetriever` (cosine; exact, or HNSW with
`index_type: hnsw`) and `PgvectorKeywordRetriever` (PostgreSQL full-text search) on the integration's
table. Beside it, `qa_index` holds the manifest (checked on connect) and a version that every commit
changes, and `qa_sources` the indexed documents with their hashes. A commit is one transaction (the
passages of changed and removed documents go, the new ones come, the document list and version are
replaced), so a reader sees a document whole or not at all; writers take turns through an advisory lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, TypeVar

from haystack import Document

from index.errors import ConfigError, IndexMissingError, StoreUnavailableError
from index.stores.base import Change, IndexSpec, IndexView, check_manifest

T = TypeVar("T")

logger = logging.getLogger(__name__)

PASSAGES = "qa_passages"  # the integration's table (id, embedding, content, meta, ...)
STATE = "qa_index"  # key -> jsonb: 'manifest', 'version'
SOURCES = "qa_sources"  # name -> sha256
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
WRITE_LOCK = 7_310_240  # pg_advisory_lock key shared by every writer of this database
HNSW_EF_SEARCH = 100  # candidates HNSW looks at per query (pgvector's default is 40)


def check_schema(schema: str) -> str:
    if not _IDENTIFIER.fullmatch(schema):
        raise ConfigError(f"config key 'db_schema': {schema!r} is not a lower-case SQL name (a-z, 0-9, _)")
    return schema


def collection_schema(base: str, collection: str) -> str:
    """The schema holding `collection` of the index in schema `base`: a collection name (up to 64
    letters, digits, - and _, either case) is not always a PostgreSQL name (at most 63 bytes,
    folded to lower case), so each gets a fixed one from a hash of both names (44 characters)."""
    digest = hashlib.sha256(f"{base}/{collection}".encode()).hexdigest()[:40]
    return f"qac_{digest}"


def _connect(url: str) -> Any:
    with _reachable():
        import psycopg

        return psycopg.connect(url, connect_timeout=10)


def _outage(exc: BaseException) -> BaseException | None:
    """The psycopg OperationalError (server down, restarting, unreachable) behind `exc`, if any: the
    Haystack integration wraps it in its own DocumentStoreError."""
    import psycopg

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None or isinstance(seen, psycopg.OperationalError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@contextmanager
def _reachable() -> Iterator[None]:
    """A database that went away (or never answered) as StoreUnavailableError, one line that says
    what to do; the next call connects again, so service resumes when the database is back."""
    try:
        yield
    except StoreUnavailableError:
        raise
    except Exception as exc:
        cause = _outage(exc)
        if cause is None:
            raise
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise StoreUnavailableError(
            f"the database is unavailable ({first}); check that it is running and QA_DATABASE_URL, "
            "or start a local one with `qa db start`, then try again"
        ) from exc


def thread_connection(local: threading.local, url: str) -> Any:
    """This thread's autocommit connection, kept in `local` (psycopg connections are not shared
    between threads), made again when it was closed or broke."""
    conn = getattr(local, "conn", None)
    if conn is None or conn.closed or conn.broken:
        conn = _connect(url)
        conn.autocommit = True
        local.conn = conn
    return conn


def fresh(local: threading.local, work: Callable[[], T]) -> T:
    """`work()` on this thread's connections (what `local` holds for it), and once more on new ones
    when those date from before the database restarted (their first use after a restart fails; a new
    one works). A database still down is reported as ever (`_reachable`)."""
    with _reachable():
        stale = bool(vars(local))
        try:
            return work()
        except Exception as exc:
            if not stale or _outage(exc) is None:
                raise
            vars(local).clear()
            return work()


class PgvectorIndex:
    """A view of the database (an IndexView): searches run live, so another server's commit shows in
    the next one; `version` and `sources` are as they were when the view was taken."""

    def __init__(self, store: PgvectorStore, version: str | None, sources: dict[str, str]) -> None:
        self.store, self.version, self.sources = store, version, sources

    def passage_count(self) -> int:
        return int(self.store.query(f"SELECT count(*) FROM {self.store.passages_table}")[0][0])

    def document_counts(self) -> dict[str, int]:
        rows = self.store.query(
            f"SELECT meta->>'document', count(*) FROM {self.store.passages_table} GROUP BY 1"
        )
        counts = {name: int(n) for name, n in rows}
        return {name: counts.get(name, 0) for name in sorted(self.sources)}

    def dense_search(self, embedding: list[float], top_k: int) -> list[tuple[str, float]]:
        hits = self.store.fresh(
            lambda: self.store.retrievers()[0].run(query_embedding=embedding, top_k=top_k)["documents"]
        )
        return [(d.id, float(d.score or 0.0)) for d in hits]

    def keyword_search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        hits = self.store.fresh(lambda: self.store.retrievers()[1].run(query=query, top_k=top_k)["documents"])
        return [(d.id, float(d.score or 0.0)) for d in hits]

    def passages(self, ids: list[str]) -> dict[str, Document]:
        table = self.store.passages_table
        rows = self.store.query(f"SELECT id, content, meta FROM {table} WHERE id = ANY(%s)", (ids,))
        return {i: Document(id=i, content=content, meta=meta) for i, content, meta in rows}


class PgvectorStore:
    """The database as a PassageStore. `url` is a libpq connection string (QA_DATABASE_URL)."""

    def __init__(self, url: str, spec: IndexSpec, index_type: str = "flat", schema: str = "public") -> None:
        check_schema(schema)
        self.url, self.spec, self.index_type, self.schema = url, spec, index_type, schema
        self.passages_table = f"{schema}.{PASSAGES}"
        self.state_table = f"{schema}.{STATE}"
        self.sources_table = f"{schema}.{SOURCES}"
        self.where = f"the database (QA_DATABASE_URL), schema {schema}"
        # a connection and retrievers per thread: psycopg cursors are not shared
        self._local = threading.local()

    # ---- connections --------------------------------------------------------------------------
    def _connection(self) -> Any:
        return thread_connection(self._local, self.url)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.fresh(lambda: self._connection().execute(sql, params).fetchall())

    def fresh(self, work: Callable[[], T]) -> T:
        return fresh(self._local, work)

    def retrievers(self) -> tuple[Any, Any]:
        """(embedding retriever, keyword retriever) on this thread's document store."""
        found = getattr(self._local, "retrievers", None)
        if found is None:
            from haystack.utils import Secret
            from haystack_integrations.components.retrievers.pgvector import (
                PgvectorEmbeddingRetriever,
                PgvectorKeywordRetriever,
            )
            from haystack_integrations.document_stores.pgvector import PgvectorDocumentStore

            store = PgvectorDocumentStore(
                connection_string=Secret.from_token(self.url),
                schema_name=self.schema,
                table_name=PASSAGES,
                embedding_dimension=self.spec.embedding_dim,
                vector_function="cosine_similarity",
                search_strategy="hnsw" if self.index_type == "hnsw" else "exact_nearest_neighbor",
                hnsw_ef_search=HNSW_EF_SEARCH if self.index_type == "hnsw" else None,
                hnsw_index_name=f"{PASSAGES}_hnsw",
                keyword_index_name=f"{PASSAGES}_keywords",
            )
            found = (
                PgvectorEmbeddingRetriever(document_store=store),
                PgvectorKeywordRetriever(document_store=store),
            )
            self._local.retrievers = found
        return found

    def _ensure_tables(self, conn: Any) -> None:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        self.retrievers()[0].document_store.count_documents()  # the integration creates its table and indexes
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.state_table} (key TEXT PRIMARY KEY, value JSONB NOT NULL)"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.sources_table} (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL)"
        )
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {PASSAGES}_document ON {self.passages_table} ((meta->>'document'))"
        )

    # ---- the protocol -------------------------------------------------------------------------
    def _state(self, key: str) -> Any:
        try:
            rows = self.query(f"SELECT value FROM {self.state_table} WHERE key = %s", (key,))
        except Exception as exc:  # no table yet: nothing indexed
            if type(exc).__name__ == "UndefinedTable":
                return None
            raise
        return rows[0][0] if rows else None

    def exists(self) -> bool:
        return self._state("manifest") is not None

    def version(self) -> str | None:
        return self._state("version")

    @contextmanager
    def writing(self) -> Iterator[None]:
        with _reachable(), _connect(self.url) as conn:
            conn.autocommit = True
            key = (WRITE_LOCK, self.schema)  # one lock per index (schema)
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", key)
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)

    def _manifest(self) -> dict:
        return {**asdict(self.spec), "index_type": self.index_type}

    def load(self) -> PgvectorIndex:
        manifest = self._state("manifest")
        if manifest is None:
            raise IndexMissingError("no index in the database; run `qa index`")
        check_manifest(manifest, self.spec, self.where, self.index_type)
        version = self._state("version")
        sources = dict(self.query(f"SELECT name, sha256 FROM {self.sources_table}"))
        return PgvectorIndex(self, version, sources)

    def commit(self, base: IndexView | None, change: Change) -> PgvectorIndex:
        version = uuid.uuid4().hex
        # one transaction: committed on leaving, rolled back on error
        with _reachable(), _connect(self.url) as conn:
            conn.autocommit = True
            self._ensure_tables(conn)
            conn.autocommit = False
            old = dict(conn.execute(f"SELECT name, sha256 FROM {self.sources_table} FOR UPDATE").fetchall())
            gone = set(old) if change.rebuild else (change.removed | (set(old) - set(change.sources)))
            if gone:
                conn.execute(
                    f"DELETE FROM {self.passages_table} WHERE meta->>'document' = ANY(%s)", (sorted(gone),)
                )
            if change.rebuild:
                conn.execute(f"DELETE FROM {self.passages_table}")
            with conn.cursor().copy(
                f"COPY {self.passages_table} (id, embedding, content, meta) FROM STDIN"
            ) as copy:
                for p in change.added:
                    copy.write_row((p.id, _vector_text(p.embedding), p.content, json.dumps(p.meta)))
            conn.execute(f"DELETE FROM {self.sources_table}")
            with conn.cursor().copy(f"COPY {self.sources_table} (name, sha256) FROM STDIN") as copy:
                for row in sorted(change.sources.items()):
                    copy.write_row(row)
            for key, value in (("manifest", self._manifest()), ("version", version)):
                conn.execute(
                    f"INSERT INTO {self.state_table} VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (key, json.dumps(value)),
                )
        return PgvectorIndex(self, version, dict(change.sources))

    def discard(self) -> None:
        """Drop this store's schema, passages and all (a temporary evaluation index)."""
        if self.schema == "public":
            raise ValueError("the public schema is the shared index; it is never dropped")
        with _connect(self.url) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


def _vector_text(embedding: Any) -> str:
    if embedding is None:
        raise ValueError("a passage without an embedding cannot be stored")
    return "[" + ",".join(repr(float(v)) for v in embedding) + "]"
