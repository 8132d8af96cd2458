"""Uploads against a hostile client, on both ways the chat is served (`qa chat`: Gradio launched;
`qa serve --chat`: Gradio mounted on FastAPI, where Gradio checks no file path): only files the
chat itself received as uploads are read, one bad file never blocks the others, and what a client
uploads neither piles up nor lands on a read-only chat."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import ARTICLE, free_port, serve

SECRET = "The vault code of the server is 4417-alpha."


def call(base: str, endpoint: str, data: list) -> tuple[str, object]:
    """POST /gradio_api/call/<endpoint> as a raw client does: ('complete', outputs) or ('error', message)."""
    posted = httpx.post(f"{base}gradio_api/call/{endpoint}", json={"data": data}, timeout=30)
    posted.raise_for_status()
    event_id = posted.json()["event_id"]
    with httpx.stream("GET", f"{base}gradio_api/call/{endpoint}/{event_id}", timeout=120) as stream:
        event = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event in ("complete", "error"):
                return event, json.loads(line.removeprefix("data: "))
    raise AssertionError("the call ended without a result")


def file_data(path: str | Path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def names(base: str) -> list[str]:
    from gradio_client import Client

    _, table, _ = Client(base, verbose=False).predict("", api_name="/remove_document")
    return [row[0] for row in table["data"]]


def serve_mounted(assistant) -> tuple[str, object]:
    """`qa serve --chat` in this process on a free loopback port: (the chat's URL, stop)."""
    import uvicorn

    from ui.server import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(assistant, chat=True), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.1)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)

    return f"http://127.0.0.1:{port}/chat/", stop


@pytest.fixture
def mounted(fake_assistant) -> Iterator[str]:
    url, stop = serve_mounted(fake_assistant)
    yield url
    stop()


@pytest.fixture
def launched(fake_assistant) -> Iterator[str]:
    app = serve(fake_assistant)
    yield app.local_url
    app.close()


@pytest.fixture
def unchecked(monkeypatch, mounted) -> str:
    """Mounted, with Gradio's own path check switched off: ours must hold alone."""
    from gradio import processing_utils

    monkeypatch.setattr(processing_utils, "_check_allowed", lambda *args, **kwargs: None)
    return mounted


@pytest.fixture(params=["launched", "mounted", "unchecked"])
def chat_url(request) -> str:
    """The chat's base URL, served each way."""
    return request.getfixturevalue(request.param)


def test_a_server_file_named_by_path_is_refused_and_a_real_upload_still_works(request, chat_url, tmp_path):
    from gradio.utils import get_upload_folder
    from gradio_client import Client, handle_file

    secret = tmp_path / "creds.txt"  # outside the upload folder
    secret.write_text(SECRET + "\n", encoding="utf-8")
    planted = Path(get_upload_folder()) / "planted-by-another-process" / "notes.txt"
    planted.parent.mkdir(parents=True, exist_ok=True)  # inside it, but never uploaded to this chat
    planted.write_text(SECRET + "\n", encoding="utf-8")
    try:
        for path in (secret, planted):
            event, result = call(chat_url, "add_documents", [[file_data(path)]])
            if event == "error":  # Gradio's own check refused it first (outside its upload folder)
                assert path == secret and "unchecked" not in request.node.name
            else:
                assert result[0] == (  # type: ignore[index]
                    f"Refused:\n- {path.name}: not a file uploaded to this chat; add it with the upload box"
                )
        assert names(chat_url) == [ARTICLE.name]
        assert secret.read_text(encoding="utf-8") == SECRET + "\n"  # named files are never deleted

        good = tmp_path / "harbour.txt"
        good.write_text("The harbour master of Port Elin is Ivo Petrov.\n", encoding="utf-8")
        client = Client(chat_url, verbose=False)
        status, _ = client.predict([handle_file(good)], api_name="/add_documents")
        assert status == "Added **harbour.txt** (1 passage)."
        assert names(chat_url) == [ARTICLE.name, "harbour.txt"]
    finally:
        planted.unlink(missing_ok=True)
        planted.parent.rmdir()
        for copy in Path(get_upload_folder()).rglob("creds.txt"):  # what Gradio copied, unchecked
            copy.unlink()


def test_only_received_files_inside_the_upload_folder_pass(tmp_path: Path):
    from ui.uploads import received_only

    folder = tmp_path / "uploads"
    (folder / "a1").mkdir(parents=True)
    real = folder / "a1" / "notes.txt"
    real.write_text("notes\n", encoding="utf-8")
    outside = tmp_path / "creds.txt"
    outside.write_text(SECRET, encoding="utf-8")
    link = folder / "a1" / "link.txt"
    link.symlink_to(outside)
    escape = str(folder / "a1" / ".." / ".." / "creds.txt")
    received = {str(real), str(link), str(outside), escape}  # as if Gradio had listed them all
    accepted, refused = received_only(
        [str(real), str(link), str(outside), escape, "bad\x00name.txt", {"path": str(outside)}],
        received,
        folder,
    )
    assert accepted == [str(real)]
    assert [line.split(":")[0] for line in refused] == [
        "link.txt", "creds.txt", "creds.txt", "badname.txt", "a dict",
    ]  # fmt: skip


def test_a_pdf_bomb_in_a_batch_is_refused_alone_and_the_good_file_is_added(client, tmp_path: Path):
    from gradio_client import handle_file
    from test_reliability import bomb_pdf

    bomb = bomb_pdf(tmp_path / "bomb.pdf")
    good = tmp_path / "good.txt"
    good.write_text("The harbour master of Port Elin is Ivo Petrov.\n", encoding="utf-8")
    status, table = client.predict([handle_file(bomb), handle_file(good)], api_name="/add_documents")
    added, refused = status.split("\n\n")
    assert added == "Added **good.txt** (1 passage)."
    assert refused.startswith("Refused:\n- bomb.pdf: this PDF inflates past the reading limits (")
    assert refused.endswith("), as a decompression bomb does; skipped") and refused.count("\n") == 1
    assert [row[0] for row in table["data"]] == [ARTICLE.name, "good.txt"]


# ---- what the upload folder holds (item 6) --------------------------------------------------------
def upload(base: str, *files: tuple[str, bytes]) -> httpx.Response:
    """POST files to Gradio's upload route as any client can, without adding them."""
    parts = [("files", (name, data, "text/plain")) for name, data in files]
    return httpx.post(f"{base}gradio_api/upload", files=parts, timeout=30)


@pytest.mark.parametrize("how", ["launched", "mounted"])
def test_a_read_only_chat_refuses_uploads(read_only_assistant, how, tmp_path):
    from gradio.utils import get_upload_folder

    if how == "launched":
        app = serve(read_only_assistant)
        base, close = app.local_url, app.close
    else:
        base, close = serve_mounted(read_only_assistant)
    marker = f"read-only-{how}-{tmp_path.name}.txt"
    try:
        refused = upload(base, (marker, b"The harbour master is Ivo Petrov.\n"))
        assert refused.status_code == 403
        assert refused.json() == {"error": "this chat is read-only: it takes no uploads"}
        assert list(Path(get_upload_folder()).rglob(marker)) == []
    finally:
        close()


def test_the_uploads_held_are_bounded_and_added_ones_leave_no_folder(monkeypatch, fake_assistant, tmp_path):
    import ui.upload_guard

    monkeypatch.setattr(ui.upload_guard, "MAX_HELD_BYTES", 60_000)
    # its own upload folder: the bound counts every file in it, other chats' (and tests') too
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    app = serve(fake_assistant)
    try:
        base = app.local_url
        first = upload(base, ("held-a.txt", b"x" * 30_000))
        assert first.status_code == 200
        held = Path(first.json()[0])
        assert held.is_file()
        full = upload(base, ("held-b.txt", b"y" * 40_000))  # 30 KB held + 40 KB > 60 KB
        assert full.status_code == 503 and full.headers["retry-after"] == "60"
        assert full.json() == {
            "error": "too many uploads are waiting to be added (1 files, 0.0 MB); try again in a minute"
        }

        # adding (or refusing) what was uploaded lets it go, file and folder
        event, result = call(base, "add_documents", [[file_data(held)]])
        assert event == "complete" and result[0].startswith("Added **held-a.txt**")  # type: ignore[index]
        assert not held.exists() and not held.parent.exists()
        assert upload(base, ("held-b.txt", b"y" * 40_000)).status_code == 200
    finally:
        app.close()


@pytest.mark.parametrize("command", [["chat"], ["serve", "--chat"]])
def test_a_stopped_chat_leaves_no_uploads_behind(fake_config, tmp_path, command):
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    folder = tmp_path / "gradio-uploads"
    port = free_port()
    qa = str(Path(sys.executable).parent / "qa")
    process = subprocess.Popen(
        [qa, *command, "--port", str(port), "--config", str(fake_config)], cwd=ROOT,
        env={**os.environ, "GRADIO_TEMP_DIR": str(folder), "QA_AUTH": "", "QA_API_KEYS": ""},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/" + ("chat/" if "serve" in command else "")
    try:
        deadline = time.monotonic() + 600  # a loaded CI machine
        while True:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr
            try:
                if httpx.get(base, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        sent = upload(base, ("never-added.txt", b"uploaded, never added\n"), ("other.txt", b"other\n"))
        assert sent.status_code == 200 and all(Path(p).is_file() for p in sent.json())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=300)
    left = [p.relative_to(folder) for p in folder.rglob("*") if p.name != "vibe_edit_history"]
    assert left == []  # no file, no empty folder per upload (Gradio's own empty folder aside)


# ---- names that look alike (item 9) --------------------------------------------------------------
NFC, NFD = "caf\u00e9.txt", "cafe\u0301.txt"


def look_alike_files(folder):
    """Two folders under `folder`, "first" holding NFC and "second" NFD, each a different text."""
    first, second = folder / "first", folder / "second"
    first.mkdir()
    second.mkdir()
    (first / NFC).write_text("The caf\u00e9 opens at nine.\n", encoding="utf-8")
    (second / NFD).write_text("The caf\u00e9 opens at ten.\n", encoding="utf-8")
    return first, second


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (NFD, NFC),
        ("rtl\u202etxt.md", "rtltxt.md"),  # displayed "rtldm.txt" before
        ("zero\u200bwidth\u200d.txt", "zerowidth.txt"),
        ("\u2066isolated\u2069 \u200fmarks.md", "isolated marks.md"),
        ("line\u2028break\x00.txt", "linebreak.txt"),
        ("\u202e", "(unnamed)"),
        ("Ivo Petrov – notes (2024).md", "Ivo Petrov – notes (2024).md"),
    ],
)
def test_document_names_are_nfc_without_invisible_characters(raw, name):
    from qa.uploads import document_name

    assert document_name(raw) == name


def test_a_name_in_nfd_replaces_its_nfc_twin_in_the_index_and_the_chat(fake_assistant, tmp_path):
    first, second = look_alike_files(tmp_path)
    assert list(fake_assistant.documents()) == [ARTICLE.name]  # built from the seeds
    assert fake_assistant.index([first / NFC]).added == [NFC]
    assert fake_assistant.index([second / NFD]).updated == [NFC]
    assert [n for n in fake_assistant.documents() if n.startswith("caf")] == [NFC]

    from ui.uploads import remove_document

    assert remove_document(fake_assistant, NFD) == f"Removed **{NFC}**."
    assert NFC not in fake_assistant.documents()


def test_uploads_named_alike_replace_each_other_and_controls_are_dropped(client, tmp_path):
    from gradio_client import handle_file

    first, second = look_alike_files(tmp_path)
    tricky = tmp_path / "rtl\u202etxt.md"
    tricky.write_text("Right to left.\n", encoding="utf-8")
    status, _ = client.predict([handle_file(first / NFC), handle_file(tricky)], api_name="/add_documents")
    assert status == f"Added **{NFC}** (1 passage), **rtltxt.md** (1 passage)."
    status, table = client.predict([handle_file(second / NFD)], api_name="/add_documents")
    assert status == f"Replaced **{NFC}** (1 passage) with the new version."
    assert [row[0] for row in table["data"]] == [ARTICLE.name, NFC, "rtltxt.md"]
