"""Optical character recognition with Tesseract (Debian's `tesseract-ocr` and `tesseract-ocr-eng`,
driven by pytesseract): images (.png, .jpg, .tiff, a section per frame) and the scanned pages of PDFs.
Bounded: pixels per image (checked in the header, before decoding), pages per file, time per page.
Where Tesseract is not installed, a file that needs it is refused with one line saying how to install it."""

from __future__ import annotations

import io
import re
import shutil
from typing import Any

from index.formats.guard import (
    MAX_OCR_PAGES,
    MAX_OCR_PIXELS,
    OCR_PAGE_SECONDS,
    OCR_SECONDS,
    Guard,
    Section,
    line,
)

INSTALL = "apt-get install tesseract-ocr tesseract-ocr-eng"
LANGUAGE = "eng"


def missing(what: str) -> str | None:
    """None when Tesseract with English can run; else the one-line refusal for `what` (e.g. "a scanned
    PDF") that says how to install it."""
    import pytesseract

    command = pytesseract.pytesseract.tesseract_cmd
    if shutil.which(command) is None:
        return f"{what} needs OCR and Tesseract is not installed; install it (`{INSTALL}`) and add it again"
    try:
        languages = pytesseract.get_languages(config="")
    except Exception as exc:  # a broken install
        return f"{what} needs OCR and Tesseract does not run ({line(exc)}); reinstall it (`{INSTALL}`)"
    if LANGUAGE not in languages:
        return f"{what} needs OCR and Tesseract has no English data; install it (`{INSTALL}`), add it again"
    return None


def require(guard: Guard, what: str, group: str) -> None:
    """Refuse the file (group `group`, e.g. "scanned PDF") unless Tesseract can run; allow OCR's time."""
    problem = missing(what)
    if problem is not None:
        raise guard.refuse(problem, f"{group} (install tesseract-ocr)")
    guard.allow(OCR_SECONDS)


def recognise(image: Any, guard: Guard, where: str) -> str:
    """The text Tesseract reads in a Pillow image; refuses the file if one page takes too long."""
    import pytesseract

    seconds = max(1.0, min(OCR_PAGE_SECONDS, guard.deadline - _now()))
    try:
        text = pytesseract.image_to_string(image, lang=LANGUAGE, timeout=seconds)
    except RuntimeError as exc:  # pytesseract's timeout
        if "timeout" in str(exc).lower():
            raise guard.refuse(
                f"reading {where} with OCR took over {seconds:.0f} s; skipped (scan it at a lower "
                "resolution)",
                "too large",
            ) from None
        raise guard.refuse(f"OCR failed on {where} ({line(exc)}); skipped") from None
    except pytesseract.TesseractError as exc:
        raise guard.refuse(f"OCR failed on {where} ({line(exc)}); skipped") from None
    return str(text)


def _now() -> float:
    import time

    return time.monotonic()


def _too_big(pixels: str) -> str:
    return (
        f"an image of {pixels} pixels, over the {MAX_OCR_PIXELS // 1_000_000} million pixels OCR reads; "
        "skipped (scale it down, e.g. to 300 dpi)"
    )


def read_image(data: bytes, guard: Guard) -> list[Section]:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far over ours
        pixels = re.search(r"\d+", str(exc))
        raise guard.refuse(
            _too_big(f"{int(pixels.group()):,}" if pixels else "too many"), "too large"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise guard.refuse(f"not an image Pillow can read ({line(exc)}); skipped") from None
    width, height = image.size
    if width * height > MAX_OCR_PIXELS:
        raise guard.refuse(_too_big(f"{width:,} x {height:,}"), "too large")
    frames = getattr(image, "n_frames", 1)
    guard.count(frames, MAX_OCR_PAGES, "pages", "split the file")
    require(guard, "an image", "image")
    sections = []
    for number in range(frames):
        try:
            image.seek(number)
            if image.size[0] * image.size[1] > MAX_OCR_PIXELS:
                raise guard.refuse(_too_big(f"{image.size[0]:,} x {image.size[1]:,}"), "too large")
            image.load()
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise guard.refuse(f"cannot decode this image ({line(exc)}); skipped") from None
        where = f"page {number + 1}" if frames > 1 else "the image"
        text = recognise(image, guard, where)
        sections.append(Section(guard.text(text), f"page {number + 1}" if frames > 1 else None))
        guard.unit(number + 1, frames)
    return sections
