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

from index.errors import BadInputError

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES
MAX_FILE_BYTES = 10 * 1024 * 1024


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


def _strip_markdown(text: str) -> str:
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.M)
    text = re.sub(r"^\s*[-*+]\s+", "", text, flags=re.M)
    return re.sub(r"(\*\*|__|`)", "", text)


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


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise BadInputError(
            f"{path.name}: cannot read this PDF ({exc}); export it to text and retry"
        ) from exc
    return "\n\n".join(pages)


def read_document(path: Path) -> SourceDocument:
    """One file as clean text; BadInputError (with what to do) when it is not a usable document."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInputError(f"{path.name}: unsupported file type {suffix or '(none)'}; use .txt, .md or .pdf")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BadInputError(f"{path.name}: {size / 1e6:.1f} MB is over the 10 MB limit; split the file")
    data = path.read_bytes()
    kind = sniff_kind(data)
    expected = "pdf" if suffix in PDF_SUFFIXES else "text"
    if kind != expected:
        what = (
            "binary, or text in neither UTF-8 nor UTF-16 with a byte-order mark"
            if kind is None
            else f"a {kind} file"
        )
        raise BadInputError(f"{path.name}: content is {what}, not what {suffix} promises; skipped")
    if kind == "pdf":
        text = _pdf_text(path)
    else:
        text = decode_text(data) or ""
        if suffix in {".md", ".markdown"}:
            text = _strip_markdown(text)
    text = _clean(text)
    if not text:
        raise BadInputError(f"{path.name}: no text in this file; skipped")
    return SourceDocument(name=path.name, text=text, sha256=hashlib.sha256(data).hexdigest())


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
        raise BadInputError(f"no readable .txt, .md or .pdf document in the given paths{detail}")
    names = [d.name for d in docs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BadInputError(f"two files share the name {dupes[0]}; rename one, names identify documents")
    return docs, skipped
