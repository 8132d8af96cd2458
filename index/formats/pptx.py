"""Slides (.pptx): Haystack's PPTXToDocument (python-pptx) for the text of each slide, with the
speaker's notes added; a section per slide. A deck of more than MAX_SLIDES is refused before it is
parsed (its slide list is read with defusedxml)."""

from __future__ import annotations

import io

from index.formats.guard import MAX_SLIDES, Guard, Section, check_zip, line

_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"


def _slide_count(archive: object, guard: Guard) -> int:
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(archive.read("ppt/presentation.xml"))  # type: ignore[attr-defined]
    except Exception as exc:
        raise guard.refuse(f"cannot read this PowerPoint deck ({line(exc)}); skipped") from None
    return len(root.findall(f"{_P}sldIdLst/{_P}sldId"))


def read_pptx(data: bytes, guard: Guard) -> list[Section]:
    from haystack.components.converters import PPTXToDocument
    from haystack.dataclasses import ByteStream
    from pptx import Presentation

    with check_zip(io.BytesIO(data), guard, "PowerPoint deck") as archive:
        guard.count(_slide_count(archive, guard), MAX_SLIDES, "slides")
    try:
        deck = Presentation(io.BytesIO(data))
        notes = [
            slide.notes_slide.notes_text_frame.text
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None
            else ""
            for slide in deck.slides
        ]
    except Exception as exc:  # python-pptx raises many kinds on a broken package
        raise guard.refuse(f"cannot read this PowerPoint deck ({line(exc)}); skipped") from None
    guard.check_time()
    documents = PPTXToDocument().run(sources=[ByteStream(data=data)])["documents"]
    if not documents:
        raise guard.refuse("cannot read this PowerPoint deck (python-pptx could not convert it); skipped")
    slides = (documents[0].content or "").split("\f")
    sections = []
    for number, text in enumerate(slides, start=1):
        note = notes[number - 1].strip() if number <= len(notes) else ""
        body = f"{text}\n\nNotes: {note}" if note else text
        sections.append(Section(guard.text(body), f"slide {number}"))
        guard.unit(number, len(slides))
    return sections
