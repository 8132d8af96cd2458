"""Document formats: one small room per kind of file, behind one table (`FORMATS`: what a file's
name promises -> the content kinds it may hold -> its reader) and one guard every reader runs under
(`read_sections`: size, then content sniffed, then the reader inside a `Guard`: entries, pages, time).
A new format is one module and one row here."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.formats.guard import MAX_FILE_BYTES, Guard, Progress, Section, line
from index.formats.sniff import IMAGES, NAMES, sniff

__all__ = ["FORMATS", "SUFFIXES", "Format", "Section", "check_file", "format_for", "read_sections"]


@dataclass(frozen=True)
class Format:
    noun: str  # how a summary counts the files: "Word document"
    suffixes: tuple[str, ...]
    kinds: frozenset[str]  # what `sniff` may find in such a file
    reader: str  # "module:function", imported on first use (the converters bring their libraries)

    def read(self, data: bytes, guard: Guard) -> list[Section]:
        module, function = self.reader.split(":")
        read: Callable[[bytes, Guard], list[Section]] = getattr(
            importlib.import_module(f"index.formats.{module}"), function
        )
        return read(data, guard)


_TEXT = frozenset({"text", "html"})
FORMATS = (
    Format("text file", (".txt",), _TEXT, "text:read_text"),
    Format("Markdown file", (".md", ".markdown"), _TEXT, "text:read_markdown"),
    Format("PDF", (".pdf",), frozenset({"pdf"}), "pdf:read_pdf"),
    Format("Word document", (".docx",), frozenset({"docx"}), "docx:read_docx"),
    Format("web page", (".html", ".htm"), _TEXT, "html:read_html"),
    Format("PowerPoint deck", (".pptx",), frozenset({"pptx"}), "pptx:read_pptx"),
    Format("Excel workbook", (".xlsx",), frozenset({"xlsx"}), "xlsx:read_xlsx"),
    Format("CSV table", (".csv",), frozenset({"text"}), "csv:read_csv"),
    Format("e-book", (".epub",), frozenset({"epub"}), "epub:read_epub"),
    Format("image", (".png", ".jpg", ".jpeg", ".tif", ".tiff"), frozenset(IMAGES), "ocr:read_image"),
)
SUFFIXES = frozenset(s for f in FORMATS for s in f.suffixes)
_OFFICE = frozenset({"docx", "pptx", "xlsx"})


def format_for(suffix: str) -> Format | None:
    return next((f for f in FORMATS if suffix.lower() in f.suffixes), None)


def check_file(path: Path, name: str) -> tuple[Format, bytes]:
    """The format of the file at `path` and its bytes, once its name, size and content agree (no
    parsing: quick); FileRefusedError (one line naming the file, what to do) otherwise."""
    found, data = _checked(path, Guard(name))
    return found, data


def read_sections(path: Path, name: str, *, pages: Progress | None = None) -> tuple[list[Section], bytes]:
    """The sections of the file at `path` (named `name` in messages) and its bytes; FileRefusedError
    (one line, naming the file and what to do) when it is not a document the index can take."""
    guard = Guard(name, pages=pages)
    found, data = _checked(path, guard)
    try:
        return found.read(data, guard), data
    except MemoryError:
        raise guard.refuse("reading it needs more memory than there is; skipped", "too large") from None
    except RecursionError as exc:
        raise guard.refuse(f"nested too deeply to read ({line(exc)}); skipped", "unreadable") from None


def _checked(path: Path, guard: Guard) -> tuple[Format, bytes]:
    suffix = path.suffix.lower()
    found = format_for(suffix)
    if found is None:
        group = f"unsupported ({suffix or 'no suffix'})"
        raise guard.refuse(f"unsupported file type {suffix or '(none)'}; use {DOCUMENT_TYPES}", group)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise guard.refuse(f"{size / 1e6:.1f} MB is over the 10 MB limit; split the file", "too large")
    data = path.read_bytes()
    kind = sniff(data)
    if kind == "ole" and found.kinds & _OFFICE:
        raise guard.refuse(
            "is encrypted (password-protected), or an old binary Office file; skipped (save it without "
            f"a password as {suffix})",
            "encrypted",
        )
    if kind not in found.kinds:
        what = (
            "binary, or text in neither UTF-8 nor UTF-16 with a byte-order mark"
            if kind is None
            else NAMES.get(kind, f"a {kind} file")
        )
        raise guard.refuse(f"content is {what}, not what {suffix} promises; skipped", "wrong content")
    return found, data


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


# How every message names the readable types (.markdown, .htm, .jpeg and .tif are read as their twins)
DOCUMENT_TYPES = _listed([".txt", ".md", ".pdf", ".docx", ".html", ".pptx", ".xlsx", ".csv", ".epub",
                          ".png", ".jpg", ".tiff"])  # fmt: skip
