"""Reading document files into clean text with the place of each part (page, slide, sheet and row,
chapter, heading), refusing what is not a document. Each kind of file has its room in `index.formats`."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from index.errors import BadInputError, FileRefusedError
from index.formats import DOCUMENT_TYPES, SUFFIXES, Section, read_sections
from index.formats.guard import MAX_DOCUMENT_CHARS, MAX_FILE_BYTES
from index.formats.pdf import MAX_PAGE_CHARS, MAX_PDF_CONTENT_BYTES
from index.formats.sniff import decode_text, sniff

logger = logging.getLogger(__name__)

__all__ = [
    "DOCUMENT_TYPES", "MAX_DOCUMENT_CHARS", "MAX_FILE_BYTES", "MAX_PAGE_CHARS", "MAX_PDF_CONTENT_BYTES",
    "SUFFIXES", "Place", "Reading", "Skipped", "SourceDocument", "decode_text", "document_name",
    "find_files", "read_document", "read_documents", "sniff_kind",
]  # fmt: skip
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
class Place:
    """Where `text[start:end]` of a document is in the file: "page 3", "slide 2", "section “Prices”"."""

    start: int
    end: int
    location: str | None


@dataclass(frozen=True)
class SourceDocument:
    name: str  # file name, the document's identity in the index
    text: str
    sha256: str
    places: tuple[Place, ...] = ()  # the parts of `text` in order, each located; () : one, unlocated


class Skipped(str):
    """A skipped file's one-line message (naming it, saying what to do), with the `group` a summary
    counts it in: "unsupported (.exe)", "scanned PDF (install tesseract-ocr)", "too large"..."""

    group: str

    def __new__(cls, message: str, group: str = "unreadable") -> Skipped:
        made = super().__new__(cls, message)
        made.group = group
        return made


@dataclass(frozen=True)
class Reading:
    """Progress of `read_documents`: file `file` of `files` (`name`), `page` of its `pages` read
    (slides, sheets, chapters; 0 of 0 when it has none or it has just started); `done` once read."""

    file: int
    files: int
    name: str
    page: int = 0
    pages: int = 0
    done: bool = False


OnReading = Callable[[Reading], None]


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\ufeff", "")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def sniff_kind(data: bytes) -> str | None:
    """What `data` holds (`index.formats.sniff`): 'pdf', 'text', 'html', 'docx', 'png'...; None for
    anything else (binary, undecodable)."""
    return sniff(data)


def _joined(sections: list[Section]) -> tuple[str, tuple[Place, ...]]:
    """The sections' clean text, a blank line between them, and the place of each in it."""
    parts: list[str] = []
    places: list[Place] = []
    at = 0
    for section in sections:
        text = _clean(section.text)
        if not text:
            continue
        if parts:
            at += 2
        parts.append(text)
        places.append(Place(at, at + len(text), section.location))
        at += len(text)
    if all(p.location is None for p in places):
        places = []
    return "\n\n".join(parts), tuple(places)


def read_document(path: Path, *, pages: Callable[[int, int], None] | None = None) -> SourceDocument:
    """One file as clean text with the place of each part, named by `document_name`;
    FileRefusedError (a BadInputError: one line with what to do) when it is not a usable document.
    `pages` hears (done, total) as its pages (slides, sheets, chapters, scanned pages) are read."""
    name = document_name(path.name)
    sections, data = read_sections(path, name, pages=pages)
    text, places = _joined(sections)
    if not text:
        raise FileRefusedError(f"{name}: no text in this file; skipped", "no text")
    lines = text.count("\n") + 1
    if lines > MAX_LINES:
        raise FileRefusedError(
            f"{name}: {lines:,} lines of text, over the {MAX_LINES:,} a document may have (every line "
            "is read as a sentence); skipped (join its lines or split the file)",
            "too large",
        )
    return SourceDocument(name=name, text=text, sha256=hashlib.sha256(data).hexdigest(), places=places)


_LEFT_OUT = {"thumbs.db", "desktop.ini"}  # what file managers leave in folders


def _left_out(path: Path, folder: Path) -> bool:
    """Whether a file found in a folder is no one's document: hidden (a name or folder starting with
    "."), an Office lock file ("~$report.docx"), a file manager's thumbnail cache."""
    parts = path.relative_to(folder).parts
    return (
        any(p.startswith(".") for p in parts) or path.name.startswith("~$") or path.name.lower() in _LEFT_OUT
    )


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the files inside named folders (recursively, in a stable order; hidden files,
    Office lock files and thumbnail caches left out), so that a folder's unsupported files are
    reported as skipped just as files named directly are."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and not _left_out(p, path)))
        elif path.is_file():
            found.append(path)
        else:
            raise BadInputError(f"{path}: no such file or folder")
    return found


class NothingReadableError(BadInputError):
    """No file under the given paths could be read; `skipped` says why for each."""

    def __init__(self, message: str, skipped: list[Skipped]) -> None:
        super().__init__(message)
        self.skipped = skipped


def _pages(reading: OnReading, file: int, files: int, name: str) -> Callable[[int, int], None]:
    return lambda done, total: reading(Reading(file, files, name, done, total))


def read_documents(
    paths: Iterable[str | Path], *, reading: OnReading | None = None
) -> tuple[list[SourceDocument], list[Skipped]]:
    """Every readable document under `paths`, and a message for each skipped one (also logged);
    `reading` hears each file start, its pages and its end.

    Raises NothingReadableError (a BadInputError) when nothing usable is left.
    """
    files = find_files(paths)
    docs: list[SourceDocument] = []
    skipped: list[Skipped] = []
    for number, path in enumerate(files, start=1):
        name = document_name(path.name)
        if reading is not None:
            reading(Reading(number, len(files), name))
        pages = _pages(reading, number, len(files), name) if reading is not None else None
        try:
            docs.append(read_document(path, pages=pages))
        except BadInputError as exc:
            logger.info("skipped %s", exc)
            skipped.append(Skipped(str(exc), getattr(exc, "group", "unreadable")))
        except OSError as exc:  # gone or unreadable since it was found
            logger.info("skipped %s: %s", name, exc)
            skipped.append(Skipped(f"{name}: cannot open it ({exc.strerror or exc}); skipped", "unreadable"))
        if reading is not None:
            reading(Reading(number, len(files), name, done=True))
    if not docs:
        shown = "; ".join(skipped[:3]) + (f"; and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        detail = f" ({shown})" if skipped else ""
        raise NothingReadableError(f"no readable document in the given paths{detail}", skipped)
    names = [d.name for d in docs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BadInputError(f"two files share the name {dupes[0]}; rename one, names identify documents")
    return docs, skipped
