"""Reading document files (.txt, .md, .pdf) into clean text, refusing what is not a document."""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import BadInputError
from index.markdown import markdown_text

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES
DOCUMENT_TYPES = ".txt, .md or .pdf"  # how every message names SUFFIXES (.markdown is read as .md)
MAX_FILE_BYTES = 10 * 1024 * 1024
# What a PDF may unfold into: a small file can hold compressed page instructions, or pages that share
# one content stream, that read as millions of characters (memory and minutes for one upload).
MAX_PAGE_CHARS = 100_000  # a dense page of prose holds about 5,000
MAX_DOCUMENT_CHARS = MAX_FILE_BYTES  # as much text as the largest .txt file
MAX_PDF_CONTENT_BYTES = 32 * 1024 * 1024  # page instructions decoded, all pages together (~16 s to read)
# A line break ends a sentence, and every sentence is split, embedded and stored: 10 MB of one-letter
# lines would be 2.5 million passages (hours). Wrapped prose has a line per ~70 characters: 140,000 lines
# in the largest file.
MAX_LINES = 200_000


_HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # controls, format (zero-width, bidirectional), surrogates, breaks


def document_name(name: str) -> str:
    """A file name as the index names the document: NFC, without the invisible characters that make
    two names look alike or one look like another (controls; zero-width and bidirectional marks,
    e.g. `rtl\\u202etxt.md`, which displays as "rtldm.txt"). `café.txt` typed in NFD is `café.txt`."""
    kept = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch) not in _HIDDEN)
    return unicodedata.normalize("NFC", kept).strip() or "(unnamed)"


@dataclass(frozen=True)
class SourceDocument:
    name: str  # file name, the document's identity in the index
    text: str
    sha256: str


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\ufeff", "")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)  # fmt: skip  (UTF-32 first: its LE mark starts with UTF-16's)


def decode_text(data: bytes) -> str | None:
    """The text of a UTF-8 file, or a UTF-16/32 one with its byte-order mark; None if it is neither."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data[:8192]:
        return None  # NUL bytes without a byte-order mark: binary
    try:
        return data.decode(encoding or "utf-8")
    except UnicodeDecodeError:
        return None


def sniff_kind(data: bytes) -> str | None:
    """'pdf' or 'text' by content, None for anything else (binary, undecodable)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    return "text" if decode_text(data) is not None else None


def _content_bytes(page: Any) -> int:
    """The size of a page's decoded content streams (the instructions its text is read from)."""
    from pypdf.generic import ArrayObject

    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, ArrayObject) else [contents]
    return sum(len(stream.get_object().get_data()) for stream in streams)


class _TooLong(Exception):
    pass


def _line(exc: BaseException) -> str:
    """An exception as one short line (pypdf's messages can span lines)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _page_text(page: Any) -> str:
    """One page's text; _TooLong as soon as it passes MAX_PAGE_CHARS (extraction stops there)."""
    size = 0

    def count(text: str, *_: Any) -> None:
        nonlocal size
        size += len(text)
        if size > MAX_PAGE_CHARS:
            raise _TooLong

    return page.extract_text(visitor_text=count) or ""


def _pdf_text(path: Path, name: str) -> str:
    """The text of every page, bounded: a page over MAX_PAGE_CHARS, a document over
    MAX_DOCUMENT_CHARS or pages over MAX_PDF_CONTENT_BYTES of instructions are refused whole, as is a
    decompression bomb (pypdf's LimitReachedError) and a PDF pypdf cannot parse."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    pages: list[str] = []
    total = content = 0
    try:
        reader = PdfReader(path)
        for number, page in enumerate(reader.pages, start=1):
            content += _content_bytes(page)
            if content > MAX_PDF_CONTENT_BYTES:
                raise BadInputError(
                    f"{name}: its pages unfold into over {MAX_PDF_CONTENT_BYTES // 2**20} MB of "
                    f"instructions by page {number}; skipped (export the text to .txt and add that)"
                )
            try:
                text = _page_text(page)
            except _TooLong:
                raise BadInputError(
                    f"{name}: page {number} holds over {MAX_PAGE_CHARS:,} characters of text, more "
                    "than a page can; skipped (export the text to .txt and add that)"
                ) from None
            total += len(text)
            if total > MAX_DOCUMENT_CHARS:
                raise BadInputError(
                    f"{name}: over {MAX_DOCUMENT_CHARS:,} characters of text by page {number}; "
                    "skipped (split the file)"
                )
            pages.append(text)
    except LimitReachedError as exc:
        raise BadInputError(
            f"{name}: this PDF inflates past the reading limits ({_line(exc)}), as a "
            "decompression bomb does; skipped"
        ) from exc
    except BadInputError:
        raise
    except Exception as exc:  # pypdf raises many kinds on broken files (KeyError, RecursionError...)
        raise BadInputError(
            f"{name}: cannot read this PDF ({_line(exc)}); export it to text and retry"
        ) from exc
    return "\n\n".join(pages)


def read_document(path: Path) -> SourceDocument:
    """One file as clean text, named by `document_name`; BadInputError (with what to do) when it is
    not a usable document."""
    name = document_name(path.name)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInputError(f"{name}: unsupported file type {suffix or '(none)'}; use {DOCUMENT_TYPES}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BadInputError(f"{name}: {size / 1e6:.1f} MB is over the 10 MB limit; split the file")
    data = path.read_bytes()
    kind = sniff_kind(data)
    expected = "pdf" if suffix in PDF_SUFFIXES else "text"
    if kind != expected:
        what = (
            "binary, or text in neither UTF-8 nor UTF-16 with a byte-order mark"
            if kind is None
            else f"a {kind} file"
        )
        raise BadInputError(f"{name}: content is {what}, not what {suffix} promises; skipped")
    if kind == "pdf":
        text = _pdf_text(path, name)
    else:
        text = decode_text(data) or ""
        if suffix in {".md", ".markdown"}:
            text = markdown_text(text)
    text = _clean(text)
    if not text:
        raise BadInputError(f"{name}: no text in this file; skipped")
    lines = text.count("\n") + 1
    if lines > MAX_LINES:
        raise BadInputError(
            f"{name}: {lines:,} lines of text, over the {MAX_LINES:,} a document may have (every line "
            "is read as a sentence); skipped (join its lines or split the file)"
        )
    return SourceDocument(name=name, text=text, sha256=hashlib.sha256(data).hexdigest())


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the supported files inside named folders (recursively), in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise BadInputError(f"{path}: no such file or folder")
    return found


def read_documents(paths: Iterable[str | Path]) -> tuple[list[SourceDocument], list[str]]:
    """Every readable document under `paths`, and a message for each skipped one (also logged).

    Raises BadInputError when nothing usable is left.
    """
    files = find_files(paths)
    docs, skipped = [], []
    for path in files:
        try:
            docs.append(read_document(path))
        except BadInputError as exc:
            logger.warning("skipped %s", exc)
            skipped.append(str(exc))
    if not docs:
        detail = f" ({'; '.join(skipped)})" if skipped else ""
        raise BadInputError(f"no readable {DOCUMENT_TYPES} document in the given paths{detail}")
    names = [d.name for d in docs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BadInputError(f"two files share the name {dupes[0]}; rename one, names identify documents")
    return docs, skipped
