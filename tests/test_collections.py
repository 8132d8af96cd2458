"""Collections (issue 29): names, the default collection as today's index, the isolation matrix on the
Python API and the CLI (FAISS and pgvector), concurrent writers and questions, and the real models."""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import collections_matrix as m
import pytest
import test_pgvector
from click.testing import CliRunner

from conftest import ARTICLE, SEEDS, SURE_ANSWER, SURE_QUESTION, write_config
from qa import Assistant, BadInputError, Caller, CollectionNotFoundError, NotAllowedError
from qa.cli import qa

database = test_pgvector.database  # the session's PostgreSQL, shared with its tests
BAD_NAMES = ["", "a b", "x" * 65, "../etc", "a/b", "é", "team!", "tab\t", ".hidden", 5]


def _cli(config: Path, *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(qa, [*args, "--config", str(config)], input=input, catch_exceptions=False)


# ---- names ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_collection_name_is_refused_with_the_rule_everywhere(fake_assistant, fake_config, name):
    rule = "collection names are letters, digits, - and _, at most 64 characters"
    calls = [
        lambda: Assistant.from_config(fake_config, collection=name),
        lambda: fake_assistant.create_collection(name),
        lambda: fake_assistant.ask("Who?", collection=name),
        lambda: fake_assistant.documents(collection=name),
        lambda: fake_assistant.index([ARTICLE], collection=name),
        lambda: fake_assistant.share_collection(name, "everyone"),
        lambda: fake_assistant.delete_collection(name),
    ]
    for call in calls:
        with pytest.raises(BadInputError, match=rule):
            call()
    assert not (fake_assistant.index_dir / "collections").exists()  # nothing made for it


def test_the_longest_name_and_every_allowed_character_work(fake_assistant):
    name = "Ab-9_" + "z" * 59
    assert len(name) == 64
    fake_assistant.create_collection(name)
    fake_assistant.index([ARTICLE], collection=name)
    assert fake_assistant.ask("Who was sanctioned by China?", collection=name).collection == name


@pytest.mark.parametrize("name", ["a b", "x" * 65, "../etc"])
def test_the_cli_refuses_a_bad_name_in_one_line(fake_config, name):
    for args in (["ask", "Who?", "--collection", name], ["index", str(ARTICLE), "--collection", name],
                 ["collections", "create", name], ["collections", "delete", name, "--yes"]):  # fmt: skip
        result = _cli(fake_config, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.count("\n") == 1 and "collection names are letters, digits" in result.stderr


# ---- the default collection is today's index --------------------------------------------------
def test_an_existing_index_opens_as_the_default_collection_with_nothing_lost(fake_config, tmp_path):
    old = Assistant.from_config(fake_config)
    note = tmp_path / "note.txt"
    note.write_text("The ferry to Brannock leaves at nine.", encoding="utf-8")
    old.index([SEEDS / ARTICLE.name, note])
    index_dir = old.index_dir
    before = {p.name: p.stat().st_mtime_ns for p in (index_dir / "current").iterdir()}
    version = os.readlink(index_dir / "current")
    answer = old.ask("When does the ferry to Brannock leave?")

    new = Assistant.from_config(fake_config)  # the new program on the old folder
    assert new.documents() == old.documents() == {ARTICLE.name: 20, "note.txt": 1}
    assert [c.name for c in new.collections()] == ["default"]
    default = new.collections()[0]
    assert (default.owner, default.access, default.shared_with, default.writable, default.documents) == (
        None, "write", ("everyone",), True, 2,
    )  # fmt: skip
    again = new.ask("When does the ferry to Brannock leave?")
    assert (again.text, again.collection) == (answer.text, "default")
    # another collection beside it moves nothing of the default's, and a rebuild of the default
    # never mistakes the collections for its own files
    new.create_collection("team")
    new.index([note], collection="team")
    assert os.readlink(index_dir / "current") == version
    assert {p.name: p.stat().st_mtime_ns for p in (index_dir / "current").iterdir()} == before
    new.index([SEEDS / ARTICLE.name], rebuild=True)
    new.remove(ARTICLE.name)
    assert new.documents() == {}
    assert new.documents(collection="team") == {"note.txt": 1}
    team = Assistant.from_config(fake_config, collection="team")
    assert team.ask("ferry?").sources[0].document == "note.txt"
    assert sorted(p.name for p in index_dir.iterdir() if not p.name.startswith((".", "v-"))) == [
        "access.json", "collections", "current",
    ]  # fmt: skip


def test_without_a_collection_everything_works_as_today_and_the_default_can_be_closed(fake_assistant):
    assert fake_assistant.documents() == {ARTICLE.name: 20}  # built from the seeds, as before
    assert not (fake_assistant.index_dir / "access.json").exists()  # nothing written until asked to
    service = Caller.SERVICE
    assert fake_assistant.ask("Who was sanctioned by China?", caller=service).collection == "default"
    fake_assistant.unshare_collection("default", "everyone")  # the operator closes it
    with pytest.raises(CollectionNotFoundError):
        fake_assistant.ask("Who was sanctioned by China?", caller=service)
    with pytest.raises(BadInputError, match="cannot be deleted"):
        fake_assistant.delete_collection("default")


def test_an_empty_collection_answers_that_the_documents_do_not_say(fake_assistant):
    fake_assistant.create_collection("empty")
    answer = fake_assistant.ask("Who was sanctioned by China?", collection="empty")
    assert answer.no_answer and answer.sources == [] and answer.collection == "empty"
    assert fake_assistant.documents(collection="empty") == {}


# ---- the isolation matrix ---------------------------------------------------------------------
def _matrix_assistant(tmp_path: Path, **settings: Any) -> tuple[Assistant, m.Setup]:
    assistant = Assistant.from_config(m.write_config(tmp_path, **settings))
    return assistant, m.build(assistant, tmp_path)


def _attempt(assistant: Assistant, setup: m.Setup, who: str, name: str, op: str) -> tuple[str, Any]:
    """Do `op` on collection `name` as `who`: ("ok", what came back) or (the refusal, the error)."""
    caller = m.callers()[who]
    document = m.BY_NAME[name].document if name in m.BY_NAME else "x.txt"
    try:
        if op == "ask":
            got: Any = assistant.ask(m.QUESTION, collection=name, caller=caller)
        elif op == "followup":
            got = assistant.ask(m.FOLLOWUP, m.FOLLOWUP_HISTORY, collection=name, caller=caller)
        elif op == "documents":
            got = assistant.documents(collection=name, caller=caller)
        elif op == "list":
            listed = assistant.collections(caller)
            return ("ok" if name in [c.name for c in listed] else "not_found"), listed
        elif op == "upload":
            got = assistant.index([setup.upload], collection=name, caller=caller)
            assistant.remove(m.UPLOAD_NAME, collection=name)  # put back as it was
        else:
            got = assistant.remove(document, collection=name, caller=caller)
            assistant.index([setup.documents / name / document], collection=name)
    except CollectionNotFoundError as exc:
        return "not_found", exc
    except NotAllowedError as exc:
        return "not_allowed", exc
    return "ok", got


def _check_matrix(assistant: Assistant, setup: m.Setup) -> int:
    missing = {
        (who, op): _attempt(assistant, setup, who, m.MISSING, op) for who in m.CALLERS for op in m.OPERATIONS
    }
    checked = 0
    for who, name, op in m.cells():
        outcome, got = _attempt(assistant, setup, who, name, op)
        assert outcome == m.expected(who, name, op), (who, name, op, got)
        m.assert_no_leak(got, who)
        if outcome == "not_found" and op != "list":  # refused reads exactly as missing
            other = missing[(who, op)][1]
            assert type(got) is type(other)
            assert str(got).replace(name, "?") == str(other).replace(m.MISSING, "?")
        if outcome == "ok" and op in ("ask", "followup"):
            assert got.collection == name
            assert all(s.document == m.BY_NAME[name].document for s in got.sources)
        if outcome == "ok" and op == "ask":
            assert m.MARKERS[name] in got.text  # the collection's own answer
        if outcome == "ok" and op == "documents":
            assert got == {m.BY_NAME[name].document: 1}
        checked += 1
    for who in m.CALLERS:
        assert [c.name for c in assistant.collections(m.callers()[who])] == m.readable(who)
    return checked


def test_isolation_matrix_on_faiss(tmp_path):
    assistant, setup = _matrix_assistant(tmp_path)
    assert _check_matrix(assistant, setup) == len(m.CALLERS) * (len(m.COLLECTIONS) + 1) * len(m.OPERATIONS)
    # the collections are where they belong, and nothing of a user's collection is in another's
    for c in m.COLLECTIONS:
        assert assistant.documents(collection=c.name) == {c.document: 1}


@pytest.mark.postgres
def test_isolation_matrix_on_pgvector(tmp_path, database, monkeypatch):
    monkeypatch.setenv("QA_DATABASE_URL", database)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    assistant, setup = _matrix_assistant(tmp_path, store="pgvector", db_schema=schema)
    _check_matrix(assistant, setup)
    # another server on the same database agrees on users, keys and rights
    other = Assistant.from_config(m.write_config(tmp_path, store="pgvector", db_schema=schema))
    assert other.users.user_of_key(setup.keys["alice"]) == "alice"
    assert [c.name for c in other.collections(Caller.user("bob"))] == m.readable("bob")
    with pytest.raises(CollectionNotFoundError):
        other.ask(m.QUESTION, collection="alice-private", caller=Caller.user("bob"))
    assert (
        m.MARKERS["bob-private"]
        in other.ask(m.QUESTION, collection="bob-private", caller=Caller.user("bob")).text
    )


@pytest.mark.postgres
def test_same_answers_on_faiss_and_pgvector(tmp_path, database, monkeypatch):
    monkeypatch.setenv("QA_DATABASE_URL", database)
    (tmp_path / "f").mkdir()
    (tmp_path / "p").mkdir()
    faiss, _ = _matrix_assistant(tmp_path / "f")
    pg, _ = _matrix_assistant(tmp_path / "p", store="pgvector", db_schema=f"t_{uuid.uuid4().hex[:10]}")
    for c in m.COLLECTIONS:
        one, other = faiss.ask(m.QUESTION, collection=c.name), pg.ask(m.QUESTION, collection=c.name)
        assert one.text == other.text and one.sources == other.sources


@pytest.mark.parametrize("store", ["faiss", pytest.param("pgvector", marks=pytest.mark.postgres)])
def test_cli_acts_as_the_operator_and_keeps_collections_apart(tmp_path, store, request, monkeypatch):
    settings: dict[str, str] = {}
    if store == "pgvector":
        monkeypatch.setenv("QA_DATABASE_URL", request.getfixturevalue("database"))
        settings = {"store": "pgvector", "db_schema": f"t_{uuid.uuid4().hex[:10]}"}
    assistant, setup = _matrix_assistant(tmp_path, **settings)
    config = tmp_path / "matrix.yaml"
    listed = json.loads(_cli(config, "collections", "list", "--json").stdout)
    assert [c["name"] for c in listed] == ["default", "alice-private", "bob-private", "handbook"]
    assert {c["name"]: (c["owner"], c["access"], c["documents"]) for c in listed} == {
        "default": (None, "write", 1), "alice-private": ("alice", "private", 1),
        "bob-private": ("bob", "private", 1), "handbook": (None, "read", 1),
    }  # fmt: skip
    for c in m.COLLECTIONS:
        result = _cli(config, "ask", m.QUESTION, "--collection", c.name, "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["collection"] == c.name and c.marker in data["answer"]
        for other in m.COLLECTIONS:  # no other collection's marker anywhere in the reply
            assert other is c or other.marker not in result.output
        indexed = _cli(config, "index", str(setup.upload), "--collection", c.name)
        assert indexed.exit_code == 0 and f"collection {c.name!r} holds 2 documents" in indexed.stdout
        assert assistant.documents(collection=c.name) == {c.document: 1, m.UPLOAD_NAME: 1}
    missing = _cli(config, "ask", m.QUESTION, "--collection", m.MISSING)
    assert missing.exit_code == 2 and missing.stderr == (
        f"error: no collection '{m.MISSING}' you may use; `qa collections list` shows yours\n"
    )


def test_cli_collections_create_share_delete(tmp_path):
    config = m.write_config(tmp_path)
    assert _cli(config, "collections", "create", "team", "--owner", "alice").exit_code == 2  # no such user
    assert _cli(config, "users", "add", "alice", input="long-password\n").exit_code == 0
    made = _cli(config, "collections", "create", "team", "--owner", "alice")
    assert made.exit_code == 0 and "owned by alice and private" in made.stdout
    taken = _cli(config, "collections", "create", "team")
    assert taken.exit_code == 2 and "is taken" in taken.stderr
    shared = _cli(config, "collections", "share", "team", "--with", "everyone")
    assert shared.stdout.strip() == "collection 'team' is shared read-only with everyone"
    shared = _cli(config, "collections", "share", "team", "--with", "everyone", "--write")
    assert shared.stdout.strip() == "collection 'team' is shared read-write with everyone"
    assert _cli(config, "collections", "share", "team", "--with", "carol").exit_code == 2
    assert _cli(config, "index", str(ARTICLE), "--collection", "team").exit_code == 0
    # delete asks first: no answer, or no, deletes nothing
    for answer in (None, "n\n"):
        kept = _cli(config, "collections", "delete", "team", input=answer)
        assert kept.exit_code == 1 and "nothing deleted" in kept.stderr
    assert Assistant.from_config(config).documents(collection="team") == {ARTICLE.name: 20}
    gone = _cli(config, "collections", "delete", "team", input="y\n")
    assert gone.exit_code == 0 and "deleted collection 'team' (1 document)" in gone.stdout
    assert not (tmp_path / "index" / "collections" / "team").exists()
    again = _cli(config, "collections", "delete", "team", "--yes")
    assert again.exit_code == 2 and "no collection 'team' you may use" in again.stderr


# ---- rights details ---------------------------------------------------------------------------
def test_owners_share_and_unshare_and_others_may_not(tmp_path):
    assistant, setup = _matrix_assistant(tmp_path)
    alice, bob, service = Caller.user("alice"), Caller.user("bob"), Caller.SERVICE
    with pytest.raises(CollectionNotFoundError):  # bob cannot even learn it is there
        assistant.share_collection("alice-private", "bob", caller=bob)
    with pytest.raises(NotAllowedError, match="only the owner"):
        assistant.share_collection("handbook", "bob", write=True, caller=bob)
    with pytest.raises(NotAllowedError, match="service key cannot create"):
        assistant.create_collection("svc", caller=service)
    with pytest.raises(NotAllowedError):
        assistant.create_collection("for-bob", caller=alice, owner="bob")
    info = assistant.share_collection("alice-private", "bob", caller=alice)
    assert (info.access, info.shared_with, info.writable) == ("read", ("bob",), True)
    assert assistant.documents(collection="alice-private", caller=bob) == {"alice-vault.txt": 1}
    with pytest.raises(NotAllowedError, match=r"shared read-only with you; ask its owner \(alice\)"):
        assistant.index([setup.upload], collection="alice-private", caller=bob)
    assistant.share_collection("alice-private", "bob", write=True, caller=alice)
    assistant.index([setup.upload], collection="alice-private", caller=bob)
    with pytest.raises(NotAllowedError, match="only the owner"):
        assistant.delete_collection("alice-private", caller=bob)
    assistant.unshare_collection("alice-private", "bob", caller=alice)
    with pytest.raises(CollectionNotFoundError):
        assistant.documents(collection="alice-private", caller=bob)
    mine = assistant.create_collection("bob-notes", caller=bob)
    assert (mine.owner, mine.access) == ("bob", "private")
    assert "bob-notes" not in [c.name for c in assistant.collections(alice)]
    assistant.delete_collection("bob-notes", caller=bob)
    with pytest.raises(CollectionNotFoundError):
        assistant.ask(m.QUESTION, collection="bob-notes", caller=bob)


def test_a_removed_user_loses_access_and_their_collections_stay(tmp_path):
    assistant, setup = _matrix_assistant(tmp_path)
    assistant.users.remove("alice")
    assert assistant.users.user_of_key(setup.keys["alice"]) is None
    info = next(c for c in assistant.collections() if c.name == "alice-private")
    assert (info.owner, info.documents) == (None, 1)  # the operator's now, documents kept
    assistant.users.add("alice", "new-password-1")  # a new alice is not the old one's heir
    with pytest.raises(CollectionNotFoundError):
        assistant.documents(collection="alice-private", caller=Caller.user("alice"))


# ---- at the same time -------------------------------------------------------------------------
def test_two_users_indexing_into_their_own_collections_at_once_lose_nothing(tmp_path):
    assistant, _ = _matrix_assistant(tmp_path)
    files: dict[str, list[Path]] = {}
    for who in m.USERS:
        folder = tmp_path / f"{who}-batch"
        folder.mkdir()
        files[who] = []
        for i in range(12):
            path = folder / f"{who}-{i}.txt"
            path.write_text(f"Note {i} of {who}: the locker number {who} uses is {i * 7}.", encoding="utf-8")
            files[who].append(path)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(who: str) -> None:
        try:
            start.wait()
            for path in files[who]:  # one version per file: many commits interleaved
                assistant.index([path], collection=f"{who}-private", caller=Caller.user(who))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(who,)) for who in m.USERS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for who in m.USERS:
        expected = {p.name: 1 for p in files[who]} | {m.BY_NAME[f"{who}-private"].document: 1}
        assert assistant.documents(collection=f"{who}-private") == expected
        fresh = Assistant.from_config(tmp_path / "matrix.yaml")  # as stored, not only in memory
        assert fresh.documents(collection=f"{who}-private") == expected


def test_questions_to_different_collections_at_once_each_get_their_own(tmp_path):
    assistant, _ = _matrix_assistant(tmp_path)
    names = [c.name for c in m.COLLECTIONS]
    wrong: list[str] = []

    def ask(name: str) -> None:
        for _ in range(15):
            answer = assistant.ask(m.QUESTION, collection=name)
            if answer.collection != name or m.MARKERS[name] not in (answer.text or ""):
                wrong.append(f"{name}: {answer.text}")

    threads = [threading.Thread(target=ask, args=(n,)) for n in names * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_the_records_file_is_written_atomically_and_kept_private(tmp_path):
    _matrix_assistant(tmp_path)
    path = tmp_path / "index" / "access.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".access-")]
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["records"]["collections"]["handbook"]["read"] == ["everyone"]


def test_a_damaged_records_file_is_one_line_that_says_what_to_do(fake_assistant):
    fake_assistant.users.add("alice", "long-password")
    (fake_assistant.index_dir / "access.json").write_text("{not json", encoding="utf-8")
    from qa.errors import IndexDamagedError

    with pytest.raises(IndexDamagedError, match=r"access\.json is damaged.*restore it from a backup"):
        Assistant.from_config(fake_assistant.settings.source).collections()


# ---- the real models --------------------------------------------------------------------------
@pytest.mark.slow
def test_real_models_answer_from_the_chosen_collection_only(tmp_path):
    config = write_config(tmp_path, reader="offline", index_dir=str(tmp_path / "index"))
    assistant = Assistant.from_config(config)
    assistant.users.add("alice", "long-password")
    assistant.create_collection("news", owner="alice")
    assistant.index([ARTICLE], collection="news")
    vault = tmp_path / "vault.txt"
    vault.write_text(m.BY_NAME["alice-private"].text, encoding="utf-8")
    assistant.create_collection("vault")
    assistant.index([vault], collection="vault")
    alice = Caller.user("alice")
    sure = assistant.ask(SURE_QUESTION, collection="news", caller=alice)
    assert (sure.band, sure.text, sure.collection) == ("sure", SURE_ANSWER, "news")
    assert {s.document for s in sure.sources} == {ARTICLE.name}
    from_vault = assistant.ask(m.QUESTION, collection="vault")
    assert from_vault.text == "zorbulon" and from_vault.collection == "vault"
    not_there = assistant.ask(SURE_QUESTION, collection="vault")
    assert SURE_ANSWER not in json.dumps(not_there.to_dict())
    with pytest.raises(CollectionNotFoundError):
        assistant.ask(m.QUESTION, collection="vault", caller=alice)


# ---- the README -------------------------------------------------------------------------------
def test_the_readme_team_commands_work(tmp_path):
    import re
    import shlex

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [code] = [c for c in re.findall(r"^```bash\n(.*?)^```", readme, re.S | re.M) if "qa users add alice" in c]
    config = m.write_config(tmp_path)
    lines = [line.split("#")[0].strip() for line in code.splitlines() if line.strip()]
    assert [line.split()[:3] for line in lines] == [
        ["qa", "users", "add"], ["qa", "collections", "create"], ["qa", "collections", "share"],
    ]  # fmt: skip
    for line in lines:
        result = _cli(config, *shlex.split(line)[1:], input="alices-password\n")
        assert result.exit_code == 0, (line, result.output)
    notes = tmp_path / "my-notes"
    notes.mkdir()
    (notes / "harbour.md").write_text("The lighthouse keeper of Port Elin is Agnes Varga.", encoding="utf-8")
    assert _cli(config, "index", "--collection", "team", str(notes)).exit_code == 0
    assistant = Assistant.from_config(config)
    for who in (Caller.user("alice"), Caller.SERVICE):  # alice owns it; everyone may read it
        answer = assistant.ask("Who is the lighthouse keeper of Port Elin?", collection="team", caller=who)
        assert "Agnes Varga" in (answer.text or "")
    with pytest.raises(NotAllowedError):
        assistant.index([notes], collection="team", caller=Caller.SERVICE)
    assert assistant.users.verify("alice", "alices-password")


def test_a_collection_deleted_and_made_again_by_another_process_shows_nothing_of_the_old(tmp_path):
    config = m.write_config(tmp_path)
    one, other = Assistant.from_config(config), Assistant.from_config(config)
    for user in m.USERS:
        one.users.add(user, m.PASSWORDS[user])
    one.create_collection("shared-name", owner="alice")
    secret = tmp_path / "alice-vault.txt"
    secret.write_text(m.BY_NAME["alice-private"].text, encoding="utf-8")
    one.index([secret], collection="shared-name")
    assert "zorbulon" in (one.ask(m.QUESTION, collection="shared-name").text or "")  # its view is loaded
    other.delete_collection("shared-name")
    other.create_collection("shared-name", owner="bob")
    bob = Caller.user("bob")
    answer = one.ask(m.QUESTION, collection="shared-name", caller=bob)
    assert answer.sources == [] and "zorbulon" not in json.dumps(answer.to_dict())
    assert one.documents(collection="shared-name", caller=bob) == {}
    with pytest.raises(CollectionNotFoundError):
        one.ask(m.QUESTION, collection="shared-name", caller=Caller.user("alice"))


def test_names_that_differ_only_in_case_are_one_name(fake_assistant):
    fake_assistant.create_collection("Team")
    for other in ("team", "TEAM", "Default"):
        with pytest.raises(BadInputError, match=f"collection name '{other}' is taken"):
            fake_assistant.create_collection(other)
    with pytest.raises(CollectionNotFoundError):  # the operator's write does not make it either
        fake_assistant.index([ARTICLE], collection="team")
    assert [c.name for c in fake_assistant.collections()] == ["default", "Team"]


def test_two_operators_writing_to_a_new_collection_at_once_both_succeed(fake_assistant, tmp_path):
    files = []
    for i in range(2):
        path = tmp_path / f"note-{i}.txt"
        path.write_text(f"Note {i} says the tide turns at {i + 4}.", encoding="utf-8")
        files.append(path)
    other = Assistant.from_config(fake_assistant.settings.source)
    errors: list[BaseException] = []

    def write(assistant: Assistant, path: Path) -> None:
        try:
            assistant.index([path], collection="fresh")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pairs = zip((fake_assistant, other), files, strict=True)
    threads = [threading.Thread(target=write, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert fake_assistant.documents(collection="fresh") == {"note-0.txt": 1, "note-1.txt": 1}


def test_a_login_outside_the_user_store_owns_the_collections_it_creates(fake_assistant, tmp_path):
    login = Caller("carol@example.org", "user")  # a QA_AUTH login, as the chat makes it
    made = fake_assistant.create_collection("carols", caller=login)
    assert (made.owner, made.access) == ("carol@example.org", "private")
    note = tmp_path / "carol.txt"
    note.write_text("Carol's locker is number 41.", encoding="utf-8")
    fake_assistant.index([note], collection="carols", caller=login)
    assert fake_assistant.documents(collection="carols", caller=login) == {"carol.txt": 1}
    with pytest.raises(CollectionNotFoundError):
        fake_assistant.documents(collection="carols", caller=Caller.SERVICE)
