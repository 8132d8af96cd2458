"""What a shared server must survive: huge and malformed requests, concurrent writers in several
processes, damaged index files, a full disk, and files people really have (UTF-16)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ARTICLE, EXAMPLE_ANSWER, EXAMPLE_QUESTION
from index.stores import faiss as store
from qa import Assistant, BadInputError, IndexDamagedError, IndexWriteError


def _doc(folder: Path, name: str, fact: str) -> Path:
    path = folder / name
    path.write_text(f"{fact}\n", encoding="utf-8")
    return path


# ---- requests -------------------------------------------------------------------------------------
def test_a_huge_history_cannot_make_a_huge_search(fake_assistant):
    limit = fake_assistant.settings.max_question_chars
    history = [{"role": "user", "content": "lorem ipsum dolor " * 60_000}]  # about 1 MB
    answer = fake_assistant.ask("What did he do?", history=history)
    assert answer.rewritten_question is not None
    assert len(answer.rewritten_question) <= 2 * limit  # the question plus at most one bounded turn


def test_malformed_histories_and_questions_are_refused_with_what_to_do(fake_assistant):
    from ui.history import clean_history

    nested: list = ["Who is Meng Wanzhou?"]
    for _ in range(5000):
        nested = [nested]
    assert clean_history([{"role": "user", "content": nested}]) == []  # deep nesting is no text
    with pytest.raises(BadInputError, match="history item 1 is a int"):
        clean_history([123])
    with pytest.raises(BadInputError, match="must be text, got int"):
        fake_assistant.check_question(123)
    with pytest.raises(BadInputError, match="history must be a list"):
        fake_assistant.ask("Who was sanctioned?", history="Who is Meng?")
    with pytest.raises(BadInputError, match="each history message must be"):
        fake_assistant.ask("Who was sanctioned?", history=[{"role": "user", "content": ["nested"]}])


@pytest.mark.parametrize("name", [123, ["a.txt"], {"a": 1}])
def test_removing_by_a_name_that_is_not_text_says_so(fake_assistant, name):
    from ui.uploads import remove_document

    message = remove_document(fake_assistant, name)
    assert message.startswith("The document to remove must be named by a string")
    assert ARTICLE.name in fake_assistant.documents()


# ---- writers in several processes ----------------------------------------------------------------
def test_two_processes_adding_documents_at_once_keep_both(fake_config, tmp_path):
    env = {**os.environ, "QA_CONFIG": str(fake_config)}
    Assistant.from_config(fake_config).index([ARTICLE])
    expected = {ARTICLE.name}
    for round_ in range(3):
        files = [_doc(tmp_path, f"r{round_}-{k}.txt", f"Fact {round_}-{k} is true.") for k in range(2)]
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "qa.cli", "index", str(f)], env=env, stderr=subprocess.PIPE
            )
            for f in files
        ]
        for run in runs:
            _, err = run.communicate(timeout=300)
            assert run.returncode == 0, err.decode()
        expected |= {f.name for f in files}
    assert set(Assistant.from_config(fake_config).documents()) == expected


def test_a_running_assistant_sees_and_keeps_what_another_process_wrote(fake_config, tmp_path):
    chat = Assistant.from_config(fake_config)  # one process: a running chat
    chat.ask(EXAMPLE_QUESTION)  # loads the index (built from the seeds)
    cli = Assistant.from_config(fake_config)  # another process: `qa index`
    cli.index([_doc(tmp_path, "harbour.txt", "The lighthouse keeper of Port Elin is Agnes Varga.")])
    answer = chat.ask("Who is the lighthouse keeper of Port Elin?")
    assert "Agnes Varga" in (answer.text or "")  # answered from the newer version, no restart
    chat.index([_doc(tmp_path, "mill.txt", "The miller of Port Elin is Tomas Berg.")])
    cli.remove(ARTICLE.name)
    assert set(chat.documents()) == set(cli.documents()) == {"harbour.txt", "mill.txt"}


def test_concurrent_writers_in_one_process_lose_nothing(fake_config, tmp_path):
    first = Assistant.from_config(fake_config)
    first.index([ARTICLE])
    writers = [Assistant.from_config(fake_config) for _ in range(4)]
    files = [_doc(tmp_path, f"w{k}.txt", f"Writer {k} wrote fact {k}.") for k in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda pair: pair[0].index([pair[1]]), zip(writers, files, strict=True)))
    assert set(first.documents()) == {ARTICLE.name, *(f.name for f in files)}


# ---- damaged index, full disk ---------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncate vectors", "garble keywords", "delete vectors"])
def test_a_damaged_index_names_the_rebuild_command_which_fixes_it(fake_config, damage):
    Assistant.from_config(fake_config).index([ARTICLE])
    folder = Path(fake_config).parent / "index" / store.current_version(Path(fake_config).parent / "index")
    if damage == "truncate vectors":
        (folder / "vectors.json").write_bytes((folder / "vectors.json").read_bytes()[:100])
    elif damage == "garble keywords":
        (folder / "keyword.json").write_text('{"ids": [1, 2', encoding="utf-8")
    else:
        (folder / "vectors.faiss").unlink()
    with pytest.raises(IndexDamagedError, match=r"is damaged .*; run `qa index --rebuild`"):
        Assistant.from_config(fake_config).documents()
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", EXAMPLE_QUESTION],
        env={**os.environ, "QA_CONFIG": str(fake_config)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "run `qa index --rebuild`" in result.stderr.strip().splitlines()[-1]
    Assistant.from_config(fake_config).index([ARTICLE], rebuild=True)
    assert EXAMPLE_ANSWER in (Assistant.from_config(fake_config).ask(EXAMPLE_QUESTION).text or "")


def test_a_full_disk_while_indexing_is_a_clear_error_and_the_old_index_stays(
    fake_config, tmp_path, monkeypatch
):
    assistant = Assistant.from_config(fake_config)
    assistant.index([ARTICLE])
    before = store.current_version(assistant.index_dir)

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store, "_write_file", full)
    with pytest.raises(IndexWriteError, match=r"No space left on device.*previous version is unchanged"):
        assistant.index([_doc(tmp_path, "new.txt", "A new fact.")])
    monkeypatch.undo()
    assert store.current_version(assistant.index_dir) == before
    assert not [p for p in assistant.index_dir.iterdir() if p.name.startswith(".building-")]
    fresh = Assistant.from_config(fake_config)
    assert set(fresh.documents()) == {ARTICLE.name}
    assert EXAMPLE_ANSWER in (fresh.ask(EXAMPLE_QUESTION).text or "")


# ---- files people have ----------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_text_files_with_a_byte_order_mark_are_read(fake_assistant, tmp_path, encoding):
    path = tmp_path / "harbour.txt"
    text = "The lighthouse keeper of Port Elin is Agnes Varga."
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    fake_assistant.index([path])
    answer = fake_assistant.ask("Who is the lighthouse keeper of Port Elin?")
    assert "Agnes Varga" in (answer.text or "")
    assert answer.sources[0].text == text


# ---- documents that unfold: no sentence end, shared content streams, decompression bombs -----------
def text_pdf(path: Path, pages: int, words: int, *, shared: bool = True) -> Path:
    """A PDF of `pages` pages whose text is `words` words with no sentence end; `shared`: every page
    draws the one content stream (a small file that reads as much text as `pages` big ones)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    helvetica = [("/Type", "/Font"), ("/Subtype", "/Type1"), ("/BaseFont", "/Helvetica")]
    font = DictionaryObject({NameObject(k): NameObject(v) for k, v in helvetica})
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    reference = None
    for _ in range(pages):
        if reference is None or not shared:
            content = DecodedStreamObject()
            content.set_data(b"BT /F1 12 Tf 72 712 Td (" + b"harbour " * words + b") Tj ET")
            reference = writer._add_object(content.flate_encode())
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = resources
        page[NameObject("/Contents")] = reference
    writer.write(path)
    return path


def bomb_pdf(path: Path, inflated: int = 200_000_000) -> Path:
    """A one-page PDF (about 200 KB) whose font's character map inflates to `inflated` bytes (pypdf
    stops at its limit with LimitReachedError, which its text extraction lets through)."""
    import zlib

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, EncodedStreamObject, NameObject

    squeeze = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    cmap = EncodedStreamObject()
    cmap._data = b"".join(squeeze.compress(chunk) for _ in range(inflated // len(chunk))) + squeeze.flush()
    cmap[NameObject("/Filter")] = NameObject("/FlateDecode")
    writer = PdfWriter()
    helvetica = [("/Type", "/Font"), ("/Subtype", "/Type1"), ("/BaseFont", "/Helvetica")]
    font = DictionaryObject({NameObject(k): NameObject(v) for k, v in helvetica})
    font[NameObject("/ToUnicode")] = writer._add_object(cmap)
    page = writer.add_blank_page(612, 792)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 72 712 Td (harbour) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    writer.write(path)
    return path


def test_text_with_no_sentence_end_makes_bounded_passages_and_bounded_questions(fake_assistant, tmp_path):
    max_chars = fake_assistant.settings.splitter.max_chars
    endless = tmp_path / "endless.txt"
    endless.write_text(
        "the harbour master of port elin is ivo petrov and " * 6_000, encoding="utf-8"
    )  # 300 KB
    fake_assistant.index([endless])
    assert fake_assistant.documents()["endless.txt"] >= 300_000 // max_chars
    answer = fake_assistant.ask("Who is the harbour master of Port Elin?")
    assert answer.sources and max(len(s.text) for s in answer.sources) <= max_chars


def test_pdf_pages_sharing_a_big_content_stream_are_bounded_or_refused(fake_assistant, tmp_path):
    from index.reading import MAX_PAGE_CHARS

    max_chars = fake_assistant.settings.splitter.max_chars
    shared = text_pdf(tmp_path / "shared.pdf", pages=3, words=6_000)  # 3 pages of 48,000 characters
    huge = text_pdf(tmp_path / "huge.pdf", pages=2, words=100_000)  # 2 pages of 800,000 characters
    assert huge.stat().st_size < 20_000
    report = fake_assistant.index([shared, huge])
    assert report.added == ["shared.pdf"]
    assert report.skipped == [
        f"huge.pdf: page 1 holds over {MAX_PAGE_CHARS:,} characters of text, more than a page can; "
        "skipped (export the text to .txt and add that)"
    ]
    answer = fake_assistant.ask("What is the harbour?")
    assert answer.sources and max(len(s.text) for s in answer.sources) <= max_chars


def test_a_pdf_bomb_is_refused_alone_and_qa_index_keeps_the_others(fake_config, tmp_path):
    from click.testing import CliRunner

    from qa.cli import qa

    bomb = bomb_pdf(tmp_path / "bomb.pdf")
    assert bomb.stat().st_size < 400_000
    good = _doc(tmp_path, "good.txt", "The harbour master of Port Elin is Ivo Petrov.")
    result = CliRunner().invoke(qa, ["index", str(bomb), str(good), "--config", str(fake_config)])
    assert result.exit_code == 0, result.output
    assert "1 added; skipped 1: 1 too large" in result.stdout
    assert "Traceback" not in result.output
    names = Assistant.from_config(fake_config).documents()
    assert "good.txt" in names and "bomb.pdf" not in names
    with pytest.raises(
        BadInputError, match=r"^bomb.pdf: this PDF inflates past the reading limits \(.*\), as a "
    ):
        from index.reading import read_document

        read_document(bomb)


# ---- access --------------------------------------------------------------------------------------
def test_serving_the_network_needs_a_login_unless_waived(fake_config, caplog):
    from ui.access import check_exposure, logins

    assert logins("alice:s3cret, bob:pa:ss") == [("alice", "s3cret"), ("bob", "pa:ss")]
    with pytest.raises(BadInputError, match="QA_AUTH must be user:password"):
        logins("alice")
    check_exposure("127.0.0.1", None, no_login=False)
    check_exposure("::1", None, no_login=False)
    check_exposure("0.0.0.0", [("alice", "s3cret")], no_login=False)
    with pytest.raises(BadInputError, match="set QA_AUTH=user:password"):
        check_exposure("0.0.0.0", None, no_login=False)
    check_exposure("0.0.0.0", None, no_login=True)
    assert "with no login" in caplog.text
    env = {k: v for k, v in os.environ.items() if k != "QA_AUTH"}
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "chat", "--host", "0.0.0.0", "--config", str(fake_config)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        "error: --host 0.0.0.0 serves to the network with no login: set QA_AUTH"
    )
