"""PDFs: the text layer of each page (pypdf), a section per page; pages without one (scanned) are
rendered (pypdfium2) and read with OCR. A PDF that mixes text pages and scanned pages gets both.

Bounded as a file can unfold: a page over MAX_PAGE_CHARS, pages over MAX_PDF_CONTENT_BYTES of
instructions, a decompression bomb (pypdf's LimitReachedError), more than MAX_PAGES pages or
MAX_OCR_PAGES scanned ones are refused whole, as is an encrypted PDF that needs a password.
"""

from __future__ import annotations

import io
from typing import Any

from index.errors import BadInputError
from index.formats.guard import MAX_OCR_PAGES, MAX_OCR_PIXELS, MAX_PAGES, Guard, Section, line
from index.formats.ocr import recognise, require

MAX_PAGE_CHARS = 100_000  # a dense page of prose holds about 5,000
MAX_PDF_CONTENT_BYTES = 32 * 1024 * 1024  # page instructions decoded, all pages together (~16 s to read)
OCR_DPI = 300
MIN_PAGE_CHARS = 3  # a page with fewer characters of text and an image on it is a scanned page


class _TooLong(Exception):
    pass


def _content_bytes(page: Any) -> int:
    """The size of a page's decoded content streams (the instructions its text is read from)."""
    from pypdf.generic import ArrayObject

    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, ArrayObject) else [contents]
    return sum(len(stream.get_object().get_data()) for stream in streams)


def _page_text(page: Any) -> str:
    """One page's text; _TooLong as soon as it passes MAX_PAGE_CHARS (extraction stops there)."""
    size = 0

    def count(text: str, *_: Any) -> None:
        nonlocal size
        size += len(text)
        if size > MAX_PAGE_CHARS:
            raise _TooLong

    return page.extract_text(visitor_text=count) or ""


def _has_image(page: Any) -> bool:
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else {}
    objects = resources.get("/XObject") if hasattr(resources, "get") else None
    return bool(objects is not None and len(objects.get_object()))


def _text_layer(data: bytes, guard: Guard) -> list[str | None]:
    """The text of every page; None for a scanned page (no text, an image)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise guard.refuse(
            "is encrypted (password-protected); skipped (save a copy without a password and add that)",
            "encrypted",
        )
    total = len(reader.pages)
    guard.count(total, MAX_PAGES, "pages")
    pages: list[str | None] = []
    content = 0
    for number, page in enumerate(reader.pages, start=1):
        content += _content_bytes(page)
        if content > MAX_PDF_CONTENT_BYTES:
            raise guard.refuse(
                f"its pages unfold into over {MAX_PDF_CONTENT_BYTES // 2**20} MB of instructions by page "
                f"{number}; skipped (export the text to .txt and add that)",
                "too large",
            )
        try:
            text = _page_text(page)
        except _TooLong:
            raise guard.refuse(
                f"page {number} holds over {MAX_PAGE_CHARS:,} characters of text, more than a page can; "
                "skipped (export the text to .txt and add that)",
                "too large",
            ) from None
        scanned = len(text.strip()) < MIN_PAGE_CHARS and _has_image(page)
        pages.append(None if scanned else guard.text(text))
        guard.unit(number, total)
    return pages


def _ocr_pages(data: bytes, numbers: list[int], guard: Guard) -> dict[int, str]:
    """The text OCR reads on the pages `numbers` (1-based), rendered at OCR_DPI or less (so a page
    holds at most MAX_OCR_PIXELS)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    texts = {}
    try:
        for done, number in enumerate(numbers, start=1):
            page = document[number - 1]
            width, height = page.get_size()  # points, 1/72 inch
            scale = min(OCR_DPI / 72, (MAX_OCR_PIXELS / max(width * height, 1.0)) ** 0.5)
            image = page.render(scale=scale, grayscale=True).to_pil()
            texts[number] = guard.text(recognise(image, guard, f"page {number}"))
            guard.unit(done, len(numbers))
    finally:
        document.close()
    return texts


def read_pdf(data: bytes, guard: Guard) -> list[Section]:
    from pypdf.errors import LimitReachedError

    try:
        pages = _text_layer(data, guard)
        scanned = [number for number, text in enumerate(pages, start=1) if text is None]
        if scanned:
            some = f"a PDF with {len(scanned)} scanned pages"
            what = "a scanned PDF" if len(scanned) == len(pages) else some
            guard.count(len(scanned), MAX_OCR_PAGES, "scanned pages")
            require(guard, what, "scanned PDF")
            read = _ocr_pages(data, scanned, guard)
            pages = [read.get(number) if text is None else text for number, text in enumerate(pages, start=1)]
    except LimitReachedError as exc:
        raise guard.refuse(
            f"this PDF inflates past the reading limits ({line(exc)}), as a decompression bomb does; skipped",
            "too large",
        ) from exc
    except BadInputError:
        raise
    except Exception as exc:  # pypdf raises many kinds on broken files (KeyError, RecursionError...)
        raise guard.refuse(f"cannot read this PDF ({line(exc)}); export it to text and retry") from exc
    return [Section(text or "", f"page {number}") for number, text in enumerate(pages, start=1)]
