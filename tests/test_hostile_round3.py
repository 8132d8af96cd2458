"""A hostile client, round 3 (issue 26, items 2-8): spoofed addresses, a chat open without a login, a
queue one client fills, slow uploads, tracebacks, upload leftovers and what errors tell a client.
Each test fails on the code before the fix."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from conftest import EXAMPLE_ANSWER, EXAMPLE_QUESTION, free_port, serve, uvicorn_thread

LOCAL = "http://127.0.0.1:1416"
KEY = "secret-key-1"


def served(app, trusted: list[str] | None = None) -> AbstractContextManager[str]:
    """`app` served as `qa serve` serves it (its uvicorn settings), on a free loopback port."""
    from ui.server import server_config

    return uvicorn_thread(lambda port: server_config(app, "127.0.0.1", port, trusted))


# ---- 2. X-Forwarded-For ------------------------------------------------------------------------


def _guesses(url: str, path: str, send) -> list[int]:
    """Six wrong credentials, each naming another address in X-Forwarded-For."""
    return [send(url + path, {"x-forwarded-for": f"203.0.113.{i}"}).status_code for i in range(6)]


def test_a_forwarded_address_is_believed_only_from_the_proxies_the_operator_names(fake_assistant):
    from ui.server import create_app

    def wrong_key(url: str, headers: dict) -> httpx.Response:
        return httpx.get(url, headers={**headers, "authorization": "Bearer guess-guess"})

    app = create_app(fake_assistant, api_keys=[KEY])
    with served(app) as url:  # the default: no proxy trusted, the header changes nothing
        assert _guesses(url, "/documents", wrong_key) == [401] * 5 + [429]
    with served(create_app(fake_assistant, api_keys=[KEY]), trusted=["127.0.0.1"]) as url:
        assert _guesses(url, "/documents", wrong_key) == [401] * 6  # six clients behind the proxy

    from ui.access import trusted_proxies

    assert trusted_proxies("10.0.0.2, 10.1.0.0/16") == ["10.0.0.2", "10.1.0.0/16"]
    with pytest.raises(Exception, match="QA_TRUSTED_PROXIES must be the addresses of your proxies"):
        trusted_proxies("proxy.example.com")


def test_the_launched_chat_believes_no_forwarded_address_either(fake_assistant, monkeypatch):
    monkeypatch.delenv("QA_TRUSTED_PROXIES", raising=False)
    app = serve(fake_assistant, auth=[("alice", "right-password")])
    try:

        def wrong_login(url: str, headers: dict) -> httpx.Response:
            return httpx.post(url, headers=headers, data={"username": "alice", "password": "guess"})

        assert _guesses(app.local_url.rstrip("/"), "/login", wrong_login) == [400] * 5 + [429]
    finally:
        app.close()


# ---- 3. every route needs a credential when one is configured --------------------------------------


def test_api_keys_without_logins_close_the_chat_too(fake_assistant):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    key = {"Authorization": f"Bearer {KEY}"}
    remove = ("/chat/gradio_api/call/remove_document", {"data": ["ap-china-russia-sanctions.txt"]})
    with TestClient(create_app(fake_assistant, chat=True, api_keys=[KEY]), base_url=LOCAL) as client:
        for path in ("/chat/", "/chat/gradio_api/info", "/chat/config"):
            assert client.get(path).status_code == 401, path
        assert client.post(remove[0], json=remove[1]).status_code == 401
        assert client.get("/chat/", headers=key).status_code == 200
        moved = client.get("/chat", follow_redirects=False)  # a redirect, not a 401
        assert moved.status_code == 307 and moved.headers["location"] == "/chat/"
        assert client.get("/documents", headers=key).json()["documents"]  # nothing was removed
    with TestClient(
        create_app(fake_assistant, chat=True, api_keys=[KEY], open_chat=True), base_url=LOCAL
    ) as client:
        assert client.get("/chat/").status_code == 200  # open on purpose (--no-login)
        assert client.get("/documents").status_code == 401
    with TestClient(create_app(fake_assistant, chat=True, auth=[("alice", "pw")]), base_url=LOCAL) as client:
        closed = client.post("/ask", json={"question": EXAMPLE_QUESTION})
        assert closed.status_code == 401 and "QA_API_KEYS" in closed.json()["error"]


def test_serving_a_chat_with_keys_but_no_logins_must_be_asked_for(fake_config):
    import subprocess
    import sys

    qa = str(Path(sys.executable).parent / "qa")
    env = {**os.environ, "QA_API_KEYS": KEY, "QA_AUTH": ""}
    result = subprocess.run(
        [qa, "serve", "--chat", "--port", str(free_port()), "--config", str(fake_config)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0 and result.stderr.count("\n") == 1, result.stderr
    assert "QA_API_KEYS is set but QA_AUTH is not" in result.stderr and "--no-login" in result.stderr


# ---- 4. the chat's queue -----------------------------------------------------------------------------


def test_one_client_cannot_fill_the_queue_and_another_is_answered_in_seconds(fake_assistant, monkeypatch):
    from gradio_client import Client

    real_ask = fake_assistant.ask

    gate = threading.Event()
    gate.set()

    def slow_ask(*args, **kwargs):
        assert gate.wait(60)
        time.sleep(0.5)
        return real_ask(*args, **kwargs)

    monkeypatch.setattr(fake_assistant, "ask", slow_ask)
    app = serve(fake_assistant)
    try:
        index = next(i for i, fn in app.fns.items() if fn.api_name == "chat")
        join = f"{app.local_url}gradio_api/queue/join"

        def flood(session: str) -> httpx.Response:
            body = {"data": [EXAMPLE_QUESTION, []], "fn_index": index, "session_hash": session}
            return httpx.post(join, json=body, timeout=30)

        with ThreadPoolExecutor(16) as pool:  # 200 x 0.5 s / 4 at once: 25 s of work
            answers = list(pool.map(flood, ["flood"] * 200))
        statuses = [r.status_code for r in answers]
        assert statuses.count(429) >= 150 and set(statuses) == {200, 429}, statuses
        refused = next(r for r in answers if r.status_code == 429)
        assert "too many requests from your session" in refused.json()["detail"]
        assert "try again in" in refused.json()["detail"] and int(refused.headers["retry-after"]) >= 1

        started = time.monotonic()
        reply, _ = Client(app.local_url, verbose=False).predict(EXAMPLE_QUESTION, api_name="/chat")
        assert EXAMPLE_ANSWER in reply and time.monotonic() - started < 5

        # many sessions from one address: capped per address (nothing finishes meanwhile)
        time.sleep(3)  # what the flood got in is answered
        gate.clear()
        with ThreadPoolExecutor(16) as pool:
            many = [r.status_code for r in pool.map(flood, [f"s{i}" for i in range(60)])]
        assert many.count(200) == 32 and many.count(429) == 28, many
    finally:
        gate.set()
        app.close()


# ---- 5 and 7. slow uploads, and what uploads leave behind ---------------------------------------------


def _stalled_upload(url: str, declared: int, sent: int) -> socket.socket:
    """An upload that declares `declared` bytes, sends `sent` of them, then waits."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="slow.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    conn = socket.create_connection((host, int(port)))
    conn.sendall(
        (
            f"POST /gradio_api/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n"
        ).encode()
        + head
        + b"x" * (sent - len(head))
    )
    return conn


def _response_of(conn: socket.socket) -> str:
    """The whole response on `conn`: its head and body may come in separate packets."""
    conn.settimeout(15)
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(received):
        piece = conn.recv(4096)
        if not piece:
            break
        received += piece
    return received.decode()


def _length(received: bytes) -> int:
    found = re.search(rb"content-length: *(\d+)", received, re.IGNORECASE)
    return int(found.group(1)) if found else 0


def _upload(url: str, name: str, size: int) -> httpx.Response:
    return httpx.post(
        f"{url}gradio_api/upload", files=[("files", (name, b"y" * size, "text/plain"))], timeout=30
    )


def test_slow_uploads_reserve_only_what_they_sent_and_stalled_ones_are_dropped(
    fake_assistant, monkeypatch, tmp_path
):
    import ui.upload_guard

    folder = tmp_path / "uploads"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    monkeypatch.setattr(ui.upload_guard, "MAX_HELD_BYTES", 100_000)
    monkeypatch.setattr(ui.upload_guard, "STALL_S", 3.0)
    app = serve(fake_assistant)
    try:
        url = app.local_url
        slow = _stalled_upload(url, declared=90_000, sent=2_000)
        time.sleep(0.5)
        assert list(folder.glob("tmp*")), "Gradio writes what arrives to a temporary file"
        assert _upload(url, "quick.txt", 30_000).status_code == 200  # 90 KB declared is not held
        other = _stalled_upload(url, declared=20_000, sent=1_000)
        time.sleep(0.3)
        third = _upload(url, "third.txt", 1_000)  # a third upload at once from one address
        assert third.status_code == 429 and "already sending 2 uploads" in third.json()["error"]
        answer = _response_of(slow)
        assert answer.startswith("HTTP/1.1 408") and "stalled" in answer
        other.close()
        slow.close()
        time.sleep(4)  # the second one stalls out too
        assert list(folder.glob("tmp*")) == []  # the dropped uploads' temporary files are gone
        assert _upload(url, "after.txt", 1_000).status_code == 200
    finally:
        app.close()


def test_leftovers_of_a_killed_chat_are_counted_and_cleaned_at_start(fake_assistant, monkeypatch, tmp_path):
    import ui.upload_guard

    folder = tmp_path / "uploads"
    folder.mkdir()
    hour_ago = time.time() - 2 * 3600
    stale_temporary = folder / "tmpkilled"  # an upload cut by kill -9
    stale_temporary.write_bytes(b"z" * 5_000)
    os.utime(stale_temporary, (hour_ago, hour_ago))
    stale_upload = folder / ("a" * 64) / "never-added.txt"
    stale_upload.parent.mkdir()
    stale_upload.write_bytes(b"never added\n")
    os.utime(stale_upload, (hour_ago, hour_ago))
    fresh = folder / "tmpjustnow"  # younger than a stalled upload: maybe another chat's, counted
    fresh.write_bytes(b"z" * 50_000)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    monkeypatch.setattr(ui.upload_guard, "MAX_HELD_BYTES", 60_000)
    app = serve(fake_assistant)
    try:
        assert not stale_temporary.exists() and not stale_upload.exists()
        refused = _upload(app.local_url, "big.txt", 20_000)  # 50 KB left over + 20 KB > 60 KB
        assert refused.status_code == 503
        fresh.unlink()
        assert _upload(app.local_url, "big.txt", 20_000).status_code == 200
    finally:
        app.close()


# ---- 6. no tracebacks ----------------------------------------------------------------------------------


def test_hostile_mcp_messages_get_a_json_rpc_error_and_one_log_line(fake_assistant, caplog):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    deep = "[" * 50_000 + "]" * 50_000
    bodies = [
        '{"jsonrpc": "2.0", "id": ' + "7" * 5_000 + ', "method": "tools/list"}',
        '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask_documents", '
        '"arguments": {"question": ' + deep + "}}}",
        '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": 5}',
    ]
    with TestClient(create_app(fake_assistant), base_url=LOCAL, raise_server_exceptions=False) as client:
        for body in bodies:
            caplog.clear()
            response = client.post("/mcp/", content=body, headers=headers)
            assert response.status_code == 400, response.text[:300]
            error = response.json()["error"]
            assert error["code"] in (-32700, -32600) and "\n" not in error["message"]
            assert "pydantic" not in response.text and "validation error" not in response.text.lower()
            assert [r for r in caplog.records if r.exc_info] == []
            assert len([r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]) == 1
        listed = client.post(
            "/mcp/", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=headers
        )
        assert listed.status_code == 200 and "ask_documents" in listed.text


def test_closing_an_sse_stream_logs_no_traceback(fake_assistant, capfd):
    from ui.server import create_app

    with served(create_app(fake_assistant)) as url:
        for _ in range(3):
            with httpx.stream("GET", f"{url}/sse", timeout=10) as stream:
                assert next(stream.iter_lines()).startswith("event: endpoint")
        time.sleep(1)
    assert "Traceback" not in capfd.readouterr().err


# ---- 8. what errors tell a client; keys; whose upload; heartbeats --------------------------------------


def test_a_database_outage_in_the_chat_is_one_line_without_its_address(fake_assistant, monkeypatch, caplog):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from qa.errors import StoreUnavailableError

    socket_path = "/run/secret/.s.PGSQL.5432"

    def down(*args, **kwargs):
        raise StoreUnavailableError(f"the database is unavailable (connection to {socket_path} failed)")

    app = serve(fake_assistant)
    try:
        monkeypatch.setattr(fake_assistant, "ask", down)
        with pytest.raises(AppError) as refused:
            Client(app.local_url, verbose=False).predict(EXAMPLE_QUESTION, api_name="/chat")
        assert "database is unavailable" in str(refused.value) and socket_path not in str(refused.value)
        assert socket_path in caplog.text  # the detail is the operator's, in the log
    finally:
        app.close()


def test_api_keys_are_compared_in_constant_time(fake_assistant, monkeypatch):
    import hmac

    from fastapi.testclient import TestClient

    import ui.access
    from ui.server import create_app

    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(ui.access.hmac, "compare_digest", spy)
    keys = [KEY, "secret-key-2"]
    with TestClient(create_app(fake_assistant, api_keys=keys), base_url=LOCAL) as client:
        assert client.get("/documents", headers={"authorization": "Bearer secret-key-2"}).status_code == 200
    assert len(compared) == 2  # every key compared, the right one second: no early exit


def _logged_in(url: str, user: str) -> httpx.Client:
    session = httpx.Client(base_url=url, timeout=30)
    assert session.post("login", data={"username": user, "password": "pw"}).status_code == 200
    return session


def _call(session: httpx.Client, endpoint: str, data: list) -> tuple[str, object]:
    event_id = session.post(f"gradio_api/call/{endpoint}", json={"data": data}).json()["event_id"]
    event = None
    with session.stream("GET", f"gradio_api/call/{endpoint}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event in ("complete", "error"):
                return event, json.loads(line.removeprefix("data: "))
    raise AssertionError("no result")


def test_a_pending_upload_can_be_added_only_by_whoever_sent_it(fake_assistant):
    app = serve(fake_assistant, auth=[("alice", "pw"), ("bob", "pw")])
    try:
        alice, bob = _logged_in(app.local_url, "alice"), _logged_in(app.local_url, "bob")
        files = [("files", ("alice-notes.txt", b"The harbour master is Ivo Petrov.\n", "text/plain"))]
        path = alice.post("gradio_api/upload", files=files).json()[0]
        data = [[{"path": path, "meta": {"_type": "gradio.FileData"}}]]
        event, result = _call(bob, "add_documents", data)
        assert event == "complete" and "not a file uploaded to this chat" in result[0]  # type: ignore[index]
        assert Path(path).is_file()  # and bob's try did not delete it
        event, result = _call(alice, "add_documents", data)
        assert event == "complete" and result[0].startswith("Added **alice-notes.txt**")  # type: ignore[index]
    finally:
        app.close()


def test_heartbeat_streams_need_the_login(fake_assistant):
    app = serve(fake_assistant, auth=[("alice", "pw")])
    try:
        url = app.local_url
        assert httpx.get(f"{url}gradio_api/heartbeat/anyone", timeout=10).status_code == 401
        alice = _logged_in(url, "alice")
        with alice.stream("GET", "gradio_api/heartbeat/alices-session") as stream:
            assert stream.status_code == 200
    finally:
        app.close()
