"""The records book (users, keys, collections' rights) in PostgreSQL, so several servers agree.

One table, `SCHEMA.qa_access (kind, name, value jsonb)`, in the schema of the default index. An
update is one transaction under an advisory lock: it reads every row, lets the change edit them, and
writes back only the rows that differ (upserted) and deletes the ones that went.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from typing import TypeVar

from index.stores.pgvector import _connect, _reachable, check_schema, fresh, thread_connection
from index.stores.records import Records

ACCESS = "qa_access"
ACCESS_LOCK = 7_310_241  # pg_advisory_xact_lock key of record writers (the index writers' is 7_310_240)
T = TypeVar("T")


class TableBook:
    def __init__(self, url: str, schema: str = "public") -> None:
        self.url, self.schema = url, check_schema(schema)
        self.table = f"{self.schema}.{ACCESS}"
        self.where = f"the database (QA_DATABASE_URL), table {self.table}"
        self._local = threading.local()  # a reading connection per thread (asked on every request)

    def _ensure(self, conn: object) -> None:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")  # type: ignore[attr-defined]
        conn.execute(  # type: ignore[attr-defined]
            f"CREATE TABLE IF NOT EXISTS {self.table} "
            "(kind TEXT NOT NULL, name TEXT NOT NULL, value JSONB NOT NULL, PRIMARY KEY (kind, name))"
        )

    @staticmethod
    def _records(rows: list[tuple]) -> Records:
        records: Records = {}
        for kind, name, value in rows:
            records.setdefault(kind, {})[name] = value
        return records

    def read(self) -> Records:
        rows = fresh(self._local, self._select)
        return self._records(rows) if rows is not None else {}

    def _select(self) -> list[tuple] | None:
        """Every row; None when nothing was ever recorded (no table yet)."""
        try:
            conn = thread_connection(self._local, self.url)
            return conn.execute(f"SELECT kind, name, value FROM {self.table}").fetchall()  # type: ignore[no-any-return]
        except Exception as exc:
            if type(exc).__name__ == "UndefinedTable":
                return None
            raise

    def update(self, change: Callable[[Records], T]) -> T:
        with _reachable(), _connect(self.url) as conn:
            conn.autocommit = True
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (ACCESS_LOCK, self.schema))
            try:
                self._ensure(conn)
                with conn.transaction():
                    before = self._records(
                        conn.execute(f"SELECT kind, name, value FROM {self.table}").fetchall()
                    )
                    records = copy.deepcopy(before)
                    result = change(records)
                    for kind, rows in before.items():
                        for name in rows:
                            if name not in records.get(kind, {}):
                                conn.execute(
                                    f"DELETE FROM {self.table} WHERE kind = %s AND name = %s", (kind, name)
                                )
                    for kind, rows in records.items():
                        for name, value in rows.items():
                            if before.get(kind, {}).get(name) != value:
                                conn.execute(
                                    f"INSERT INTO {self.table} VALUES (%s, %s, %s) ON CONFLICT (kind, name) "
                                    "DO UPDATE SET value = EXCLUDED.value",
                                    (kind, name, json.dumps(value)),
                                )
                return result
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (ACCESS_LOCK, self.schema))


__all__ = ["ACCESS", "TableBook"]
