"""The served chat against what a careless or hostile client sends: per-file outcomes in a batch,
malformed API input, uploads that must not pile up, a read-only deployment and a login."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui import HARBOUR

from conftest import ARTICLE, EXAMPLE_ANSWER, EXAMPLE_QUESTION, serve
from qa.uploads import MAX_FILE_BYTES


def test_one_bad_file_does_not_block_the_others(client, tmp_path: Path):
    from gradio_client import handle_file

    good = tmp_path / "harbour.md"
    good.write_text(HARBOUR, encoding="utf-8")
    hidden = tmp_path / ".notes.md"
    hidden.write_text("The harbour master of Port Elin is Ivo Petrov.\n", encoding="utf-8")
    word = tmp_path / "setup.exe"
    word.write_bytes(b"MZ" + b"\x00" * 64)
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (MAX_FILE_BYTES + 1))

    files = [handle_file(p) for p in (good, hidden, word, big)]
    status, table = client.predict(files, api_name="/add_documents")
    summary, details = status.split("\n\n", 1)  # four files: one line, the details folded under it
    assert summary == "Added 2 files (2 passages); refused 2: 1 unsupported (.exe), 1 too large."
    assert details.startswith("<details><summary>Details</summary>") and details.endswith("</details>")
    assert "Added **harbour.md** (1 passage), **.notes.md** (1 passage)." in status
    assert "setup.exe: unsupported file type .exe; use .txt, .md, .pdf" in status
    assert "big.txt: 10.5 MB is over the 10 MB limit; split the file" in status
    assert [row[0] for row in table["data"]] == [".notes.md", ARTICLE.name, "harbour.md"]


def test_uploaded_copies_are_deleted_once_handled(client, tmp_path: Path):
    from gradio_client import handle_file

    good = tmp_path / "harbour.md"
    good.write_text(HARBOUR, encoding="utf-8")
    refused = tmp_path / "scan.pdf"
    refused.write_text("not a PDF", encoding="utf-8")
    client.predict([handle_file(good), handle_file(refused)], api_name="/add_documents")
    client.predict("harbour.md", api_name="/remove_document")
    from gradio.utils import get_upload_folder

    uploads = Path(get_upload_folder()).rglob("*")
    assert [p for p in uploads if p.is_file() and p.name in {"harbour.md", "scan.pdf"}] == []


@pytest.mark.parametrize("name", [123, ["harbour.md"], {"a": 1}])
def test_malformed_removals_get_a_message_not_a_crash(client, name):
    status, table, _ = client.predict(name, api_name="/remove_document")
    assert status == f"The document to remove must be named by a string, not a {type(name).__name__}."
    assert [row[0] for row in table["data"]] == [ARTICLE.name]


def test_malformed_chat_input_gets_a_message_not_a_crash(client):
    from gradio_client.exceptions import AppError

    nested: list = ["Who is Meng Wanzhou?"]
    for _ in range(500):
        nested = [nested]
    reply, _ = client.predict(EXAMPLE_QUESTION, [{"role": "user", "content": nested}], api_name="/chat")
    assert EXAMPLE_ANSWER in reply
    with pytest.raises(AppError, match="the question must be text, got int"):
        client.predict(123, api_name="/chat")
    with pytest.raises(AppError, match="history item 1 is a str"):
        client.predict(EXAMPLE_QUESTION, ["just a string"], api_name="/chat")
    long = [{"role": "user", "content": "lorem ipsum dolor " * 10_000}]  # 180 KB: under the request cap
    _, details = client.predict("What did he do?", long, api_name="/chat")
    assert len(details["rewritten_question"]) <= 4000


def test_a_read_only_chat_answers_but_takes_no_documents(read_only_assistant):
    from gradio_client import Client

    app = serve(read_only_assistant)
    try:
        client = Client(app.local_url, verbose=False)
        reply, _ = client.predict(EXAMPLE_QUESTION, api_name="/chat")
        assert EXAMPLE_ANSWER in reply
        endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert "/chat" in endpoints
        assert "/add_documents" not in endpoints and "/remove_document" not in endpoints
    finally:
        app.close()


def test_a_login_is_asked_for_when_configured(fake_assistant):
    import httpx
    from gradio_client import Client

    app = serve(fake_assistant, auth=[("alice", "s3cret")])
    try:
        assert httpx.post(f"{app.local_url}gradio_api/call/chat", json={"data": ["Hi?"]}).status_code == 401
        with pytest.raises(ValueError):
            Client(app.local_url, auth=("alice", "wrong"), verbose=False)
        reply, _ = Client(app.local_url, auth=("alice", "s3cret"), verbose=False).predict(
            EXAMPLE_QUESTION, api_name="/chat"
        )
        assert EXAMPLE_ANSWER in reply
    finally:
        app.close()


def test_an_oversized_request_is_refused_and_the_server_keeps_answering(app, client):
    import httpx

    url = f"{app.local_url}gradio_api/call/chat"
    huge = {"data": ["What did he do?", [{"role": "user", "content": "lorem ipsum dolor " * 60_000}]]}
    refused = httpx.post(url, json=huge, timeout=60)
    assert refused.status_code == 413 and "send a shorter question" in refused.json()["error"]

    def chunks():  # no Content-Length: the body streams until the cap
        yield b'{"data": ["What did he do?", [{"role": "user", "content": "'
        for _ in range(200):
            yield b"lorem ipsum dolor " * 1000
        yield b'"}]]}'

    streamed = httpx.post(url, content=chunks(), headers={"content-type": "application/json"}, timeout=60)
    assert streamed.status_code == 413
    reply, _ = client.predict(EXAMPLE_QUESTION, api_name="/chat")
    assert EXAMPLE_ANSWER in reply
