"""Documents of every kind the index reads, made with the real libraries (python-docx, python-pptx,
openpyxl, ebooklib, Pillow), each holding facts no other file holds, and hostile versions of them."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

# file name -> (question, answer, location) the file answers
FACTS = {
    "contract.docx": ("Within how many days does the client pay the invoice?", "45",
                      "section “Payment terms”"),
    "harbour.html": ("When was the old harbour rebuilt?", "1887", "section “History of the harbour”"),
    "results.pptx": ("In which city does the new office open?", "Lisbon", "slide 3"),
    "staff.xlsx": ("What is Grace Hopper's role?", "admiral", "sheet “Staff”, row 3"),
    "inventory.csv": ("Which warehouse holds the anchor chains?", "Bremen", "row 3"),
    "novel.epub": ("What was the lighthouse keeper called?", "Tobias Wren", "chapter “The Lighthouse”"),
    "scan.pdf": ("Where does the night ferry go?", "Helgoland", "page 2"),
    "sign.png": ("When does the museum close?", "five", None),
}  # fmt: skip


def docx_file(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Service agreement", level=1)
    document.add_paragraph("This agreement is between Harbour Design GmbH and the client.")
    document.add_heading("Scope", level=2)
    document.add_paragraph("Harbour Design builds the client's web shop and hosts it for two years.")
    document.add_heading("Payment terms", level=2)
    document.add_paragraph("The client pays each invoice within 45 days of delivery.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Milestone", "Amount"
    table.cell(1, 0).text, table.cell(1, 1).text = "Launch", "12,000 EUR"
    document.save(path)
    return path


HTML = """<!DOCTYPE html><html><head><title>Harbour Town</title>
<script>document.write("The old harbour was rebuilt in 1999 by robots.");</script>
<style>nav { color: red }</style></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About us</a></li>
<li><a href="/shop">Shop</a></li></ul></nav>
<main><article><h1>Harbour Town</h1>
<p>Harbour Town is a small fishing town on the northern coast, known for its fish market and its ferries.</p>
<h2>History of the harbour</h2>
<p>The old harbour was rebuilt in 1887 by Hanseatic engineers after a storm destroyed the wooden piers.</p>
<h2>Ferries</h2>
<p>The first ferry leaves at 6:45 every weekday morning and the last one returns at midnight.</p>
</article></main>
<footer>Copyright 2024 Harbour Town tourist office. All rights reserved. Cookie settings.</footer>
</body></html>"""


def html_file(path: Path) -> Path:
    path.write_text(HTML, encoding="utf-8")
    return path


def pptx_file(path: Path, slides: int = 3) -> Path:
    from pptx import Presentation

    deck = Presentation()
    texts = [
        ("Quarterly review", "Revenue grew by 14 percent in the third quarter."),
        ("Hiring", "The team hired six engineers and two designers."),
        ("Next steps", "We open a second office next spring."),
    ]
    for number in range(slides):
        title, body = texts[number] if number < len(texts) else (f"Slide {number + 1}", "More numbers.")
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if number == 2:
            slide.notes_slide.notes_text_frame.text = "The new office opens in Lisbon in March."
    deck.save(path)
    return path


def xlsx_file(path: Path, sheets: int = 1) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Staff"
    for row in [("Name", "Role", "Start"), ("Ada Lovelace", "engineer", 2021),
                ("Grace Hopper", "admiral", 2019), ("Linus Pauling", "chemist", 2023)]:  # fmt: skip
        sheet.append(row)
    book.create_sheet("Rooms").append(("Room", "Floor"))
    for number in range(sheets - 2):
        book.create_sheet(f"S{number}")
    book.save(path)
    return path


def csv_file(path: Path) -> Path:
    path.write_text(
        "Item,Warehouse,Count\nRope,Hamburg,120\nAnchor chains,Bremen,40\nLife jackets,Kiel,300\n",
        encoding="utf-8",
    )
    return path


def epub_file(path: Path) -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("lighthouse-1")
    book.set_title("The Keeper")
    book.set_language("en")
    chapters = [
        ("The Lighthouse", "The lighthouse keeper was called Tobias Wren. He lit the lamp every evening."),
        ("The Storm", "In the winter storm the boats stayed in the harbour for nine days."),
    ]
    items = []
    for number, (title, text) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=title, file_name=f"chapter{number}.xhtml", lang="en")
        item.content = f"<html><body><h1>{title}</h1><p>{text}</p></body></html>"
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


def text_image(lines: list[str], size: tuple[int, int] = (1700, 700)):
    """A white page with `lines` in black, large enough for OCR (Pillow's own font at 48 pt)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for number, text in enumerate(lines):
        draw.text((80, 100 + number * 90), text, fill=0, font=font)
    return image


def scanned_pdf(path: Path) -> Path:
    """Two scanned pages (images only, no text layer), as a scanner writes them."""
    first = text_image(["Harbour Town ferry notes.", "The day ferry goes to Amrum."])
    second = text_image(["The night ferry goes to Helgoland.", "It leaves at eleven."])
    first.save(path, "PDF", resolution=150, save_all=True, append_images=[second])
    return path


def png_file(path: Path) -> Path:
    text_image(["The museum closes at five on Sundays."]).save(path, "PNG")
    return path


MAKERS = {
    "contract.docx": docx_file, "harbour.html": html_file, "results.pptx": pptx_file,
    "staff.xlsx": xlsx_file, "inventory.csv": csv_file, "novel.epub": epub_file,
    "scan.pdf": scanned_pdf, "sign.png": png_file,
}  # fmt: skip


def every_kind(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in MAKERS.items():
        make(folder / name)
    return folder


# ---- hostile files --------------------------------------------------------------------------------
def zip_bomb(path: Path, inflated: int = 300_000_000) -> Path:
    """A real .docx with one more part that inflates to `inflated` bytes of zeros (about 1 MB on disk)."""
    import docx

    good = io.BytesIO()
    docx.Document().save(good)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        with out.open("word/media/zeros.bin", "w") as part:
            chunk = bytes(1_000_000)
            for _ in range(inflated // len(chunk)):
                part.write(chunk)
    return path


def with_part(path: Path, source: Path, name: str, data: bytes) -> Path:
    """`source` (a zip) written to `path` with part `name` replaced by (or added as) `data`."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            if item.filename != name:
                new.writestr(item, old.read(item))
        new.writestr(name, data)
    return path


XXE = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE w:document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&secret;</w:t></w:r></w:p></w:body></w:document>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""


RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _rewritten(path: Path, source: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(source) as old:
        new = {item.filename: old.read(item) for item in old.infolist()}
    new.update(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in new.items():
            out.writestr(name, data)
    source.unlink()
    return path


def many_sheets(path: Path, sheets: int = 10_000) -> Path:
    """A real workbook (openpyxl's) whose sheet list names `sheets` sheets, all drawn from its one
    sheet part: a small file that a spreadsheet program opens as `sheets` sheets."""
    import re

    source = xlsx_file(path.with_suffix(".one.xlsx"))
    with zipfile.ZipFile(source) as book:
        workbook = book.read("xl/workbook.xml").decode()
        rels = book.read("xl/_rels/workbook.xml.rels").decode()
    listed = "".join(
        f'<sheet xmlns:r="{RELS}" name="S{i}" sheetId="{i + 1}" r:id="rIdS{i}"/>' for i in range(sheets)
    )
    workbook = re.sub(r"<sheets>.*</sheets>", f"<sheets>{listed}</sheets>", workbook, flags=re.S)
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    targets = "".join(
        f'<Relationship Id="rIdS{i}" Type="{kind}" Target="worksheets/sheet1.xml"/>' for i in range(sheets)
    )
    rels = rels.replace("</Relationships>", targets + "</Relationships>")
    return _rewritten(
        path, source, {"xl/workbook.xml": workbook.encode(), "xl/_rels/workbook.xml.rels": rels.encode()}
    )


def many_slides(path: Path, slides: int = 5_000) -> Path:
    """A real deck (python-pptx's) whose slide list names `slides` slides, all drawn from its first
    slide part."""
    import re

    source = pptx_file(path.with_suffix(".one.pptx"))
    with zipfile.ZipFile(source) as deck:
        presentation = deck.read("ppt/presentation.xml").decode()
        rels = deck.read("ppt/_rels/presentation.xml.rels").decode()
    listed = "".join(f'<p:sldId id="{256 + i}" r:id="rIdX{i}"/>' for i in range(slides))
    presentation = re.sub(
        r"<p:sldIdLst>.*</p:sldIdLst>", f"<p:sldIdLst>{listed}</p:sldIdLst>", presentation, flags=re.S
    )
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide"
    targets = "".join(
        f'<Relationship Id="rIdX{i}" Type="{kind}" Target="slides/slide1.xml"/>' for i in range(slides)
    )
    rels = rels.replace("</Relationships>", targets + "</Relationships>")
    parts = {"ppt/presentation.xml": presentation.encode(), "ppt/_rels/presentation.xml.rels": rels.encode()}
    return _rewritten(path, source, parts)


def huge_png(path: Path, side: int = 20_000) -> Path:
    """A valid white PNG of side x side pixels, 1 bit deep (about 100 KB on disk)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    squeeze = zlib.compressobj(9)
    pixels = b"".join(squeeze.compress(row * 500) for _ in range(side // 500)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)
    return path
