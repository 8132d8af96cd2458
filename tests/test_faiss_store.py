"""The FAISS folder store's files: FAISS's binary index, passages without embeddings, a BM25 matrix,
memory-mapped at load; the previous format (every embedding as JSON text) still loads."""

import json
import math
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from haystack import Document

from conftest import ARTICLE, EXAMPLE_ANSWER, EXAMPLE_QUESTION
from index.embedding import HashDocumentEmbedder, hash_vector
from index.keyword import KeywordIndex, tokenize
from index.splitting import build_passages
from index.stores import Change, IndexSpec
from index.stores import faiss as store
from qa import Assistant
from qa.errors import IndexDamagedError, IndexMismatchError

SPEC = IndexSpec("hash", 64, 3, 1, 600)
QUESTIONS = [
    "Who was sanctioned by China?",
    "Who is China's foreign minister?",
    "What did the European Union do about Xinjiang?",
    "sanctions Uyghur human rights",
]


def _passages(name: str = ARTICLE.name, text: str | None = None) -> list[Document]:
    text = text if text is not None else ARTICLE.read_text(encoding="utf-8")
    docs = [
        Document(
            content=text[s.start : s.end],
            meta={"document": name, "start": s.start, "end": s.end, "passage": i},
        )
        for i, s in enumerate(build_passages(text))
    ]
    return HashDocumentEmbedder().run(documents=docs)["documents"]


def _searches(index) -> list:
    return [(index.dense_search(hash_vector(q), 8), index.keyword_search(q, 8)) for q in QUESTIONS]


def _write_format_1(folder: Path, passages: list[Document], index_type: str) -> None:
    """An index folder exactly as the store wrote it before store format 2."""
    from haystack_integrations.document_stores.faiss import FAISSDocumentStore

    version = folder / "v-20250101000000-00000000"
    version.mkdir(parents=True)
    documents = FAISSDocumentStore(
        embedding_dim=SPEC.embedding_dim, index_string=store.INDEX_TYPES[index_type]
    )
    documents.write_documents(passages)
    documents.save(version / "vectors")
    keyword = {
        "ids": [p.id for p in passages],
        "tokens": [tokenize(p.content) for p in passages],
        "k1": 1.5,
        "b": 0.75,
    }
    (version / "keyword.json").write_text(json.dumps(keyword), encoding="utf-8")
    manifest = {
        **asdict(SPEC), "index_type": index_type, "sources": {ARTICLE.name: "sha"}, "passages": len(passages),
        "created": "2025-01-01T00:00:00Z",
    }  # fmt: skip
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    os.symlink(version.name, folder / "current")


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_an_index_of_the_previous_format_loads_answers_the_same_and_is_rewritten(tmp_path, index_type):
    passages = _passages()
    _write_format_1(tmp_path / "index", passages, index_type)
    old = store.load(tmp_path / "index", SPEC, index_type)
    fresh = store.PassageIndex(SPEC, passages, {ARTICLE.name: "sha"}, index_type)
    assert _searches(old) == _searches(fresh)
    assert old.passages([p.id for p in passages[:3]]) == fresh.passages([p.id for p in passages[:3]])
    assert old.document_counts() == {ARTICLE.name: len(passages)}

    # the next write saves the new format, and keeps the old passages with their vectors
    other = _passages(
        "other.txt", "The harbour master of Port Elin is Agnes Varga. She keeps the lighthouse."
    )
    sources = {ARTICLE.name: "sha", "other.txt": "sha2"}
    new = store.FaissStore(tmp_path / "index", SPEC, index_type).commit(old, Change(sources, added=other))
    again = store.load(tmp_path / "index", SPEC, index_type)
    manifest = json.loads((tmp_path / "index" / "current" / "manifest.json").read_text())
    assert manifest["store_format"] == store.STORE_FORMAT == 2
    assert _searches(again) == _searches(new)
    assert again.dense_search(passages[5].embedding, 1)[0][0] == passages[5].id


def test_a_folder_of_the_previous_format_still_answers_through_the_assistant(fake_config):
    index_dir = Path(fake_config).parent / "index"
    _write_format_1(index_dir, _passages(), "flat")
    assistant = Assistant.from_config(fake_config)
    assert EXAMPLE_ANSWER in (assistant.ask(EXAMPLE_QUESTION).text or "")


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_a_saved_index_loads_with_the_same_searches_and_passages(tmp_path, index_type):
    passages = _passages()
    index = store.PassageIndex(SPEC, passages, {ARTICLE.name: "sha"}, index_type)
    store.save(index, tmp_path)
    loaded = store.load(tmp_path, SPEC, index_type)
    assert _searches(loaded) == _searches(index)
    assert loaded.passages_of(ARTICLE.name) == [
        Document(id=p.id, content=p.content, meta=p.meta) for p in passages
    ]
    top_id, cosine = loaded.dense_search(passages[2].embedding, 1)[0]
    assert top_id == passages[2].id and cosine == pytest.approx(1.0, abs=1e-5)
    # a write on a loaded (memory-mapped) version keeps the old passages' vectors
    other = _passages("other.txt", "The harbour master of Port Elin is Agnes Varga.")
    sources = {ARTICLE.name: "sha", "other.txt": "sha2"}
    store.FaissStore(tmp_path, SPEC, index_type).commit(loaded, Change(sources, added=other))
    again = store.load(tmp_path, SPEC, index_type)
    assert again.document_counts() == {ARTICLE.name: len(passages), "other.txt": 1}
    assert again.dense_search(passages[7].embedding, 1)[0][0] == passages[7].id
    assert again.keyword_search("harbour master Agnes Varga", 1)[0][0] == other[0].id


def test_the_folder_keeps_no_embedding_as_text_and_maps_the_vectors_into_memory(tmp_path):
    passages = _passages()
    index = store.PassageIndex(SPEC, passages, {ARTICLE.name: "sha"})
    folder = store.save(index, tmp_path)
    texts = sum(len(p.content.encode()) for p in passages)
    vectors = len(passages) * SPEC.embedding_dim * 4
    size = sum(f.stat().st_size for f in folder.iterdir())
    assert "embedding" not in (folder / "vectors.json").read_text(encoding="utf-8")
    assert size < vectors + 3 * texts + 20_000, size  # format 1: ~4x the vectors again, as JSON text
    loaded = store.load(tmp_path, SPEC)
    with open("/proc/self/maps", encoding="utf-8") as maps:
        mapped = maps.read()
    assert str(folder / "vectors.faiss") in mapped and str(folder / "keyword-data.npy") in mapped
    assert loaded.passage_count() == len(passages)


@pytest.mark.parametrize("damage", ["truncate", "delete"])
@pytest.mark.parametrize(
    "name",
    ["manifest.json", "vectors.faiss", "vectors.json", "keyword.json"]
    + [f"keyword-{a}.npy" for a in store.KEYWORD_ARRAYS],
)
def test_damage_to_any_file_names_the_rebuild_command(tmp_path, name, damage):
    folder = store.save(store.PassageIndex(SPEC, _passages(), {ARTICLE.name: "sha"}), tmp_path)
    path = folder / name
    if damage == "delete":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    error = IndexDamagedError if not (name == "manifest.json" and damage == "delete") else Exception
    with pytest.raises(error, match=r"run `qa index( --rebuild)?`$"):
        store.load(tmp_path, SPEC)


def test_an_index_of_a_newer_store_format_asks_for_a_rebuild(tmp_path):
    folder = store.save(store.PassageIndex(SPEC, _passages(), {ARTICLE.name: "sha"}), tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["store_format"] = 3
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match=r"store format 3.*run `qa index --rebuild`"):
        store.load(tmp_path, SPEC)


def test_an_empty_index_saves_loads_and_finds_nothing(tmp_path):
    store.save(store.PassageIndex(SPEC, [], {}), tmp_path)
    empty = store.load(tmp_path, SPEC)
    assert empty.passage_count() == 0
    assert empty.dense_search(hash_vector("anything"), 5) == empty.keyword_search("anything", 5) == []


def test_bm25_scores_are_the_textbook_formula_and_ties_keep_passage_order():
    texts = [p.content for p in _passages()] + ["Sanctions, sanctions.", "Sanctions, sanctions.", "China"]
    ids = [f"p{i}" for i in range(len(texts))]
    tokens = [tokenize(t) for t in texts]
    n, avg = len(texts), sum(map(len, tokens)) / len(texts)
    df = Counter(w for t in tokens for w in set(t))
    index = KeywordIndex.build(ids, texts)
    for query in [*QUESTIONS, "sanctions sanctions China", "nothing-matches-this"]:
        expected = []
        for i, t in enumerate(tokens):
            tf, norm = Counter(t), 1.5 * (1 - 0.75 + 0.75 * len(t) / avg)
            score = sum(
                math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5)) * tf[w] * 2.5 / (tf[w] + norm)
                for w in tokenize(query)
                if tf[w]
            )
            if score > 0:
                expected.append((ids[i], score))
        expected.sort(key=lambda x: -x[1])
        found = index.search(query, 6)
        assert [i for i, _ in found] == [i for i, _ in expected[:6]], query
        assert [s for _, s in found] == pytest.approx([s for _, s in expected[:6]], rel=1e-5)


def test_the_bm25_matrix_is_the_one_bm25s_builds():
    import bm25s

    from index.keyword import score_matrix

    tokens = [tokenize(p.content) for p in _passages()] + [[], ["alone"], ["sanction", "sanction", "china"]]
    column: dict[str, int] = {}
    token_ids = [[column.setdefault(w, len(column)) for w in words] for words in tokens]
    theirs = bm25s.BM25(k1=1.5, b=0.75, method="lucene").build_index_from_ids(
        list(range(len(column))), token_ids, show_progress=False
    )
    lengths = np.array([len(t) for t in token_ids])
    ours = score_matrix(np.array([i for t in token_ids for i in t]), lengths, len(column), 1.5, 0.75)
    assert ours["indptr"].tolist() == theirs["indptr"].tolist()
    assert ours["indices"].tolist() == theirs["indices"].tolist()
    assert ours["data"] == pytest.approx(theirs["data"], rel=1e-6)


@pytest.mark.parametrize("failing", ["faiss", "numpy"])
def test_a_full_disk_while_writing_the_binary_files_keeps_the_previous_version(
    tmp_path, monkeypatch, failing
):
    import errno

    import faiss

    from qa.errors import IndexWriteError

    store.save(store.PassageIndex(SPEC, _passages(), {ARTICLE.name: "sha"}), tmp_path)
    before = store.current_version(tmp_path)

    def full(*args, **kwargs):
        if failing == "faiss":  # FAISS reports a failed write as a RuntimeError of its own
            raise RuntimeError("Error in faiss::FileIOWriter: write failed (No space left on device)")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if failing == "faiss":
        monkeypatch.setattr(faiss, "write_index", full)
    else:
        monkeypatch.setattr(np, "save", full)
    other = _passages("other.txt", "A new fact about the harbour.")
    with pytest.raises(IndexWriteError, match=r"previous version is unchanged"):
        store.save(store.PassageIndex(SPEC, other, {"other.txt": "sha2"}), tmp_path)
    monkeypatch.undo()
    assert store.current_version(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".building-")]
    assert store.load(tmp_path, SPEC).document_counts() == {ARTICLE.name: len(_passages())}
