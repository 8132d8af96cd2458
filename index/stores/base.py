"""What every store of passages offers: one small protocol, one module per backend.

A store holds passages with their embeddings, searchable by vector and by keywords, and the facts that
say which settings built it (the manifest: embedding model, dimension, splitter). Writers change it
through `commit(Change)` inside `writing()`, which takes turns across processes; a reader's view
(`IndexView`) stays consistent while a writer works, and `version()` tells it when to look again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Protocol

from haystack import Document

from index.errors import IndexMismatchError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class IndexSpec:
    """What an index must have been built with for a given configuration to use it."""

    embedding_model: str
    embedding_dim: int
    max_sentences: int
    overlap: int
    max_chars: int
    format_version: int = FORMAT_VERSION


@dataclass
class Change:
    """One write: the passages of the `removed` documents go, the `added` passages (embedded) come,
    and `sources` (name -> sha256) becomes the full list of documents. `rebuild` starts from nothing."""

    sources: dict[str, str]
    added: list[Document] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    rebuild: bool = False


class IndexView(Protocol):
    """A consistent view of the stored passages, as retrieval and the document list read them."""

    version: str | None
    sources: dict[str, str]

    def passage_count(self) -> int: ...

    def document_counts(self) -> dict[str, int]: ...

    def dense_search(self, embedding: list[float], top_k: int) -> list[tuple[str, float]]:
        """(passage id, cosine similarity), best first."""
        ...

    def keyword_search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        """(passage id, BM25-like score), best first."""
        ...

    def passages(self, ids: list[str]) -> dict[str, Document]:
        """The passages with these ids (text and meta, no embedding)."""
        ...


class PassageStore(Protocol):
    """A place passages live: a FAISS folder, a PostgreSQL database."""

    where: str  # how messages name it: a folder, a database

    def exists(self) -> bool: ...

    def version(self) -> str | None:
        """Changes on every commit (cheap: asked before each question)."""
        ...

    def writing(self) -> AbstractContextManager[None]:
        """Held while one writer reads the latest view and commits the next; writers take turns."""
        ...

    def load(self) -> IndexView: ...

    def commit(self, base: IndexView | None, change: Change) -> IndexView:
        """Apply `change` atomically (readers see all of it or none) and return the new view."""
        ...

    def discard(self) -> None:
        """Delete this index for good (a temporary one: an evaluation's)."""
        ...


def check_manifest(manifest: dict, spec: IndexSpec, where: str, index_type: str) -> None:
    """IndexMismatchError naming the first setting that differs (the spec's, then the vector index
    type; a manifest without one was built flat), and the command that fixes it."""
    defaults = {"index_type": "flat"}
    for key, expected in {**asdict(spec), "index_type": index_type}.items():
        found = manifest.get(key, defaults.get(key))
        if found != expected:
            raise IndexMismatchError(
                f"index at {where} was built with {key}={found!r}, this configuration needs "
                f"{expected!r}; run `qa index --rebuild`"
            )


def kept_sources(base: IndexView | None, change: Change) -> Iterator[str]:
    """The documents of `base` whose passages stay after `change`."""
    if base is None or change.rebuild:
        return iter(())
    return (name for name in base.sources if name in change.sources and name not in change.removed)
