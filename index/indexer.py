"""Documents -> passages -> embeddings -> a new index version (the index is never edited in place)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haystack import Document

from index import store
from index.embedding import document_embedder
from index.errors import BadInputError
from index.reading import SourceDocument, read_documents
from index.splitting import build_passages
from index.store import IndexSpec, PassageIndex

logger = logging.getLogger(__name__)

EMBED_BATCH = 32


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one message per file that could not be read
    passages: int = 0  # passages in the index afterwards
    embedded: int = 0  # passages embedded by this run


def passages_for(doc: SourceDocument, spec: IndexSpec) -> list[Document]:
    spans = build_passages(
        doc.text, max_sentences=spec.max_sentences, overlap=spec.overlap, max_chars=spec.max_chars
    )
    return [
        Document(
            content=doc.text[s.start : s.end],
            meta={"document": doc.name, "start": s.start, "end": s.end, "passage": i},
        )
        for i, s in enumerate(spans)
    ]


class Indexer:
    """Builds index versions for one `IndexSpec`; the embedder is loaded on first use."""

    def __init__(self, spec: IndexSpec, embedding_model: str) -> None:
        self.spec = spec
        self.embedding_model = embedding_model
        self._embedder: Any = None

    def _embed(self, passages: list[Document], progress: Callable[[int, int], None] | None) -> list[Document]:
        if self._embedder is None:
            self._embedder = document_embedder(self.embedding_model)
            self._embedder.warm_up()
        out: list[Document] = []
        for i in range(0, len(passages), EMBED_BATCH):
            out.extend(self._embedder.run(documents=passages[i : i + EMBED_BATCH])["documents"])
            if progress:
                progress(len(out), len(passages))
        return out

    def build(
        self,
        paths: Iterable[str | Path],
        existing: PassageIndex | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[PassageIndex, IndexReport]:
        """A new index: `existing` with the documents under `paths` added or replaced."""
        docs, skipped = read_documents(paths)
        index, report = self.build_from(docs, existing, progress=progress)
        report.skipped = skipped
        return index, report

    def build_from(
        self,
        docs: list[SourceDocument],
        existing: PassageIndex | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[PassageIndex, IndexReport]:
        report = IndexReport()
        keep: list[Document] = []
        sources: dict[str, str] = {}
        incoming = {d.name: d for d in docs}
        if existing is not None:
            for name, sha in existing.sources.items():
                new = incoming.get(name)
                if new is None or new.sha256 == sha:
                    keep.extend(existing.passages_of(name))
                    sources[name] = sha
                    if new is not None:
                        report.unchanged.append(name)
        fresh: list[Document] = []
        for doc in docs:
            if doc.name in report.unchanged:
                continue
            (report.updated if existing and doc.name in existing.sources else report.added).append(doc.name)
            fresh.extend(passages_for(doc, self.spec))
            sources[doc.name] = doc.sha256
        embedded = self._embed(fresh, progress) if fresh else []
        report.embedded = len(embedded)
        index = PassageIndex(self.spec, keep + embedded, sources)
        report.passages = len(index.passages)
        return index, report

    @staticmethod
    def without(existing: PassageIndex, name: str) -> PassageIndex:
        """A new index with the document `name` removed."""
        if name not in existing.sources:
            raise BadInputError(f"{name}: no such document in the index; see the document list")
        sources = {n: s for n, s in existing.sources.items() if n != name}
        passages = [p for p in existing.passages.values() if p.meta["document"] != name]
        return PassageIndex(existing.spec, passages, sources)


__all__ = ["IndexReport", "Indexer", "passages_for", "store"]
