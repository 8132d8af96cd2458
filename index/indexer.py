"""Documents -> passages -> embeddings -> a `Change` that a store commits atomically."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haystack import Document

from index.embedding import document_embedder
from index.errors import BadInputError
from index.reading import Place, Skipped, SourceDocument, read_documents
from index.splitting import build_passages
from index.stores import Change, IndexSpec, IndexView

logger = logging.getLogger(__name__)

# passages per embedder call (and progress step): the bundled embedder sorts them by length inside
# a call and runs batches of 32, so a larger call pads less
EMBED_BATCH = 256


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # one message per file that could not be read
    passages: int = 0  # passages in the index afterwards
    embedded: int = 0  # passages embedded by this run

    @property
    def read(self) -> list[str]:
        """The documents this run read: added, updated or unchanged."""
        return [*self.added, *self.updated, *self.unchanged]

    def skipped_summary(self) -> str:
        """ "skipped 3: 2 unsupported (.exe, .zip), 1 scanned PDF (install tesseract-ocr)", "" if none."""
        return skipped_summary(self.skipped)


_PLURALS = {"scanned PDF": "scanned PDFs", "image": "images"}


def skipped_summary(skipped: list[Skipped]) -> str:
    """The skipped files counted by group, the details of a group ("(.exe)", "(.zip)") merged."""
    if not skipped:
        return ""
    counts: Counter[str] = Counter()
    details: dict[str, list[str]] = {}
    for message in skipped:
        group = getattr(message, "group", "unreadable")
        label, _, detail = group.partition(" (")
        counts[label] += 1
        kept = details.setdefault(label, [])
        if detail and detail.rstrip(")") not in kept:
            kept.append(detail.rstrip(")"))
    parts = []
    for label, count in counts.most_common():
        noun = _PLURALS.get(label, label) if count > 1 else label
        extra = f" ({', '.join(details[label])})" if details[label] else ""
        parts.append(f"{count} {noun}{extra}")
    return f"skipped {len(skipped)}: {', '.join(parts)}"


def passages_for(doc: SourceDocument, spec: IndexSpec) -> list[Document]:
    """The passages of each part of `doc` (a page, a slide, a row, a section: a passage never spans
    two), each with its offsets into the document and, for a located part, its `location`."""
    passages: list[Document] = []
    for place in doc.places or (Place(0, len(doc.text), None),):
        part = doc.text[place.start : place.end]
        spans = build_passages(
            part, max_sentences=spec.max_sentences, overlap=spec.overlap, max_chars=spec.max_chars
        )
        for s in spans:
            start, end = place.start + s.start, place.start + s.end
            meta: dict[str, Any] = {
                "document": doc.name,
                "start": start,
                "end": end,
                "passage": len(passages),
            }
            if place.location is not None:
                meta["location"] = place.location
            passages.append(Document(content=doc.text[start:end], meta=meta))
    return passages


class Indexer:
    """Builds index versions for one `IndexSpec`; the embedder is loaded on first use."""

    def __init__(self, spec: IndexSpec, embedding_model: str) -> None:
        self.spec = spec
        self.embedding_model = embedding_model
        self._embedder: Any = None
        self._loading = threading.Lock()  # writers of two collections may start at once

    def _embed(self, passages: list[Document], progress: Callable[[int, int], None] | None) -> list[Document]:
        if self._embedder is None:
            with self._loading:
                if self._embedder is None:
                    embedder = document_embedder(self.embedding_model)
                    embedder.warm_up()
                    self._embedder = embedder
        out: list[Document] = []
        for i in range(0, len(passages), EMBED_BATCH):
            out.extend(self._embedder.run(documents=passages[i : i + EMBED_BATCH])["documents"])
            if progress:
                progress(len(out), len(passages))
        return out

    def build(
        self,
        paths: Iterable[str | Path],
        existing: IndexView | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[Change, IndexReport]:
        """The change that adds or replaces the documents under `paths` in `existing` (None: a new index).

        `progress(done, total)` hears the passages embedded; if it has a `reading` method, that hears
        each file read (`index.reading.Reading`: file n of N, its pages)."""
        docs, skipped = read_documents(paths, reading=getattr(progress, "reading", None))
        change, report = self.build_from(docs, existing, progress=progress)
        report.skipped = skipped
        return change, report

    def build_from(
        self,
        docs: list[SourceDocument],
        existing: IndexView | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[Change, IndexReport]:
        """Unchanged documents (same name and hash) are kept as they are; a changed one's passages
        are replaced; only new passages are embedded."""
        report = IndexReport()
        known = dict(existing.sources) if existing is not None else {}
        change = Change(sources=dict(known), rebuild=existing is None)
        fresh: list[Document] = []
        for doc in docs:
            if known.get(doc.name) == doc.sha256:
                report.unchanged.append(doc.name)
                continue
            if doc.name in known:
                report.updated.append(doc.name)
                change.removed.add(doc.name)
            else:
                report.added.append(doc.name)
            fresh.extend(passages_for(doc, self.spec))
            change.sources[doc.name] = doc.sha256
        change.added = self._embed(fresh, progress) if fresh else []
        report.embedded = len(change.added)
        return change, report

    @staticmethod
    def without(existing: IndexView, name: str) -> Change:
        """The change that removes the document `name`."""
        if name not in existing.sources:
            raise BadInputError(f"{name}: no such document in the index; see the document list")
        sources = {n: s for n, s in existing.sources.items() if n != name}
        return Change(sources=sources, removed={name})


__all__ = ["IndexReport", "Indexer", "passages_for", "skipped_summary"]
