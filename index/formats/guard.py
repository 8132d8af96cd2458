"""The one guard every reader runs under: size, zip entries, pages (slides, sheets, rows, chapters),
characters and time, with a one-line refusal (a `BadInputError` naming the file) when a file passes one.

A file is checked before its reader parses it where the container says how big it is (a zip's
directory, a workbook's list of sheets, a deck's list of slides, an image's header); the reader then
calls `unit` for each page it reads and `text` for what it keeps, so a file that lied is stopped there.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from index.errors import FileRefusedError

# One file
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_CHARS = MAX_FILE_BYTES  # as much text as the largest .txt file
READ_SECONDS = 120.0  # reading one file, OCR aside
# Zip containers (.docx, .pptx, .xlsx, .epub): what the directory may promise, checked before parsing
MAX_ZIP_ENTRIES = 20_000  # a deck of MAX_SLIDES slides has about 3 parts a slide
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # all entries, as declared (Python's zipfile reads no more)
MAX_XML_BYTES = 64 * 1024 * 1024  # the markup the reader parses (media is not parsed)
# Units a document may hold
MAX_PAGES = 2_000  # PDF pages
MAX_SLIDES = 1_000
MAX_SHEETS = 200
MAX_ROWS = 100_000  # spreadsheet rows, all sheets together
MAX_CHAPTERS = 2_000  # the files an e-book reads in order
# OCR (scanned PDF pages and images)
MAX_OCR_PAGES = 200
MAX_OCR_PIXELS = 40_000_000  # a page scanned at 600 dpi is ~35 million; an image over it is refused
OCR_PAGE_SECONDS = 60  # one page; Tesseract is stopped past it
OCR_SECONDS = 900.0  # one file (about 3 s a page)

# Entity declarations, or a DOCTYPE with an internal subset: what XXE and billion laughs need. A bare
# `<!DOCTYPE html ...>` (every EPUB 2 chapter has one) declares nothing and is let through.
DTD = re.compile(rb"<!\s*ENTITY|<!\s*DOCTYPE[^>\[]*\[", re.IGNORECASE)
_MARKUP = (".xml", ".rels", ".xhtml", ".html", ".htm", ".opf", ".ncx", ".vml")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Section:
    """What every reader returns: a stretch of a document's text and where it is in the document
    ("page 3", "slide 2", "sheet “Staff”, row 4", "chapter “The Harbour”", "section “Prices”"),
    None where the document has no such place (a plain text file, the lines before a first heading)."""

    text: str
    location: str | None = None


class Guard:
    """The bounds of reading one file named `name`; `pages` hears (done, total) as units are read."""

    def __init__(self, name: str, *, seconds: float = READ_SECONDS, pages: Progress | None = None) -> None:
        self.name = name
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.seconds = seconds
        self.chars = 0
        self.pages = pages

    def refuse(self, what: str, group: str = "unreadable") -> FileRefusedError:
        return FileRefusedError(f"{self.name}: {what}", group)

    def allow(self, seconds: float) -> None:
        """Give this file `seconds` in all (OCR takes longer than reading a text layer)."""
        self.seconds = seconds
        self.deadline = self.started + seconds

    def count(self, found: int, limit: int, noun: str, advice: str = "split the file") -> None:
        """Refuse a file that holds more than `limit` of `noun` (slides, sheets...), before reading them."""
        if found > limit:
            what = f"{found:,} {noun}, over the {limit:,} a file may hold; skipped ({advice})"
            raise self.refuse(what, "too large")

    def unit(self, done: int, total: int) -> None:
        """A page (slide, sheet, chapter) was read: report it, and stop past the time limit."""
        if self.pages is not None:
            self.pages(done, total)
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise self.refuse(
                f"reading took over {self.seconds:.0f} s, the limit for one file; skipped (split the file)",
                "too large",
            )

    def text(self, text: str) -> str:
        """Count `text` towards the document's characters; refuse past MAX_DOCUMENT_CHARS."""
        self.chars += len(text)
        if self.chars > MAX_DOCUMENT_CHARS:
            raise self.refuse(
                f"over {MAX_DOCUMENT_CHARS:,} characters of text; skipped (split the file)", "too large"
            )
        return text


def _has_dtd(stream: IO[bytes]) -> bool:
    """Whether a markup part declares a DTD or entities (XXE, billion laughs): OOXML and EPUB parts
    have no use for them. Read in chunks; UTF-16 parts are looked at as UTF-8."""
    head = stream.read(1 << 20)
    utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) > 3 and b"\x00" in head[:4])
    tail = b""
    while head:
        chunk = head.decode("utf-16", "ignore").encode() if utf16 else head
        if DTD.search(tail + chunk):
            return True
        tail = chunk[-32:]
        head = stream.read(1 << 20)
        if utf16 and len(head) % 2:
            head += stream.read(1)
    return False


def check_zip(data: IO[bytes], guard: Guard, kind: str) -> zipfile.ZipFile:
    """The open zip of an office file or e-book, once its directory is within the bounds (entries,
    unzipped size, markup size), no entry is encrypted and no markup part declares a DTD."""
    try:
        archive = zipfile.ZipFile(data)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise guard.refuse(f"cannot read this {kind} (a damaged zip: {line(exc)}); skipped") from None
    entries = archive.infolist()
    guard.count(len(entries), MAX_ZIP_ENTRIES, "parts inside the zip", "save it again as a plain document")
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise guard.refuse(
            "is encrypted (password-protected); skipped (save a copy without a password and add that)",
            "encrypted",
        )
    unzipped = sum(entry.file_size for entry in entries)
    markup = sum(e.file_size for e in entries if e.filename.lower().endswith(_MARKUP))
    if unzipped > MAX_UNZIPPED_BYTES or markup > MAX_XML_BYTES:
        raise guard.refuse(
            f"unzips to {unzipped / 2**20:,.0f} MB ({markup / 2**20:,.0f} MB of markup), over the "
            f"{MAX_UNZIPPED_BYTES // 2**20} MB ({MAX_XML_BYTES // 2**20} MB) limit, as a zip bomb "
            "does; skipped",
            "too large",
        )
    for entry in entries:
        if entry.filename.lower().endswith(_MARKUP):
            try:
                with archive.open(entry) as part:
                    declared = _has_dtd(part)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
                what = f"cannot read this {kind} (part {entry.filename}: {line(exc)}); skipped"
                raise guard.refuse(what) from None
            if declared:
                raise guard.refuse(
                    f"part {entry.filename} declares XML entities (a DTD): no {kind} needs them, attacks "
                    "(XXE, billion laughs) do; skipped",
                    "unsafe",
                )
            guard.check_time()
    return archive


def line(exc: BaseException) -> str:
    """An exception as one short line (library messages can span lines)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
