"""The default store, embedded and serverless: a folder of FAISS vectors, a BM25 keyword index and a
manifest, replaced atomically.

Layout of an index folder::

    INDEX_DIR/current -> v-<id>       symbolic link, swapped with one rename
    INDEX_DIR/v-<id>/manifest.json    embedding model, dimension, splitter, sources, format version
    INDEX_DIR/v-<id>/vectors.faiss    FAISSDocumentStore.save()
    INDEX_DIR/v-<id>/vectors.json
    INDEX_DIR/v-<id>/keyword.json     BM25 index

A new version is written to a `.building-*` folder, renamed into place, and only then is `current`
pointed at it, so a crash or `kill -9` at any moment leaves the previous version loadable. Writers
take turns through a lock file (`writing()`) and build on the latest version, so concurrent writers
in several processes lose nothing; readers notice a newer version by `current_version()`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from haystack import Document

from index.errors import IndexDamagedError, IndexMissingError, IndexWriteError
from index.keyword import KeywordIndex
from index.stores.base import Change, IndexSpec, IndexView, check_manifest, kept_sources

logger = logging.getLogger(__name__)

CURRENT = "current"
MANIFEST = "manifest.json"
LOCK = ".lock"
LOAD_TRIES = 3
INDEX_TYPES = {"flat": "Flat", "hnsw": "HNSW32"}  # FAISS factory strings (HNSW: 32 links per node)
HNSW_EF_SEARCH = 128  # candidates an HNSW search looks at (FAISS's default 16 misses neighbours)


def _tuned(store: Any) -> Any:
    """The store with its HNSW graph searched wider (efSearch is a search setting, not saved)."""
    import faiss

    inner = faiss.downcast_index(store.index.index)  # FAISSDocumentStore wraps it in an IndexIDMap
    if hasattr(inner, "hnsw"):
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    return store


class PassageIndex:
    """One loaded version of the index: passages with embeddings, FAISS and BM25 over them (an IndexView)."""

    def __init__(
        self, spec: IndexSpec, passages: list[Document], sources: dict[str, str], index_type: str = "flat"
    ) -> None:
        from haystack_integrations.document_stores.faiss import FAISSDocumentStore

        self.spec = spec
        self.index_type = index_type
        self.sources = dict(sources)  # document name -> sha256
        self.passages_by_id = {p.id: p for p in passages}
        self.store = FAISSDocumentStore(
            embedding_dim=spec.embedding_dim, index_string=INDEX_TYPES[index_type]
        )
        self.store.write_documents(passages)
        _tuned(self.store)
        self.keyword = KeywordIndex.build([p.id for p in passages], [p.content or "" for p in passages])
        self.version: str | None = None  # the version folder it was loaded from or saved as

    def passage_count(self) -> int:
        return len(self.passages_by_id)

    def document_counts(self) -> dict[str, int]:
        """Passages per indexed document, by document name."""
        counts = Counter(p.meta["document"] for p in self.passages_by_id.values())
        return {name: counts.get(name, 0) for name in sorted(self.sources)}

    def passages_of(self, name: str) -> list[Document]:
        return [p for p in self.passages_by_id.values() if p.meta["document"] == name]

    def passages(self, ids: list[str]) -> dict[str, Document]:
        return {i: self.passages_by_id[i] for i in ids if i in self.passages_by_id}

    def dense_search(self, embedding: list[float], top_k: int) -> list[tuple[str, float]]:
        """(id, cosine): the store scores Flat hits 1/(1+d) and HNSW hits d, the squared L2 distance,
        which for unit vectors is 2 - 2cos."""
        hits = self.store.search(embedding, top_k=top_k)
        if self.store.index_string == "Flat":
            return [(d.id, 1.0 - (1.0 / d.score - 1.0) / 2.0 if d.score else -1.0) for d in hits]
        return [(d.id, 1.0 - float(d.score or 0.0) / 2.0) for d in hits]

    def keyword_search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        return self.keyword.search(query, top_k=top_k)

    def changed(self, change: Change) -> PassageIndex:
        """A new index: this one with `change` applied."""
        keep = set(kept_sources(self, change))
        passages = [p for p in self.passages_by_id.values() if p.meta["document"] in keep]
        return PassageIndex(self.spec, passages + change.added, change.sources, self.index_type)

    def manifest(self) -> dict:
        return {
            **asdict(self.spec),
            "index_type": self.index_type,
            "sources": self.sources,
            "passages": len(self.passages_by_id),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


def _current(index_dir: Path) -> Path:
    return index_dir / CURRENT


def exists(index_dir: str | Path) -> bool:
    return (_current(Path(index_dir)) / MANIFEST).is_file()


def current_version(index_dir: str | Path) -> str | None:
    """The version folder `current` points at (a cheap check: has another process written one?)."""
    try:
        return os.readlink(_current(Path(index_dir)))
    except OSError:
        return None


@contextmanager
def writing(index_dir: str | Path) -> Iterator[None]:
    """Held while one writer builds on the latest version and saves the next: writers in any process
    take turns (an exclusive lock on INDEX_DIR/.lock, released by the kernel if the writer dies)."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load(index_dir: str | Path, spec: IndexSpec, index_type: str = "flat") -> PassageIndex:
    """The current version; if a writer replaces it while it is read, the newer one."""
    index_dir = Path(index_dir)
    for _ in range(LOAD_TRIES):
        version = current_version(index_dir)
        try:
            return _load_version(index_dir, version, spec, index_type)
        except (IndexMissingError, IndexDamagedError):
            if current_version(index_dir) == version:
                raise  # not a version swapped away under us: really missing or damaged
    return _load_version(index_dir, current_version(index_dir), spec, index_type)


def _damaged(index_dir: Path, exc: Exception) -> IndexDamagedError:
    return IndexDamagedError(f"index at {index_dir} is damaged ({exc}); run `qa index --rebuild`")


def _load_version(index_dir: Path, version: str | None, spec: IndexSpec, index_type: str) -> PassageIndex:
    from haystack_integrations.document_stores.faiss import FAISSDocumentStore

    folder = index_dir / version if version else _current(index_dir)
    if not (folder / MANIFEST).is_file():
        raise IndexMissingError(f"no index at {index_dir}; run `qa index`")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _damaged(index_dir, exc) from exc
    check_manifest(manifest, spec, str(index_dir), index_type)
    index = PassageIndex.__new__(PassageIndex)
    try:
        store = FAISSDocumentStore(embedding_dim=spec.embedding_dim, index_string=INDEX_TYPES[index_type])
        store.load(folder / "vectors")
        keyword = KeywordIndex.from_dict(json.loads((folder / "keyword.json").read_text(encoding="utf-8")))
        index.sources = dict(manifest["sources"])
        index.passages_by_id = dict(store.documents)
        if len(index.passages_by_id) != manifest.get("passages", len(index.passages_by_id)):
            raise ValueError(
                f"{len(index.passages_by_id)} passages, the manifest says {manifest['passages']}"
            )
    except Exception as exc:  # FAISS, JSON and our own checks fail in many ways on a damaged file
        raise _damaged(index_dir, exc) from exc
    index.spec = spec
    index.index_type = index_type
    index.store = _tuned(store)
    index.keyword = keyword
    index.version = version
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
    """Write `index` as a new version and point `current` at it; returns the version folder.

    Call it inside `writing(index_dir)`. If the version cannot be written (a full disk), its partial
    folder is removed and IndexWriteError says so; `current` still points at the previous version.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    previous = current_version(index_dir)
    tag = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    building = index_dir / f".building-{tag}"
    try:
        building.mkdir()
        index.store.save(building / "vectors")
        for name in ("vectors.faiss", "vectors.json"):
            with open(building / name, "rb") as f:
                os.fsync(f.fileno())
        _write_file(building / "keyword.json", json.dumps(index.keyword.to_dict()))
        _write_file(building / MANIFEST, json.dumps(index.manifest(), indent=2))
        _fsync_dir(building)
    except OSError as exc:
        shutil.rmtree(building, ignore_errors=True)
        raise IndexWriteError(
            f"could not write the index to {index_dir} ({exc.strerror or exc}); the previous version is "
            "unchanged: free disk space and retry"
        ) from exc
    version = index_dir / f"v-{tag}"
    os.rename(building, version)
    link = index_dir / f".current-{tag}"
    os.symlink(version.name, link)
    os.replace(link, _current(index_dir))  # the atomic swap
    _fsync_dir(index_dir)
    index.version = version.name
    # the previous version stays until the next write: a reader that resolved `current` just
    # before the swap can still finish loading it
    _remove_stale(index_dir, keep={version.name, previous or ""})
    return version


def _remove_stale(index_dir: Path, keep: set[str]) -> None:
    for child in index_dir.iterdir():
        if child.name == CURRENT or child.name in keep:
            continue
        if child.name.startswith(("v-", ".building-", ".current-")):
            if child.is_symlink() or child.is_file():
                child.unlink(missing_ok=True)
            else:
                shutil.rmtree(child, ignore_errors=True)


class FaissStore:
    """The FAISS folder as a PassageStore: a commit writes a new version and swaps it in."""

    def __init__(self, index_dir: str | Path, spec: IndexSpec, index_type: str = "flat") -> None:
        self.index_dir, self.spec, self.index_type = Path(index_dir), spec, index_type
        self.where = str(self.index_dir)

    def exists(self) -> bool:
        return exists(self.index_dir)

    def version(self) -> str | None:
        return current_version(self.index_dir)

    def writing(self) -> AbstractContextManager[None]:
        return writing(self.index_dir)

    def load(self) -> PassageIndex:
        return load(self.index_dir, self.spec, self.index_type)

    def commit(self, base: IndexView | None, change: Change) -> PassageIndex:
        if isinstance(base, PassageIndex) and not change.rebuild:
            new = base.changed(change)
        else:
            new = PassageIndex(self.spec, change.added, change.sources, self.index_type)
        save(new, self.index_dir)
        return new

    def discard(self) -> None:
        shutil.rmtree(self.index_dir, ignore_errors=True)
