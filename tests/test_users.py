"""Users (issue 29): argon2-hashed passwords, API keys kept as hashes, `qa users` on FAISS and pgvector."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import collections_matrix as m
import pytest
import test_pgvector
from click.testing import CliRunner

from qa import Assistant, BadInputError
from qa.cli import qa

database = test_pgvector.database  # the session's PostgreSQL, shared with its tests
PASSWORD = "correct horse battery"


def _cli(config: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(qa, [*args, "--config", str(config)], input=input, catch_exceptions=False)


@pytest.fixture
def assistant(tmp_path) -> Assistant:
    return Assistant.from_config(m.write_config(tmp_path))


def test_passwords_are_stored_as_argon2_hashes_never_as_text(assistant):
    assistant.users.add("alice", PASSWORD)
    text = (assistant.index_dir / "access.json").read_text(encoding="utf-8")
    assert PASSWORD not in text
    stored = json.loads(text)["records"]["users"]["alice"]["password"]
    assert stored.startswith("$argon2id$")
    assert assistant.users.verify("alice", PASSWORD)
    assert not assistant.users.verify("alice", PASSWORD + "!")
    assert not assistant.users.verify("alice", "")
    assert not assistant.users.verify("nobody", PASSWORD)
    assert not assistant.users.verify(None, PASSWORD)  # type: ignore[arg-type]


def test_an_unknown_name_takes_about_as_long_to_refuse_as_a_wrong_password(assistant):
    assistant.users.add("alice", PASSWORD)
    assistant.users.verify("alice", "warm-up")

    def timed(name: str) -> float:
        started = time.perf_counter()
        for _ in range(3):
            assistant.users.verify(name, "wrong-password")
        return time.perf_counter() - started

    known, unknown = timed("alice"), timed("nobody")
    assert unknown > known / 3  # the unknown name is hashed too (argon2's cost), not refused at once


def test_users_are_added_listed_and_removed_with_clear_refusals(assistant):
    users = assistant.users
    assert users.list() == []
    users.add("bob", PASSWORD)
    users.add("alice", PASSWORD)
    assert users.list() == ["alice", "bob"]
    with pytest.raises(BadInputError, match="user 'alice' exists"):
        users.add("alice", "another-password")
    with pytest.raises(BadInputError, match="at least 8 characters"):
        users.add("carol", "short")
    for bad in ("a b", "", "x" * 65, "everyone"):
        with pytest.raises(BadInputError):
            users.add(bad, PASSWORD)
    users.remove("bob")
    assert users.list() == ["alice"]
    with pytest.raises(BadInputError, match="no user 'bob'"):
        users.remove("bob")
    assert assistant.users.verify("alice", PASSWORD)  # the others are untouched


def test_keys_are_tied_to_their_user_and_stored_only_as_hashes(assistant):
    users = assistant.users
    users.add("alice", PASSWORD)
    users.add("bob", PASSWORD)
    first, second, bobs = users.new_key("alice"), users.new_key("alice"), users.new_key("bob")
    assert len({first, second, bobs}) == 3 and all(k.startswith("qa-") and len(k) > 40 for k in (first, bobs))
    assert users.user_of_key(first) == users.user_of_key(second) == "alice"
    assert users.user_of_key(bobs) == "bob"
    for wrong in ("", "qa-nope", first[:-1], None):
        assert users.user_of_key(wrong) is None  # type: ignore[arg-type]
    text = (assistant.index_dir / "access.json").read_text(encoding="utf-8")
    assert first not in text and second not in text and bobs not in text
    with pytest.raises(BadInputError, match="no user 'carol'"):
        users.new_key("carol")
    users.remove("alice")
    assert users.user_of_key(first) is None and users.user_of_key(second) is None
    assert users.user_of_key(bobs) == "bob"
    users.add("alice", PASSWORD)  # a new alice does not get the old one's keys
    assert users.user_of_key(first) is None


def test_users_are_seen_by_another_process_at_once(assistant, tmp_path):
    assistant.users.add("alice", PASSWORD)
    key = assistant.users.new_key("alice")
    other = Assistant.from_config(tmp_path / "matrix.yaml")
    assert other.users.user_of_key(key) == "alice" and other.users.verify("alice", PASSWORD)
    other.users.remove("alice")
    assert assistant.users.user_of_key(key) is None  # the file changed: read again


def test_qa_users_commands(tmp_path):
    config = m.write_config(tmp_path)
    added = _cli(config, "users", "add", "alice", input=PASSWORD + "\n")
    assert added.exit_code == 0 and "added user 'alice'" in added.stdout
    assert _cli(config, "users", "list").stdout == "alice\n"
    assert json.loads(_cli(config, "users", "list", "--json").stdout) == ["alice"]
    key = _cli(config, "users", "key", "alice")
    assert key.exit_code == 0 and "shown once" in key.stderr
    printed = key.stdout.strip()
    assert Assistant.from_config(config).users.user_of_key(printed) == "alice"
    for args, stdin, message in [
        (["users", "add", "alice"], PASSWORD + "\n", "user 'alice' exists"),
        (["users", "add", "bob"], "", "no password on stdin"),
        (["users", "add", "bob"], "short\n", "at least 8 characters"),
        (["users", "add", "a b"], PASSWORD + "\n", "user names are letters, digits"),
        (["users", "remove", "carol"], None, "no user 'carol'"),
        (["users", "key", "carol"], None, "no user 'carol'"),
    ]:
        result = _cli(config, *args, input=stdin)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.count("\n") == 1 and message in result.stderr
    assert Assistant.from_config(config).users.list() == ["alice"]  # nothing changed by the refusals
    removed = _cli(config, "users", "remove", "alice")
    assert removed.exit_code == 0 and _cli(config, "users", "list").stdout == ""


def test_the_password_is_asked_twice_on_a_terminal(tmp_path, monkeypatch):
    import qa.collections_cli as cli

    asked: list[dict] = []

    def prompt(text: str, **options):
        asked.append(options)
        return PASSWORD

    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli.click, "prompt", prompt)
    assert cli._read_password() == PASSWORD
    assert asked == [{"hide_input": True, "confirmation_prompt": True}]


@pytest.mark.postgres
def test_users_live_in_postgresql_so_every_server_agrees(tmp_path, database, monkeypatch):
    monkeypatch.setenv("QA_DATABASE_URL", database)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    one = Assistant.from_config(m.write_config(tmp_path, store="pgvector", db_schema=schema))
    other = Assistant.from_config(m.write_config(tmp_path, store="pgvector", db_schema=schema))
    one.users.add("alice", PASSWORD)
    key = one.users.new_key("alice")
    assert other.users.list() == ["alice"] and other.users.verify("alice", PASSWORD)
    assert other.users.user_of_key(key) == "alice"
    import psycopg

    with psycopg.connect(database) as conn:
        rows = conn.execute(f"SELECT kind, name, value::text FROM {schema}.qa_access").fetchall()
    text = json.dumps(rows)
    assert PASSWORD not in text and key not in text and "$argon2id$" in text
    assert not (tmp_path / "index" / "access.json").exists()  # nothing beside it on disk
    other.users.remove("alice")
    assert one.users.list() == [] and one.users.user_of_key(key) is None


@pytest.mark.parametrize("verb", [["chat"], ["serve"], ["serve", "--chat"]])
def test_users_in_the_store_count_as_logins_for_serving_on_a_network(fake_config, verb, monkeypatch):
    """`qa users add` is how a team logs in: a network --host with store users (and no QA_AUTH or
    QA_API_KEYS) goes on to listen (here: stopped by the busy port), without users it is refused."""
    import socket

    from qa.cli import qa

    monkeypatch.delenv("QA_AUTH", raising=False)
    monkeypatch.delenv("QA_API_KEYS", raising=False)
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        args = [
            *verb,
            "--host",
            "0.0.0.0",
            "--port",
            str(busy.getsockname()[1]),
            "--config",
            str(fake_config),
        ]
        refused = CliRunner().invoke(qa, args)
        assert refused.exit_code != 0 and "no login" in refused.output
        Assistant.from_config(fake_config).users.add("alice", "a long password")
        allowed = CliRunner().invoke(qa, args)
        assert allowed.exit_code != 0 and "is in use" in allowed.output, allowed.output
