"""The index folder: passages with offsets, manifest checks, adding/replacing/removing, bad files."""

import json
import logging
from pathlib import Path

import pytest

from conftest import ARTICLE, write_config
from index.stores import faiss as store
from index.stores.base import FORMAT_VERSION
from qa import Assistant
from qa.errors import BadInputError, IndexMismatchError


def test_passages_keep_document_name_and_offsets(fake_assistant):
    report = fake_assistant.index([ARTICLE])
    assert report.added == [ARTICLE.name]
    index = store.load(fake_assistant.index_dir, fake_assistant.spec)
    text = ARTICLE.read_text(encoding="utf-8").strip()
    passages = index.passages_of(ARTICLE.name)
    assert len(passages) == report.passages > 10
    for p in passages:
        assert text[p.meta["start"] : p.meta["end"]] == p.content


def test_manifest_describes_the_index(fake_assistant):
    fake_assistant.index([ARTICLE])
    manifest = json.loads((fake_assistant.index_dir / "current" / "manifest.json").read_text())
    assert manifest["embedding_model"] == "hash"
    assert manifest["embedding_dim"] == 64
    assert manifest["format_version"] == FORMAT_VERSION
    assert (manifest["max_sentences"], manifest["overlap"]) == (3, 1)
    assert len(manifest["sources"][ARTICLE.name]) == 64  # sha256


def test_adding_replacing_and_removing_documents(fake_assistant, tmp_path):
    fake_assistant.index([ARTICLE])
    extra = tmp_path / "notes.md"
    extra.write_text("# Notes\n\nThe meeting took place in Nanning. It lasted two days.", encoding="utf-8")
    report = fake_assistant.index([extra, ARTICLE])
    assert report.added == ["notes.md"] and report.unchanged == [ARTICLE.name]
    assert fake_assistant.documents()["notes.md"] == 1
    extra.write_text("Completely new text. Another sentence. A third one. And a fourth.", encoding="utf-8")
    assert fake_assistant.index([extra]).updated == ["notes.md"]
    assert fake_assistant.documents()["notes.md"] == 2
    fake_assistant.remove("notes.md")
    assert list(fake_assistant.documents()) == [ARTICLE.name]
    with pytest.raises(BadInputError, match="no such document"):
        fake_assistant.remove("notes.md")
    # a fresh process sees the same index
    again = Assistant.from_config(fake_assistant.settings.source)
    assert list(again.documents()) == [ARTICLE.name]


def test_rebuild_starts_from_nothing(fake_assistant, tmp_path):
    fake_assistant.index([ARTICLE])
    other = tmp_path / "other.txt"
    other.write_text("Only this document. Nothing else.", encoding="utf-8")
    fake_assistant.index([other], rebuild=True)
    assert list(fake_assistant.documents()) == ["other.txt"]
    versions = [p.name for p in fake_assistant.index_dir.iterdir() if p.name.startswith("v-")]
    # older versions are cleaned up; the one before stays until the next write, for readers mid-load
    assert len(versions) == 2 and store.current_version(fake_assistant.index_dir) in versions


def test_bad_files_are_skipped_and_logged_and_nothing_left_is_an_error(fake_assistant, tmp_path, caplog):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "empty.txt").write_text("   \n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (folder / "latin1.md").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (folder / "fake.pdf").write_text("not a pdf at all", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="index.reading")
    with pytest.raises(BadInputError, match=r"no readable document in the given paths \(binary.txt: "):
        fake_assistant.index([folder])
    (folder / "good.txt").write_text("Good text. Really good.", encoding="utf-8")
    report = fake_assistant.index([folder])
    assert report.added == ["good.txt"]
    assert sorted(m.split(":")[0] for m in report.skipped) == [
        "binary.txt",
        "empty.txt",
        "fake.pdf",
        "latin1.md",
    ]
    warned = " ".join(r.getMessage() for r in caplog.records)
    for name in ("empty.txt", "binary.txt", "latin1.md", "fake.pdf"):
        assert name in warned


def test_missing_path_is_an_error(fake_assistant, tmp_path):
    with pytest.raises(BadInputError, match="no such file or folder"):
        fake_assistant.index([tmp_path / "nope"])


def test_index_built_with_another_embedding_model_asks_for_a_rebuild(fake_assistant, tmp_path):
    fake_assistant.index([ARTICLE])
    config = write_config(tmp_path, embedding_model="bundled", index_dir=str(fake_assistant.index_dir))
    with pytest.raises(IndexMismatchError, match="qa index --rebuild"):
        Assistant.from_config(config).documents()


def test_index_of_another_format_version_asks_for_a_rebuild(fake_assistant):
    fake_assistant.index([ARTICLE])
    manifest = fake_assistant.index_dir / "current" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = 0
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match=r"format_version=0.*qa index --rebuild"):
        Assistant.from_config(fake_assistant.settings.source).documents()


def test_pdf_documents_are_read(fake_assistant, tmp_path):
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(make_pdf("The treaty was signed in Vienna in 1815."))
    fake_assistant.index([pdf])
    answer = fake_assistant.ask("Where was the treaty signed?")
    assert answer.evidence is not None and answer.evidence.document == "letter.pdf"
    assert "Vienna" in answer.text


def make_pdf(text: str) -> bytes:
    """A minimal one-page PDF with `text` in Helvetica."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_index_dir_is_created_lazily_and_missing_seeds_say_what_to_do(tmp_path):
    config = write_config(
        tmp_path, embedding_model="hash", reader="offline", offline_model="overlap",
        index_dir=str(tmp_path / "idx"), seeds_dir=str(tmp_path / "no-seeds"),
    )  # fmt: skip
    with pytest.raises(Exception, match="run `qa index PATHS`"):
        Assistant.from_config(config).ask("Who?")
    assert not Path(tmp_path / "idx" / "current").exists()
