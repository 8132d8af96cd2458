"""Every kind of document file (made with its real library), read with its location; hostile versions
refused with one line, quickly; OCR refused with the install line where Tesseract is missing."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from documents import (
    FACTS,
    LAUGHS,
    MAKERS,
    XXE,
    docx_file,
    epub_file,
    huge_png,
    many_sheets,
    many_slides,
    pptx_file,
    with_part,
    xlsx_file,
    zip_bomb,
)

from index.errors import BadInputError, FileRefusedError
from index.formats import read_sections

TESSERACT = shutil.which("tesseract") is not None
needs_tesseract = pytest.mark.skipif(
    not TESSERACT, reason="Tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng)"
)
OCR = {"scan.pdf", "sign.png"}


def _read(path: Path) -> list[tuple[str | None, str]]:
    sections, _ = read_sections(path, path.name)
    return [(s.location, " ".join(s.text.split())) for s in sections]


def _located(path: Path, answer: str) -> str | None:
    """The location of the section holding `answer`."""
    found = [where for where, text in _read(path) if answer in text]
    assert len(found) == 1, (answer, _read(path))
    return found[0]


@pytest.mark.parametrize("name", [n for n in MAKERS if n not in OCR])
def test_each_kind_is_read_with_the_location_of_its_facts(tmp_path, name):
    path = MAKERS[name](tmp_path / name)
    _, answer, location = FACTS[name]
    assert _located(path, answer) == location


@needs_tesseract
@pytest.mark.parametrize("name", sorted(OCR))
def test_scanned_pages_and_images_are_read_with_ocr(tmp_path, name):
    path = MAKERS[name](tmp_path / name)
    _, answer, location = FACTS[name]
    assert _located(path, answer) == location


def test_web_pages_keep_the_main_text_without_menus_scripts_and_footers(tmp_path):
    text = " ".join(t for _, t in _read(MAKERS["harbour.html"](tmp_path / "harbour.html")))
    assert "rebuilt in 1887" in text and "6:45" in text
    for noise in ("About us", "1999", "robots", "Cookie", "color"):
        assert noise not in text


def test_word_tables_slides_notes_and_rows_keep_their_context(tmp_path):
    word = " ".join(t for _, t in _read(docx_file(tmp_path / "c.docx")))
    assert "Launch" in word and "12,000 EUR" in word
    slides = _read(pptx_file(tmp_path / "d.pptx"))
    assert [where for where, _ in slides] == ["slide 1", "slide 2", "slide 3"]
    assert slides[2][1].endswith("Notes: The new office opens in Lisbon in March.")
    rows = _read(xlsx_file(tmp_path / "s.xlsx"))
    assert ("sheet “Staff”, row 2", "Name: Ada Lovelace; Role: engineer; Start: 2021.") in rows
    chapters = _read(epub_file(tmp_path / "b.epub"))
    assert [where for where, _ in chapters] == ["chapter “The Lighthouse”", "chapter “The Storm”"]


def test_csv_rows_are_sentences_with_their_headers_whatever_the_delimiter(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("Fish;Price per kilo\nHerring;4.50\nCod;11\n", encoding="utf-8")
    assert _read(path) == [
        ("row 2", "Fish: Herring; Price per kilo: 4.50."),
        ("row 3", "Fish: Cod; Price per kilo: 11."),
    ]


def test_markdown_sections_are_located_by_their_heading(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("Intro line.\n\n# Opening hours\n\nWe open at **nine**.\n\n```\n# not a heading\n```\n")
    read = _read(path)
    assert read[0] == (None, "Intro line.")
    assert read[1][0] == "section “Opening hours”" and "We open at nine." in read[1][1]
    assert len(read) == 2


# ---- hostile files: one line, in seconds ----------------------------------------------------------
def _refusal(path: Path, seconds: float = 5.0) -> FileRefusedError:
    started = time.monotonic()
    with pytest.raises(FileRefusedError) as caught:
        read_sections(path, path.name)
    took = time.monotonic() - started
    message = str(caught.value)
    assert message.startswith(f"{path.name}: ") and "\n" not in message
    assert took < seconds, f"{path.name} took {took:.1f} s to refuse"
    return caught.value


def test_a_zip_bomb_is_refused_before_it_is_unzipped(tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.docx")
    assert bomb.stat().st_size < 2_000_000
    refused = _refusal(bomb)
    assert re.search(r"unzips to 28\d MB \(\d MB of markup\), over the 200 MB .* zip bomb", str(refused))
    assert refused.group == "too large"


@pytest.mark.parametrize(
    ("name", "source", "part", "data"),
    [
        ("xxe.docx", "contract.docx", "word/document.xml", XXE),
        ("laughs.xlsx", "staff.xlsx", "xl/sharedStrings.xml", LAUGHS),
        ("laughs.pptx", "results.pptx", "ppt/slides/slide1.xml", LAUGHS),
        ("xxe.epub", "novel.epub", "EPUB/chapter1.xhtml", XXE),
    ],
)
def test_entity_declarations_xxe_and_billion_laughs_are_refused(tmp_path, name, source, part, data):
    good = MAKERS[source](tmp_path / source)
    refused = _refusal(with_part(tmp_path / name, good, part, data))
    assert f"part {part} declares XML entities" in str(refused) and refused.group == "unsafe"


def test_a_web_page_declaring_entities_is_refused(tmp_path):
    page = tmp_path / "laughs.html"
    page.write_bytes(LAUGHS.replace(b"<sst", b"<html><body><p>&lol9;</p></body></html><sst"))
    assert _refusal(page).group == "unsafe"


def test_ten_thousand_sheets_and_five_thousand_slides_are_refused_by_count(tmp_path):
    assert "10,000 sheets, over the 200" in str(_refusal(many_sheets(tmp_path / "sheets.xlsx")))
    assert "5,000 slides, over the 1,000" in str(_refusal(many_slides(tmp_path / "slides.pptx")))


def test_an_image_of_20000_by_20000_pixels_is_refused_from_its_header(tmp_path):
    image = huge_png(tmp_path / "huge.png")
    assert image.stat().st_size < 500_000
    refused = _refusal(image, seconds=1.0)
    assert "400,000,000 pixels, over the 40 million" in str(refused) and refused.group == "too large"


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("letter.docx", b"plain words", "a text file, not what .docx promises"),
        ("deck.pptx", b"\x00\x01\x02binary", "binary, or text in neither"),
        ("book.xlsx", "docx", "a Word document, not what .xlsx promises"),
        ("novel.epub", "docx", "a Word document, not what .epub promises"),
        ("page.html", b"\x89PNG\r\n\x1a\n\x00\x00", "a PNG image, not what .html promises"),
        ("table.csv", b"\x00\xff\x00\xfe", "binary, or text in neither"),
        ("photo.png", b"just text", "a text file, not what .png promises"),
        ("scan.jpg", b"%PDF-1.4 not really", "a PDF, not what .jpg promises"),
        ("scan.tiff", b"PK\x03\x04broken", "a zip archive, not what .tiff promises"),
        (
            "old.docx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
            "is encrypted (password-protected)",
        ),
        ("report.pdf", b"not a pdf", "a text file, not what .pdf promises"),
        ("broken.docx", "broken", "cannot read this Word document"),
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(tmp_path, name, content, said):
    path = tmp_path / name
    if content == "docx":
        content = docx_file(tmp_path / "real.docx").read_bytes()
    elif content == "broken":  # a zip with the right part, but not a Word document inside
        import zipfile

        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("word/document.xml", b"<not-word/>")
        content = path.read_bytes()
    path.write_bytes(content)
    assert said in str(_refusal(path))


def test_encrypted_zip_entries_and_drm_books_are_refused(tmp_path):
    good = docx_file(tmp_path / "good.docx")
    locked = tmp_path / "locked.docx"
    data = bytearray(good.read_bytes())
    at = data.find(b"PK\x01\x02")  # first central directory entry: set its "encrypted" flag
    data[at + 8] |= 1
    locked.write_bytes(bytes(data))
    assert _refusal(locked).group == "encrypted"
    book = epub_file(tmp_path / "book.epub")
    drm = with_part(tmp_path / "drm.epub", book, "META-INF/encryption.xml", b"<encryption/>")
    assert "DRM" in str(_refusal(drm))


def test_unsupported_and_oversized_files_are_refused_with_their_group(tmp_path):
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00")
    refused = _refusal(program)
    assert refused.group == "unsupported (.exe)" and "use .txt, .md, .pdf, .docx" in str(refused)
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(10 * 1024 * 1024 + 1)
    assert _refusal(big).group == "too large"


# ---- OCR without Tesseract -----------------------------------------------------------------------
@pytest.mark.parametrize(("name", "group"), [("scan.pdf", "scanned PDF"), ("sign.png", "image")])
def test_without_tesseract_a_scan_is_refused_with_the_install_line(tmp_path, monkeypatch, name, group):
    path = MAKERS[name](tmp_path / name)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    refused = _refusal(path)
    assert "Tesseract is not installed" in str(refused)
    assert "apt-get install tesseract-ocr" in str(refused)
    assert refused.group == f"{group} (install tesseract-ocr)"
    assert isinstance(refused, BadInputError)


# ---- through the front door: qa index, the Python API --------------------------------------------
def _cli(config: Path, *args: str):
    from click.testing import CliRunner

    from qa.cli import qa

    return CliRunner().invoke(qa, ["index", *args, "--config", str(config)])


def test_qa_index_reports_each_file_and_one_summary_with_every_skipped_file(
    fake_config, tmp_path, monkeypatch
):
    from documents import every_kind

    folder = every_kind(tmp_path / "office")
    (folder / "setup.exe").write_bytes(b"MZ\x90\x00")
    (folder / ".hidden.txt").write_text("not for the index", encoding="utf-8")
    (folder / "~$contract.docx").write_bytes(b"\x00lock")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # no Tesseract: the scans are refused
    result = _cli(fake_config, str(folder))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(
        r"indexed 6 files \(\d+ passages\): 6 added; skipped 3: 1 scanned PDF \(install tesseract-ocr\), "
        r"1 unsupported \(\.exe\), 1 image \(install tesseract-ocr\)",
        lines[0],
    ), lines[0]
    assert lines[1].startswith(
        "  scan.pdf: a scanned PDF needs OCR and Tesseract is not installed; install it ("
    )
    assert lines[2].startswith("  setup.exe: unsupported file type .exe")
    assert (
        lines[3].startswith("  sign.png: an image needs OCR") and "apt-get install tesseract-ocr" in lines[3]
    )
    assert lines[4].startswith("the index holds 6 documents (")
    said = result.stderr.splitlines()  # not a terminal: a plain line per file, then the embedding
    assert said[0] == "reading 1/9: contract.docx" and said[-2] == "reading 9/9: staff.xlsx"
    assert re.fullmatch(r"embedding \d+ passages", said[-1])


def test_nothing_readable_lists_every_file_and_exits_2(fake_config, tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    for number in range(5):
        (folder / f"tool{number}.exe").write_bytes(b"MZ")
    result = _cli(fake_config, str(folder))
    assert result.exit_code == 2
    said = [line for line in result.stderr.splitlines() if not line.startswith("reading ")]
    assert said[0] == "error: no readable document in the given paths; skipped 5: 5 unsupported (.exe)"
    assert len(said) == 6 and said[5].startswith("  tool4.exe: unsupported file type .exe")


def test_hostile_files_are_refused_in_seconds_and_nothing_indexed_is_lost(fake_assistant, tmp_path):
    from documents import every_kind

    kinds = every_kind(tmp_path / "kinds")
    fake_assistant.index([kinds / "contract.docx", kinds / "staff.xlsx"])
    before = fake_assistant.documents()
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    zip_bomb(hostile / "bomb.docx")
    with_part(hostile / "xxe.docx", kinds / "contract.docx", "word/document.xml", XXE)
    with_part(hostile / "laughs.xlsx", kinds / "staff.xlsx", "xl/sharedStrings.xml", LAUGHS)
    many_sheets(hostile / "sheets.xlsx")
    many_slides(hostile / "slides.pptx")
    huge_png(hostile / "huge.png")
    fakes = {"docx": b"text", "pptx": b"\x00\x01", "xlsx": b"a,b", "epub": b"text", "html": b"\x00\xff",
             "csv": b"\x89PNG\r\n\x1a\n", "png": b"x", "jpg": b"x", "tiff": b"x", "pdf": b"x"}  # fmt: skip
    for suffix, content in fakes.items():
        (hostile / f"fake.{suffix}").write_bytes(content)
    (hostile / "good.txt").write_text("The harbour master of Port Elin is Ivo Petrov.", encoding="utf-8")
    started = time.monotonic()
    report = fake_assistant.index([hostile])
    took = time.monotonic() - started
    assert report.added == ["good.txt"]
    assert len(report.skipped) == 16 and all("\n" not in m for m in report.skipped)
    assert took < 30, f"{took:.1f} s"
    after = fake_assistant.documents()
    assert {name: after[name] for name in before} == before and "good.txt" in after


@pytest.fixture(scope="module")
def every_kind_assistant(tmp_path_factory):
    """The real offline assistant over a folder holding one file of every kind (OCR ones only where
    Tesseract is installed), indexed through the Python API."""
    from documents import every_kind

    from qa import Assistant

    folder = every_kind(tmp_path_factory.mktemp("every-kind") / "documents")
    if not TESSERACT:
        for name in OCR:
            (folder / name).unlink()
    assistant = Assistant.from_config(index_dir=tmp_path_factory.mktemp("every-kind-index"), reader="offline")
    report = assistant.index([folder], rebuild=True)
    assert sorted(report.added) == sorted(p.name for p in folder.iterdir()) and not report.skipped
    return assistant, folder


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MAKERS))
def test_a_question_about_each_file_is_answered_from_that_file_and_place(every_kind_assistant, name):
    from index.reading import read_document

    assistant, folder = every_kind_assistant
    if not (folder / name).exists():
        pytest.skip("Tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng)")
    question, expected, location = FACTS[name]
    answer = assistant.ask(question)
    evidence = answer.evidence
    assert evidence is not None and evidence.document == name, (answer.text, answer.sources[:2])
    assert answer.text is not None and expected.lower() in answer.text.lower(), answer.text
    places = read_document(folder / name).places
    where = next((p.location for p in places if p.start <= evidence.passage_start < p.end), None)
    assert where == location


@pytest.mark.slow
def test_the_source_of_an_answer_says_where_it_is(every_kind_assistant):
    assistant, _ = every_kind_assistant
    question, _, location = FACTS["results.pptx"]
    evidence = assistant.ask(question).evidence
    assert evidence is not None and evidence.location == location
    assert assistant.ask(question).to_dict()["sources"][0]["location"] == location


def test_passages_carry_their_location_and_never_span_two_places(tmp_path):
    from index.indexer import passages_for
    from index.reading import read_document
    from index.stores import IndexSpec

    spec = IndexSpec(embedding_model="hash", embedding_dim=8, max_sentences=3, overlap=1, max_chars=600)
    passages = passages_for(read_document(pptx_file(tmp_path / "deck.pptx")), spec)
    assert [p.meta["location"] for p in passages] == ["slide 1", "slide 2", "slide 3"]
    assert passages[2].content.startswith("Next steps") and "Lisbon" in (passages[2].content or "")
    plain = tmp_path / "plain.txt"
    plain.write_text("One sentence. Another one.", encoding="utf-8")
    assert "location" not in passages_for(read_document(plain), spec)[0].meta


@needs_tesseract
def test_a_pdf_mixing_text_pages_and_scanned_pages_gets_both(tmp_path):
    import io

    from documents import scanned_pdf
    from pypdf import PdfReader, PdfWriter
    from test_index import make_pdf

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf("The treaty was signed in Vienna in 1815."))))
    writer.append(PdfReader(scanned_pdf(tmp_path / "scan.pdf")), pages=[1])
    mixed = tmp_path / "mixed.pdf"
    writer.write(mixed)
    read = _read(mixed)
    assert read[0] == ("page 1", "The treaty was signed in Vienna in 1815.")
    assert read[1][0] == "page 2" and "Helgoland" in read[1][1]
