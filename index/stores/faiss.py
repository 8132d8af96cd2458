"""The default store, embedded and serverless: a folder of FAISS vectors, a BM25 keyword index and a
manifest, replaced atomically.

Layout of an index folder (store format 2)::

    INDEX_DIR/current -> v-<id>          symbolic link, swapped with one rename
    INDEX_DIR/v-<id>/manifest.json       embedding model, dimension, splitter, sources, format versions
    INDEX_DIR/v-<id>/vectors.faiss       FAISS's own binary index (Flat or HNSW32), row r = passage r
    INDEX_DIR/v-<id>/vectors.json        the passages of those rows: ids, texts, meta (no embeddings)
    INDEX_DIR/v-<id>/keyword.json        BM25 settings and words
    INDEX_DIR/v-<id>/keyword-*.npy       BM25 score matrix (sparse columns)

The vectors and the BM25 matrix are memory-mapped when loaded, so a load reads little more than the
passages' texts, and several processes on one machine share one copy in the page cache. Store
format 1 (FAISSDocumentStore's files: every embedding as JSON text, 1.1 GB per 100,000 passages) is
still read; the next write saves format 2.

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
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from haystack import Document

from index.errors import IndexDamagedError, IndexMismatchError, IndexMissingError, IndexWriteError
from index.keyword import KeywordIndex
from index.stores.base import Change, IndexSpec, IndexView, check_manifest, kept_sources

logger = logging.getLogger(__name__)

CURRENT = "current"
MANIFEST = "manifest.json"
LOCK = ".lock"
VECTORS = "vectors.faiss"
PASSAGES = "vectors.json"  # the name format 1 gave the vectors' documents
KEYWORDS = "keyword.json"
KEYWORD_ARRAYS = ("data", "indices", "indptr")
STORE_FORMAT = 2  # 1: FAISSDocumentStore.save(), read but no longer written
LOAD_TRIES = 3
INDEX_TYPES = {"flat": "Flat", "hnsw": "HNSW32"}  # FAISS factory strings (HNSW: 32 links per node)
HNSW_EF_SEARCH = 128  # candidates an HNSW search looks at (FAISS's default 16 misses neighbours)


def _tuned(vectors: Any) -> Any:
    """The FAISS index with its HNSW graph searched wider (efSearch is a search setting, not saved)."""
    if hasattr(vectors, "hnsw"):
        vectors.hnsw.efSearch = HNSW_EF_SEARCH
    return vectors


def _vector_index(dim: int, index_type: str, vectors: np.ndarray) -> Any:
    import faiss

    index = faiss.index_factory(dim, INDEX_TYPES[index_type])  # L2: for unit vectors, 2 - 2cos
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return _tuned(index)


class PassageIndex:
    """One loaded version of the index: passages with embeddings, FAISS and BM25 over them (an IndexView).

    The passages are kept column by column (`ids`, `contents`, `metas`, row r of the FAISS index is
    passage r); `passages()` makes Documents of the few a search returns."""

    def __init__(
        self, spec: IndexSpec, passages: list[Document], sources: dict[str, str], index_type: str = "flat"
    ) -> None:
        vectors = np.array([p.embedding for p in passages], dtype=np.float32)
        self._build(
            spec, index_type, sources, [p.id for p in passages], [p.content or "" for p in passages],
            [dict(p.meta) for p in passages], vectors.reshape(len(passages), spec.embedding_dim),
        )  # fmt: skip

    @classmethod
    def from_arrays(
        cls, spec: IndexSpec, ids: list[str], contents: list[str], metas: list[dict], vectors: np.ndarray,
        sources: dict[str, str], index_type: str = "flat", keyword: KeywordIndex | None = None,
    ) -> PassageIndex:  # fmt: skip
        """An index of passages given as columns, with their embeddings as one float32 array (and
        their BM25 index, if it is already built)."""
        index = cls.__new__(cls)
        index._build(spec, index_type, sources, ids, contents, metas, vectors, keyword)
        return index

    def _build(
        self, spec: IndexSpec, index_type: str, sources: dict[str, str], ids: list[str], contents: list[str],
        metas: list[dict], vectors: np.ndarray, keyword: KeywordIndex | None = None,
    ) -> None:  # fmt: skip
        self._columns(spec, index_type, sources, ids, contents, metas)
        self.vectors = _vector_index(spec.embedding_dim, index_type, vectors)
        self.keyword = keyword or KeywordIndex.build(ids, contents)

    def _columns(
        self, spec: IndexSpec, index_type: str, sources: dict[str, str], ids: list[str], contents: list[str],
        metas: list[dict],
    ) -> None:  # fmt: skip
        if not len(ids) == len(contents) == len(metas):
            raise ValueError(f"{len(ids)} ids, {len(contents)} texts and {len(metas)} metas")
        self.spec, self.index_type = spec, index_type
        self.sources = dict(sources)  # document name -> sha256
        self.ids, self.contents, self.metas = ids, contents, metas
        self.version: str | None = None  # the version folder it was loaded from or saved as
        self._owner: Any = None  # a format-1 index: the IndexIDMap that owns `vectors`

    @cached_property
    def _row_of(self) -> dict[str, int]:
        return {passage_id: row for row, passage_id in enumerate(self.ids)}

    @cached_property
    def _counts(self) -> Counter[str]:
        return Counter(m["document"] for m in self.metas)

    def _document(self, row: int) -> Document:
        return Document(id=self.ids[row], content=self.contents[row], meta=dict(self.metas[row]))

    def passage_count(self) -> int:
        return len(self.ids)

    def document_counts(self) -> dict[str, int]:
        """Passages per indexed document, by document name."""
        return {name: self._counts.get(name, 0) for name in sorted(self.sources)}

    def passages_of(self, name: str) -> list[Document]:
        return [self._document(r) for r, m in enumerate(self.metas) if m["document"] == name]

    def passages(self, ids: list[str]) -> dict[str, Document]:
        rows = self._row_of
        return {i: self._document(rows[i]) for i in ids if i in rows}

    def vector_array(self) -> np.ndarray:
        """Every passage's embedding, row by row (float32)."""
        if not self.ids:
            return np.zeros((0, self.spec.embedding_dim), np.float32)
        return self.vectors.reconstruct_n(0, len(self.ids))

    def dense_search(self, embedding: list[float], top_k: int) -> list[tuple[str, float]]:
        """(id, cosine): FAISS gives the squared L2 distance, which for unit vectors is 2 - 2cos."""
        if top_k <= 0 or not self.ids:
            return []
        query = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        distances, rows = self.vectors.search(query, min(top_k, len(self.ids)))
        return [
            (self.ids[r], 1.0 - float(d) / 2.0) for d, r in zip(distances[0], rows[0], strict=True) if r >= 0
        ]

    def keyword_search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        return self.keyword.search(query, top_k=top_k)

    def changed(self, change: Change) -> PassageIndex:
        """A new index: this one with `change` applied."""
        keep = set(kept_sources(self, change))
        rows = [r for r, m in enumerate(self.metas) if m["document"] in keep]
        added = change.added
        vectors = np.concatenate(
            [
                self.vector_array()[rows],
                np.array([p.embedding for p in added], np.float32).reshape(
                    len(added), self.spec.embedding_dim
                ),
            ]
        )
        return PassageIndex.from_arrays(
            self.spec,
            [self.ids[r] for r in rows] + [p.id for p in added],
            [self.contents[r] for r in rows] + [p.content or "" for p in added],
            [self.metas[r] for r in rows] + [dict(p.meta) for p in added],
            vectors,
            change.sources,
            self.index_type,
        )

    def manifest(self) -> dict:
        return {
            **asdict(self.spec),
            "index_type": self.index_type,
            "store_format": STORE_FORMAT,
            "sources": self.sources,
            "passages": len(self.ids),
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
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:300]  # FAISS's are many lines
    return IndexDamagedError(f"index at {index_dir} is damaged ({reason}); run `qa index --rebuild`")


def _load_version(index_dir: Path, version: str | None, spec: IndexSpec, index_type: str) -> PassageIndex:
    folder = index_dir / version if version else _current(index_dir)
    if not (folder / MANIFEST).is_file():
        raise IndexMissingError(f"no index at {index_dir}; run `qa index`")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _damaged(index_dir, exc) from exc
    check_manifest(manifest, spec, str(index_dir), index_type)
    store_format = manifest.get("store_format", 1)
    if store_format not in (1, STORE_FORMAT):
        raise IndexMismatchError(
            f"index at {index_dir} was written in store format {store_format!r} (a newer version of this "
            f"program?), this one reads 1 and {STORE_FORMAT}; run `qa index --rebuild`"
        )
    index = PassageIndex.__new__(PassageIndex)
    try:
        (_read_v1 if store_format == 1 else _read_v2)(index, folder, spec, index_type, manifest["sources"])
        counts = {index.passage_count(), index.vectors.ntotal, manifest.get("passages", index.vectors.ntotal)}
        if len(counts) != 1:
            raise ValueError(
                f"{index.passage_count()} passages and {index.vectors.ntotal} vectors, "
                f"the manifest says {manifest.get('passages')}"
            )
        if index.vectors.d != spec.embedding_dim:
            raise ValueError(
                f"vectors of dimension {index.vectors.d}, the manifest says {spec.embedding_dim}"
            )
    except Exception as exc:  # FAISS, JSON, numpy and our own checks fail in many ways on a damaged file
        raise _damaged(index_dir, exc) from exc
    _tuned(index.vectors)
    index.version = version
    return index


def _read_v2(index: PassageIndex, folder: Path, spec: IndexSpec, index_type: str, sources: dict) -> None:
    import faiss

    passages = json.loads((folder / PASSAGES).read_text(encoding="utf-8"))
    ids = passages["ids"]
    index._columns(spec, index_type, sources, ids, passages["contents"], passages["metas"])
    index.vectors = faiss.read_index(str(folder / VECTORS), faiss.IO_FLAG_MMAP_IFC)
    settings = json.loads((folder / KEYWORDS).read_text(encoding="utf-8"))
    arrays = {name: np.load(folder / f"keyword-{name}.npy", mmap_mode="r") for name in KEYWORD_ARRAYS}
    if arrays["indptr"][-1] != len(arrays["data"]) or len(arrays["indices"]) != len(arrays["data"]):
        raise ValueError("the keyword score matrix is cut short")
    index.keyword = KeywordIndex.from_state(ids, settings, arrays)


def _read_v1(index: PassageIndex, folder: Path, spec: IndexSpec, index_type: str, sources: dict) -> None:
    """FAISSDocumentStore's files: an IndexIDMap over the vectors, its documents (with their
    embeddings) and integer ids as JSON, and the BM25 index as every passage's words."""
    import faiss

    owner: Any = faiss.read_index(str(folder / VECTORS))
    data = json.loads((folder / PASSAGES).read_text(encoding="utf-8"))
    documents = {d["id"]: Document.from_dict(d) for d in data["documents"]}
    by_label = {int(k): v for k, v in data["id_map"].items()}
    ids = [by_label[int(label)] for label in faiss.vector_to_array(owner.id_map)]  # row order
    docs = [documents[i] for i in ids]
    index._columns(spec, index_type, sources, ids, [d.content or "" for d in docs], [d.meta for d in docs])
    index._owner = owner  # keeps the inner index alive
    index.vectors = faiss.downcast_index(owner.index)
    index.keyword = KeywordIndex.from_dict(json.loads((folder / KEYWORDS).read_text(encoding="utf-8")))


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


def _write_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array))
        f.flush()
        os.fsync(f.fileno())


def _write_vectors(path: Path, vectors: Any) -> None:
    import faiss

    try:
        faiss.write_index(vectors, str(path))
    except RuntimeError as exc:  # FAISS reports a failed write (a full disk) as its own error
        raise OSError(f"writing {path.name} failed") from exc
    with open(path, "rb") as f:
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
        _write_vectors(building / VECTORS, index.vectors)
        passages = {"ids": index.ids, "contents": index.contents, "metas": index.metas}
        _write_file(building / PASSAGES, json.dumps(passages, ensure_ascii=False, separators=(",", ":")))
        settings, arrays = index.keyword.state()
        for name in KEYWORD_ARRAYS:
            _write_array(building / f"keyword-{name}.npy", arrays[name])
        _write_file(building / KEYWORDS, json.dumps(settings, ensure_ascii=False, separators=(",", ":")))
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
