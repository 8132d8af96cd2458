"""`store: pgvector` on a real PostgreSQL 18 with pgvector, started by `qa db start` in a temporary folder.

Each test gets its own schema (`db_schema`), so they share one server and never see each other's data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest.mock import ANY

import pytest

from conftest import ARTICLE, EXAMPLE_ANSWER, EXAMPLE_QUESTION, ROOT, SEEDS, free_port, write_config
from qa import Assistant
from qa.errors import ConfigError, IndexMismatchError

pytestmark = pytest.mark.postgres
QA = str(Path(sys.executable).parent / "qa")
NOTE = "The lighthouse keeper of Skerryvore was Alan Stevenson. He lit the lamp in 1844."


@pytest.fixture(scope="session")
def database(tmp_path_factory) -> str:
    """A running PostgreSQL with pgvector (stopped at the end); its connection string."""
    from qa.db import start_database, stop_database

    folder = tmp_path_factory.mktemp("pg") / "data"
    url = start_database(folder)
    yield url
    stop_database(folder)


@pytest.fixture
def pg_config(tmp_path, database, monkeypatch) -> Path:
    """The fast fake models on a schema of their own in the database."""
    monkeypatch.setenv("QA_DATABASE_URL", database)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
    return write_config(
        tmp_path, embedding_model="hash", reader="offline", offline_model="overlap", store="pgvector",
        db_schema=f"t_{uuid.uuid4().hex[:10]}", seeds_dir=str(seeds), index_dir=str(tmp_path / "unused"),
    )  # fmt: skip


def test_qa_db_starts_reports_and_stops_a_local_server(tmp_path):
    folder = tmp_path / "db"
    status = subprocess.run([QA, "db", "status", "--dir", str(folder)], capture_output=True, text=True)
    assert status.returncode == 1 and "qa db start" in status.stdout
    started = subprocess.run(
        [QA, "db", "start", "--dir", str(folder)], capture_output=True, text=True, check=True
    )
    assert started.stdout.startswith("export QA_DATABASE_URL='postgresql://")
    url = started.stdout.split("'")[1]
    import psycopg

    with psycopg.connect(url) as conn:  # pgvector is there
        assert conn.execute("SELECT '[1,2]'::vector <-> '[1,3]'::vector").fetchone()[0] == 1.0
    assert subprocess.run([QA, "db", "status", "--dir", str(folder)], capture_output=True).returncode == 0
    stopped = subprocess.run(
        [QA, "db", "stop", "--dir", str(folder)], capture_output=True, text=True, check=True
    )
    assert "stopped" in stopped.stdout
    assert subprocess.run([QA, "db", "status", "--dir", str(folder)], capture_output=True).returncode == 1


def test_without_a_database_url_the_error_says_how_to_get_one(fake_config, monkeypatch):
    for var in ("QA_DATABASE_URL", "PG_CONN_STR"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match=r"QA_DATABASE_URL.*qa db start"):
        Assistant.from_config(fake_config, store="pgvector").documents()


def test_a_document_added_or_removed_through_one_server_shows_in_another_without_restart(pg_config, tmp_path):
    one, other = Assistant.from_config(pg_config), Assistant.from_config(pg_config)
    assert one.documents() == {ARTICLE.name: 20}  # built from the seeds on first use
    assert other.ask(EXAMPLE_QUESTION).sources[0].document == ARTICLE.name
    note = tmp_path / "skerryvore.txt"
    note.write_text(NOTE, encoding="utf-8")
    one.index([note])
    assert other.documents() == {ARTICLE.name: 20, "skerryvore.txt": 1}
    assert other.ask("Who was the lighthouse keeper of Skerryvore?").sources[0].document == "skerryvore.txt"
    one.remove("skerryvore.txt")
    assert other.documents() == {ARTICLE.name: 20}
    assert all(s.document == ARTICLE.name for s in other.ask("Who kept the Skerryvore lighthouse?").sources)


def test_indexing_is_idempotent_and_a_changed_file_replaces_its_passages(pg_config, tmp_path):
    assistant = Assistant.from_config(pg_config)
    note = tmp_path / "skerryvore.txt"
    note.write_text(NOTE, encoding="utf-8")
    first = assistant.index([note])
    again = assistant.index([note])
    assert first.added == ["skerryvore.txt"] and again.unchanged == ["skerryvore.txt"]
    assert again.passages == first.passages  # the same file twice adds nothing
    note.write_text("The keeper of Bell Rock was Robert Stevenson.", encoding="utf-8")
    assert assistant.index([note]).updated == ["skerryvore.txt"]
    store = assistant.store
    texts = [r[0] for r in store.query(f"SELECT content FROM {store.passages_table}")]  # type: ignore[attr-defined]
    assert "The keeper of Bell Rock was Robert Stevenson." in texts
    assert not [t for t in texts if "Skerryvore" in t]  # the old version's passages are gone


def test_a_failed_write_changes_nothing_readers_see(pg_config, tmp_path, monkeypatch):
    import index.stores.pgvector as pg

    assistant = Assistant.from_config(pg_config)
    before = (assistant.documents(), assistant.store.version())
    note = tmp_path / "big.txt"
    note.write_text(" ".join(f"Sentence number {i} is here." for i in range(40)), encoding="utf-8")
    written, real = [], pg._vector_text

    def failing(embedding):  # the connection dies half way through the document's passages
        if len(written) == 3:
            raise OSError("connection lost")
        written.append(1)
        return real(embedding)

    monkeypatch.setattr(pg, "_vector_text", failing)
    with pytest.raises(OSError):
        assistant.index([note])
    fresh = Assistant.from_config(pg_config)
    assert (fresh.documents(), fresh.store.version()) == before  # no half document, same version


def test_the_manifest_in_the_database_is_checked_on_connect(pg_config):
    Assistant.from_config(pg_config).documents()
    from qa.config import SplitterSettings

    other = Assistant.from_config(pg_config, splitter=SplitterSettings(max_sentences=2))
    with pytest.raises(IndexMismatchError, match=r"max_sentences=3.*qa index --rebuild"):
        other.documents()


@pytest.mark.slow
def test_the_real_models_answer_the_same_on_pgvector_as_on_faiss(real_assistant, database, monkeypatch):
    monkeypatch.setenv("QA_DATABASE_URL", database)
    pg = Assistant.from_config(index_dir=real_assistant.index_dir, reader="offline", store="pgvector",
                               db_schema=f"t_{uuid.uuid4().hex[:10]}")  # fmt: skip
    pg.index([SEEDS])
    questions = [
        json.loads(line)["question"] for line in (ROOT / "tests/data/article_questions.jsonl").open()
    ]
    same = [pg.ask(q).text == real_assistant.ask(q).text for q in questions[:30]]
    assert pg.ask(EXAMPLE_QUESTION).text == EXAMPLE_ANSWER
    assert sum(same) >= 29, same  # docs/scaling.md: the keyword halves differ (BM25 vs full-text search)
    pg.store.discard()


@pytest.mark.slow
def test_two_chat_servers_share_one_database(pg_config, tmp_path, database):
    from gradio_client import Client, handle_file

    env = {**os.environ, "QA_DATABASE_URL": database}
    ports = [free_port(), free_port()]
    command = [QA, "chat", "--config", str(pg_config), "--port"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    servers = [subprocess.Popen([*command, str(p)], env=env, cwd=ROOT, **quiet) for p in ports]
    try:
        clients = []
        for port in ports:
            deadline = time.monotonic() + 120
            while True:
                try:
                    clients.append(Client(f"http://127.0.0.1:{port}/", verbose=False))
                    break
                except Exception:
                    assert time.monotonic() < deadline, "the chat did not start"
                    time.sleep(1)
        one, other = clients
        note = tmp_path / "skerryvore.txt"
        note.write_text(NOTE, encoding="utf-8")
        one.predict([handle_file(str(note))], api_name="/add_documents")
        _, details = other.predict("Who was the lighthouse keeper of Skerryvore?", [], api_name="/chat")
        assert details["sources"][0]["document"] == "skerryvore.txt"
        one.predict("skerryvore.txt", api_name="/remove_document")
        _, details = other.predict("Who was the lighthouse keeper of Skerryvore?", [], api_name="/chat")
        assert all(s["document"] == ARTICLE.name for s in details["sources"])
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def test_a_database_outage_is_a_503_and_one_line_and_service_resumes_when_it_is_back(tmp_path, monkeypatch):
    """PostgreSQL stops while `qa serve --chat` runs: every way of asking says so in one line (503 for
    programs, /health too), and once it is back the same process answers again, nothing lost."""
    from fastapi.testclient import TestClient

    from qa.db import start_database, stop_database
    from ui.http_errors import UNAVAILABLE
    from ui.server import create_app

    folder = tmp_path / "own-db"  # its own server: stopping it leaves the other tests' one alone
    monkeypatch.setenv("QA_DATABASE_URL", start_database(folder))
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
    config = write_config(
        tmp_path, embedding_model="hash", reader="offline", offline_model="overlap", store="pgvector",
        seeds_dir=str(seeds), index_dir=str(tmp_path / "unused"),
    )  # fmt: skip
    app = create_app(Assistant.from_config(config), chat=True)
    ask = {"question": EXAMPLE_QUESTION}
    chat = {"model": "qa", "messages": [{"role": "user", "content": EXAMPLE_QUESTION}]}
    try:
        # raise_server_exceptions (the default): an exception re-raised for the log fails the test
        with TestClient(app, base_url="http://127.0.0.1:1416") as client:
            answered = client.post("/ask", json=ask).json()
            stop_database(folder)  # mid-run
            for response in (
                client.post("/ask", json=ask),
                client.get("/documents"),
                client.post("/v1/chat/completions", json=chat),
            ):
                assert response.status_code == 503, response.text
                assert response.json()["error"] == UNAVAILABLE and response.headers["retry-after"]
            health = client.get("/health")
            assert health.status_code == 503
            assert health.json() == {"status": "unavailable", "error": UNAVAILABLE}
            # a stream looks the collection up before it opens, so the outage is its 503 too
            streamed = client.post("/v1/chat/completions", json={**chat, "stream": True})
            assert streamed.status_code == 503 and streamed.json()["error"] == UNAVAILABLE
            event = client.post("/chat/gradio_api/call/chat", json={"data": [EXAMPLE_QUESTION, []]}).json()
            shown = client.get(f"/chat/gradio_api/call/chat/{event['event_id']}").text
            error = json.loads(shown.split("event: error\ndata: ", 1)[1].split("\n", 1)[0])["error"]
            assert error.startswith("the database is unavailable") and "\n" not in error
            start_database(folder)  # back
            assert client.post("/ask", json=ask).json() == {**answered, "timings_ms": ANY}
            assert client.get("/health").json()["status"] == "ok"
            assert client.get("/documents").json()["documents"] == [{"name": ARTICLE.name, "passages": 20}]
    finally:
        stop_database(folder)
