"""What a file holds, by its content (never its name): the kind the table of readers is keyed by."""

from __future__ import annotations

import codecs
import io
import re
import zipfile

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted Office file, or an old .doc/.xls/.ppt
IMAGES = {"png", "jpeg", "tiff"}
_HTML = re.compile(r"<(?:!doctype\s+html|html|head|body|title|p|div|h[1-6])[\s>]", re.IGNORECASE)
_ZIPPED = (  # a part only that kind of zip has -> the kind
    ("word/document.xml", "docx"),
    ("ppt/presentation.xml", "pptx"),
    ("xl/workbook.xml", "xlsx"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)  # fmt: skip  (UTF-32 first: its LE mark starts with UTF-16's)

# How a message names each kind: "content is a Word document, not what .pdf promises"
NAMES = {
    "pdf": "a PDF", "docx": "a Word document", "pptx": "a PowerPoint deck", "xlsx": "an Excel workbook",
    "epub": "an e-book", "zip": "a zip archive", "ole": "an encrypted or old binary Office file",
    "png": "a PNG image", "jpeg": "a JPEG image", "tiff": "a TIFF image", "html": "a web page",
    "text": "a text file",
}  # fmt: skip


def decode_text(data: bytes) -> str | None:
    """The text of a UTF-8 file, or a UTF-16/32 one with its byte-order mark; None if it is neither."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data[:8192]:
        return None  # NUL bytes without a byte-order mark: binary
    try:
        return data.decode(encoding or "utf-8")
    except UnicodeDecodeError:
        return None


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            small = "mimetype" in names and archive.getinfo("mimetype").file_size < 100
            if small and archive.read("mimetype").strip() == b"application/epub+zip":
                return "epub"
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return "zip"  # damaged (or an encrypted mimetype): the reader's zip check says why
    return next((kind for part, kind in _ZIPPED if part in names), "zip")


def sniff(data: bytes) -> str | None:
    """The kind of `data`: pdf, docx, pptx, xlsx, epub, zip (another zip), ole, png, jpeg, tiff, html
    or text; None for anything else (binary, text in no encoding we read)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    if data.startswith(OLE):
        return "ole"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    text = decode_text(data)
    if text is None:
        return None
    return "html" if _HTML.search(text[:4096]) else "text"
