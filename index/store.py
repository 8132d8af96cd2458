"""The index folder: FAISS vectors, a BM25 keyword index and a manifest, replaced atomically.

Layout of an index folder::

    INDEX_DIR/current -> v-<id>       symbolic link, swapped with one rename
    INDEX_DIR/v-<id>/manifest.json    embedding model, dimension, splitter, sources, format version
    INDEX_DIR/v-<id>/vectors.faiss    FAISSDocumentStore.save()
    INDEX_DIR/v-<id>/vectors.json
    INDEX_DIR/v-<id>/keyword.json     BM25 index

A new version is written to a `.building-*` folder, renamed into place, and only then is `current`
pointed at it, so a crash or `kill -9` at any moment leaves the previous version loadable.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from haystack import Document

from index.errors import IndexMismatchError, IndexMissingError
from index.keyword import KeywordIndex

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "current"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class IndexSpec:
    """What an index must have been built with for a given configuration to use it."""

    embedding_model: str
    embedding_dim: int
    max_sentences: int
    overlap: int
    max_chars: int
    format_version: int = FORMAT_VERSION


class PassageIndex:
    """One loaded version of the index: passages with embeddings, FAISS and BM25 over them."""

    def __init__(self, spec: IndexSpec, passages: list[Document], sources: dict[str, str]) -> None:
        from haystack_integrations.document_stores.faiss import FAISSDocumentStore

        self.spec = spec
        self.sources = dict(sources)  # document name -> sha256
        self.passages = {p.id: p for p in passages}
        self.store = FAISSDocumentStore(embedding_dim=spec.embedding_dim)
        self.store.write_documents(passages)
        self.keyword = KeywordIndex.build([p.id for p in passages], [p.content or "" for p in passages])

    def document_counts(self) -> dict[str, int]:
        """Passages per indexed document, by document name."""
        counts = Counter(p.meta["document"] for p in self.passages.values())
        return {name: counts.get(name, 0) for name in sorted(self.sources)}

    def passages_of(self, name: str) -> list[Document]:
        return [p for p in self.passages.values() if p.meta["document"] == name]

    def manifest(self) -> dict:
        return {
            **asdict(self.spec),
            "sources": self.sources,
            "passages": len(self.passages),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


def _current(index_dir: Path) -> Path:
    return index_dir / CURRENT


def exists(index_dir: str | Path) -> bool:
    return (_current(Path(index_dir)) / MANIFEST).is_file()


def check_manifest(manifest: dict, spec: IndexSpec, index_dir: Path) -> None:
    """IndexMismatchError naming the first setting that differs, and the command that fixes it."""
    for key, expected in asdict(spec).items():
        found = manifest.get(key)
        if found != expected:
            raise IndexMismatchError(
                f"index at {index_dir} was built with {key}={found!r}, this configuration needs "
                f"{expected!r}; run `qa index --rebuild`"
            )


def load(index_dir: str | Path, spec: IndexSpec) -> PassageIndex:
    from haystack_integrations.document_stores.faiss import FAISSDocumentStore

    index_dir = Path(index_dir)
    folder = _current(index_dir)
    if not (folder / MANIFEST).is_file():
        raise IndexMissingError(f"no index at {index_dir}; run `qa index`")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatchError(
            f"index at {index_dir} is unreadable ({exc}); run `qa index --rebuild`"
        ) from exc
    check_manifest(manifest, spec, index_dir)
    store = FAISSDocumentStore(embedding_dim=spec.embedding_dim)
    store.load(folder / "vectors")
    index = PassageIndex.__new__(PassageIndex)
    index.spec = spec
    index.sources = manifest["sources"]
    index.passages = dict(store.documents)
    index.store = store
    index.keyword = KeywordIndex.from_dict(json.loads((folder / "keyword.json").read_text(encoding="utf-8")))
    return index


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def save(index: PassageIndex, index_dir: str | Path) -> Path:
    """Write `index` as a new version and point `current` at it; returns the version folder."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    building = index_dir / f".building-{tag}"
    building.mkdir()
    index.store.save(building / "vectors")
    for name in ("vectors.faiss", "vectors.json"):
        with open(building / name, "rb") as f:
            os.fsync(f.fileno())
    _write_file(building / "keyword.json", json.dumps(index.keyword.to_dict()))
    _write_file(building / MANIFEST, json.dumps(index.manifest(), indent=2))
    _fsync_dir(building)
    version = index_dir / f"v-{tag}"
    os.rename(building, version)
    link = index_dir / f".current-{tag}"
    os.symlink(version.name, link)
    os.replace(link, _current(index_dir))  # the atomic swap
    _fsync_dir(index_dir)
    _remove_stale(index_dir, keep=version.name)
    return version


def _remove_stale(index_dir: Path, keep: str) -> None:
    for child in index_dir.iterdir():
        if child.name == CURRENT or child.name == keep:
            continue
        if child.name.startswith(("v-", ".building-", ".current-")):
            if child.is_symlink() or child.is_file():
                child.unlink(missing_ok=True)
            else:
                shutil.rmtree(child, ignore_errors=True)
