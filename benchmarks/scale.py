"""Benchmark: 100,000 to 1,000,000 passages in FAISS (flat, HNSW) and PostgreSQL + pgvector (HNSW).

    python benchmarks/scale.py [--passages 100000] [--cache runs/scale] [--out benchmarks/scale.json]
                               [--eval-questions N] [--skip-eval]
    python benchmarks/scale.py --fake-embeddings --passages 1000000 [--format-1] [--hand-bm25 N]

The corpus: the paragraphs of SQuAD 1.1 train and of the 17 other SQuAD 2.0 dev articles, split as
the index splits them (3 sentences, overlap 1), then in two variations (2 sentences, single sentences;
no overlap), then as windows across each article's paragraphs (2 to 5 sentences, sliding by one),
distinct texts only, up to `--passages`; past what that gives, the corpus again under other document
names. Embeddings are cached in `--cache` (the slow part: a restarted run goes on where it stopped).
Reports indexing passages/s and where the time goes, size on disk, dense retrieval p50/p95 and
recall@5 against exact search for each store, and `qa eval` F1 on the 16 dev articles with the
corpus as distractors versus without it. pgvector runs on a database that `qa db start` starts in
the cache folder.

`--fake-embeddings` measures the stores without embedding the corpus (47 min per 100k passages on
2 cores): each text gets a random projection of its bag of words (tf-idf weighted, hashed to 2^18
buckets, through 48 dimensions into 384, normalised), plus a little noise of its own so that
repeated texts differ.
Texts that share words are near each other, as with a real embedder; the questions are embedded the
same way. It measures FAISS (build, save, load, disk, memory, search, recall@5) and BM25 (bm25s,
and with `--hand-bm25 N` the hand-written BM25 it replaced, on N questions, with their top-5
agreement), and writes them under `fake_embeddings_<n>` in `--out`, beside the real runs. With
`--format-1` it also saves and loads the store format 1 (FAISSDocumentStore's JSON) for comparison.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import percentile  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
QUERIES = 300
CHUNK = 2048  # passages embedded per cached chunk
DIM = 384
BUCKETS = 1 << 18


def corpus_texts(limit: int) -> list[tuple[str, str]]:
    """(document name, passage text), distinct texts first, at most `limit`."""
    from index.splitting import build_passages

    paragraphs: list[tuple[str, str]] = []
    articles: list[tuple[str, str]] = []
    with gzip.open(DATA / "squad11-train.json.gz") as f:
        train = json.load(f)
    other = json.loads((DATA / "squad2-dev-17articles-labelled.json").read_text(encoding="utf-8"))
    for source in (train, other):
        for article in source["data"]:
            for k, p in enumerate(article["paragraphs"]):
                paragraphs.append((f"{article['title']}-{k}.txt", p["context"]))
            articles.append(
                (f"{article['title']}.txt", "\n\n".join(p["context"] for p in article["paragraphs"]))
            )
    variations = [(paragraphs, 3, 1), (paragraphs, 2, 0), (paragraphs, 1, 0)]
    variations += [(articles, sentences, sentences - 1) for sentences in (2, 3, 4, 5)]
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for texts, sentences, overlap in variations:
        for name, text in texts:
            for span in build_passages(text, max_sentences=sentences, overlap=overlap):
                passage = text[span.start : span.end]
                if passage not in seen:
                    seen.add(passage)
                    out.append((f"{sentences}{overlap}-{name}", passage))
                if len(out) >= limit:
                    return out
    distinct = len(out)
    copy = 1
    while len(out) < limit:  # the corpus again, as other documents
        copy += 1
        out.extend((f"copy{copy}-{name}", text) for name, text in out[: min(distinct, limit - len(out))])
    return out


def fake_embeddings(
    texts: list[str], idf: np.ndarray | None = None, noise: float = 0.25, rank: int = 48, seed: int = 0
):
    """(unit vectors, idf): a random projection of each text's tf-idf bag of words (see the docstring),
    through `rank` dimensions. Real sentence embeddings fill few of their 384 dimensions: at 100k
    passages a full-rank projection gave HNSW recall@5 0.75 where the real vectors gave 0.97; rank 64
    gave 0.94, rank 32 0.995, so 48."""
    from scipy.sparse import csr_matrix

    from index.keyword import tokenize

    rows, cols, vals = [0], [], []
    for text in texts:
        counts = Counter(zlib.crc32(w.encode()) % BUCKETS for w in tokenize(text))
        cols.extend(counts)
        vals.extend(1.0 + math.log(c) for c in counts.values())
        rows.append(len(cols))
    bags = csr_matrix(
        (np.array(vals, np.float32), np.array(cols, np.int32), np.array(rows)), (len(texts), BUCKETS)
    )
    if idf is None:
        df = np.bincount(bags.indices, minlength=BUCKETS)
        idf = np.log((1 + len(texts)) / (1 + df)).astype(np.float32) + 1
    words = np.random.default_rng(seed).standard_normal((BUCKETS, rank), dtype=np.float32)
    projection = words @ np.random.default_rng(seed + 2).standard_normal((rank, DIM), dtype=np.float32)
    out = np.empty((len(texts), DIM), np.float32)
    rng = np.random.default_rng(seed + 1)
    for start in range(0, len(texts), 50_000):
        part = bags[start : start + 50_000]
        part = part.multiply(idf[None, :]).tocsr() @ projection
        part /= np.linalg.norm(part, axis=1, keepdims=True) + 1e-9
        if noise:
            jitter = rng.standard_normal(part.shape, dtype=np.float32)
            part += noise * jitter / np.linalg.norm(jitter, axis=1, keepdims=True)
            part /= np.linalg.norm(part, axis=1, keepdims=True)
        out[start : start + len(part)] = part
    return out, idf


def embed_cached(texts: list[str], cache: Path) -> tuple[np.ndarray, float]:
    """Embeddings of `texts` (chunks cached on disk) and the seconds spent embedding in this run."""
    from haystack import Document

    from index.embedding import document_embedder

    cache.mkdir(parents=True, exist_ok=True)
    embedder, spent, parts = None, 0.0, []
    for start in range(0, len(texts), CHUNK):
        count = min(CHUNK, len(texts) - start)
        path = cache / f"emb-{start:07d}-{count}.npy"  # the texts come in a fixed order: chunks are reused
        if not path.is_file():
            if embedder is None:
                embedder = document_embedder("bundled")
                embedder.warm_up()
            began = time.perf_counter()
            docs = embedder.run(documents=[Document(content=t) for t in texts[start : start + CHUNK]])[
                "documents"
            ]
            spent += time.perf_counter() - began
            np.save(path, np.array([d.embedding for d in docs], dtype=np.float32))
            print(f"embedded {min(start + CHUNK, len(texts))}/{len(texts)}", file=sys.stderr, flush=True)
        parts.append(np.load(path))
    return np.concatenate(parts), spent


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed(search, queries, k: int = 5) -> tuple[list[list[str]], dict]:
    ids, times = [], []
    for q in queries:
        began = time.perf_counter()
        hits = search(q.tolist() if isinstance(q, np.ndarray) else q, k)
        times.append((time.perf_counter() - began) * 1000)
        ids.append([i for i, _ in hits])
    return ids, {"p50_ms": round(percentile(times, 0.5), 2), "p95_ms": round(percentile(times, 0.95), 2)}


def recall(found: list[list[str]], exact: list[list[str]]) -> float:
    return round(statistics.mean(len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)), 4)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="utf-8") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS"))


# A fresh process loads a saved version and asks the questions: its load time and memory, as a
# `qa ask` or a server would see them (the version's files are in the page cache: a warm start).
LOADER = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from index.stores import IndexSpec
from index.stores.faiss import load
spec = IndexSpec(*json.loads(sys.argv[4]))
queries = np.load(sys.argv[5])
questions = json.loads(open(sys.argv[6]).read())
def rss():
    return next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmRSS"))
before = rss()
began = time.perf_counter()
index = load(sys.argv[2], spec, sys.argv[3])
loaded = time.perf_counter() - began
after_load = rss()
for q, text in zip(queries[:50], questions[:50]):
    index.dense_search(q.tolist(), 20)
    index.keyword_search(text, 20)
print(json.dumps({"load_s": round(loaded, 2), "rss_loaded_mb": round(after_load - before),
                  "rss_after_searches_mb": round(rss() - before),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


class HandBM25:
    """The hand-written BM25 that index/keyword.py had before bm25s (a Counter per passage, every
    passage visited per question), kept here as the reference for speed and answers."""

    def __init__(self, ids: list[str], texts: list[str], k1: float = 1.5, b: float = 0.75) -> None:
        from index.keyword import tokenize

        self.ids, self.k1, self.b = ids, k1, b
        tokens = [tokenize(t) for t in texts]
        self._tf = [Counter(t) for t in tokens]
        self._len = [len(t) for t in tokens]
        self._avg = (sum(self._len) / len(self._len)) if self._len else 0.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        self._idf = {w: math.log(1 + (len(tokens) - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        from index.keyword import tokenize

        terms = [w for w in tokenize(query) if w in self._idf]
        scores = []
        for i, tf in enumerate(self._tf):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * self._len[i] / (self._avg or 1))
            for w in terms:
                f = tf.get(w)
                if f:
                    s += self._idf[w] * f * (self.k1 + 1) / (f + norm)
            if s > 0:
                scores.append((self.ids[i], s))
        scores.sort(key=lambda x: -x[1])
        return scores[:top_k]


def questions_of_the_dev_articles() -> list[str]:
    dev = json.loads((DATA / "squad2-dev-16articles.json").read_text(encoding="utf-8"))
    return [q["question"] for a in dev["data"] for p in a["paragraphs"] for q in p["qas"]][:QUERIES]


def fake_run(args) -> dict:
    """FAISS and BM25 at `--passages` with fake embeddings (see the module docstring)."""
    from index.keyword import KeywordIndex
    from index.stores import IndexSpec
    from index.stores.faiss import PassageIndex, load, save

    result: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "embeddings": "fake"}
    began = time.perf_counter()
    texts = corpus_texts(args.passages)
    n = len(texts)
    result["passages"] = n
    result["distinct_texts"] = len({t for _, t in texts})
    timings: dict = {"split_s": round(time.perf_counter() - began, 1)}
    began = time.perf_counter()
    vectors, idf = fake_embeddings([t for _, t in texts])
    timings["fake_embedding_s"] = round(time.perf_counter() - began, 1)
    questions = questions_of_the_dev_articles()
    queries, _ = fake_embeddings(questions, idf=idf, noise=0.0)
    print("corpus", n, timings, f"rss {rss_mb():.0f} MB", file=sys.stderr, flush=True)
    spec = IndexSpec("fake", DIM, 3, 1, 600)
    ids = [f"{i:07d}" for i in range(n)]  # distinct ids, as the index's content hashes are
    contents = [t for _, t in texts]
    metas = [{"document": name, "start": 0, "end": len(t), "passage": 0} for name, t in texts]
    sources = {name: "sha" for name, _ in texts}
    del texts

    began = time.perf_counter()
    keyword = KeywordIndex.build(ids, contents)
    keyword_build = time.perf_counter() - began
    _, bm25s_latency = timed(keyword.search, questions)
    result["keyword"] = {"bm25s": {"build_s": round(keyword_build, 1), **bm25s_latency}}
    print("bm25s", result["keyword"], f"rss {rss_mb():.0f} MB", file=sys.stderr, flush=True)
    if args.hand_bm25:
        asked = questions[: args.hand_bm25]
        began = time.perf_counter()
        hand = HandBM25(ids, contents)
        hand_build = time.perf_counter() - began
        hand_ids, hand_latency = timed(hand.search, asked)
        new_ids, _ = timed(keyword.search, asked)
        result["keyword"]["hand_written"] = {
            "build_s": round(hand_build, 1), **hand_latency, "questions": len(asked),
            "same_top5_as_bm25s": sum(a == b for a, b in zip(hand_ids, new_ids, strict=True)),
        }  # fmt: skip
        print("hand", result["keyword"]["hand_written"], file=sys.stderr, flush=True)
        del hand

    stores: dict = {}
    exact: list[list[str]] = []
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="qa-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(workdir / "queries.npy", queries)
    (workdir / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    try:
        for kind in ("flat", "hnsw"):
            began = time.perf_counter()
            index = PassageIndex.from_arrays(spec, ids, contents, metas, vectors, sources, kind, keyword)
            built = time.perf_counter() - began
            folder = workdir / kind
            began = time.perf_counter()
            save(index, folder)
            saved = time.perf_counter() - began
            _, latency = timed(index.dense_search, queries[: args.timed_queries])
            found = [[index.ids[r] for r in row] for row in index.vectors.search(queries, 5)[1]]
            if kind == "flat":
                exact = found
            del index
            began = time.perf_counter()
            loaded = load(folder, spec, kind)
            load_s = time.perf_counter() - began
            del loaded
            fresh = subprocess.run(
                [sys.executable, "-c", LOADER, str(ROOT), str(folder), kind,
                 json.dumps([spec.embedding_model, spec.embedding_dim, 3, 1, 600]),
                 str(workdir / "queries.npy"), str(workdir / "questions.json")],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            stores[f"faiss_{kind}"] = {
                "build_s": round(built, 1), "vectors_per_s": round(n / built), "save_s": round(saved, 1),
                "load_s": round(load_s, 2), "save_plus_load_s": round(saved + load_s, 1),
                "disk_mb": round(folder_size(folder) / 1e6, 1),
                "files_mb": {p.name: round(p.stat().st_size / 1e6, 1)
                             for p in sorted((folder / "current").resolve().iterdir())},
                **latency, "recall@5": recall(found, exact),
                "fresh_process": json.loads(fresh.stdout.strip().splitlines()[-1]),
            }  # fmt: skip
            print(kind, stores[f"faiss_{kind}"], f"rss {rss_mb():.0f} MB", file=sys.stderr, flush=True)
            shutil.rmtree(folder, ignore_errors=True)
        if args.format_1:
            stores["faiss_flat_format_1"] = format_1(spec, ids, contents, metas, vectors, workdir / "format1")
            print("format 1", stores["faiss_flat_format_1"], file=sys.stderr, flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    result["timings"] = timings
    result["stores"] = stores
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def format_1(spec, ids, contents, metas, vectors, folder: Path) -> dict:
    """Store format 1, as the FAISS store saved and loaded it before: FAISSDocumentStore's files."""
    from haystack import Document
    from haystack_integrations.document_stores.faiss import FAISSDocumentStore

    from index.keyword import tokenize

    folder.mkdir(parents=True, exist_ok=True)
    docs = [
        Document(id=i, content=c, meta=m, embedding=v.tolist())
        for i, c, m, v in zip(ids, contents, metas, vectors, strict=True)
    ]
    began = time.perf_counter()
    store = FAISSDocumentStore(embedding_dim=spec.embedding_dim, index_string="Flat")
    store.write_documents(docs)
    built = time.perf_counter() - began
    del docs
    began = time.perf_counter()
    store.save(folder / "vectors")
    keyword = {"ids": ids, "tokens": [tokenize(c) for c in contents]}
    (folder / "keyword.json").write_text(json.dumps({**keyword, "k1": 1.5, "b": 0.75}), encoding="utf-8")
    saved = time.perf_counter() - began
    del store
    began = time.perf_counter()
    again = FAISSDocumentStore(embedding_dim=spec.embedding_dim, index_string="Flat")
    again.load(folder / "vectors")
    json.loads((folder / "keyword.json").read_text(encoding="utf-8"))
    loaded = time.perf_counter() - began
    size = folder_size(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "build_s": round(built, 1), "save_s": round(saved, 1), "load_s": round(loaded, 1),
        "save_plus_load_s": round(saved + loaded, 1), "disk_mb": round(size / 1e6, 1),
        "note": "FAISSDocumentStore write/save/load and the BM25 words as JSON, as format 1 did; the "
                "format-1 load then also rebuilt the BM25 index from the words",
    }  # fmt: skip


def real_run(args) -> dict:
    """The stores with the bundled embedder's vectors, pgvector, and answer quality (the 100k run)."""
    from haystack import Document

    from index.embedding import embedding_dim, model_identity, text_embedder
    from index.stores import Change, IndexSpec
    from index.stores.faiss import PassageIndex, save
    from index.stores.pgvector import PgvectorStore
    from qa.db import start_database

    result: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    began = time.perf_counter()
    texts = corpus_texts(args.passages)
    split_s = time.perf_counter() - began
    vectors, embed_s = embed_cached([t for _, t in texts], args.cache / "embeddings")
    n = len(texts)
    result["passages"] = n
    spec = IndexSpec(model_identity("bundled"), embedding_dim("bundled"), 3, 1, 600)
    docs = [
        Document(content=t, meta={"document": name, "start": 0, "passage": i}, embedding=v.tolist())
        for i, ((name, t), v) in enumerate(zip(texts, vectors, strict=True))
    ]
    sources = {name: name for name, _ in texts}
    timings: dict = {"split_s": round(split_s, 1)}
    if embed_s:
        timings["embed_s"] = round(embed_s, 1)
        timings["embed_passages_per_s"] = round(n / embed_s, 1)
    # queries: SQuAD questions embedded as the assistant embeds them
    questions = questions_of_the_dev_articles()
    embedder = text_embedder("bundled")
    embedder.warm_up()
    began = time.perf_counter()
    queries = np.array([embedder.run(text=q)["embedding"] for q in questions], dtype=np.float32)
    timings["query_embedding_ms"] = round((time.perf_counter() - began) * 1000 / len(questions), 1)

    stores: dict = {}
    exact: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="qa-scale-") as tmp:
        for kind in ("flat", "hnsw"):
            began = time.perf_counter()
            index = PassageIndex(spec, docs, sources, kind)
            built = time.perf_counter() - began
            folder = Path(tmp) / kind
            began = time.perf_counter()
            save(index, folder)
            saved = time.perf_counter() - began
            ids, latency = timed(index.dense_search, queries)
            if kind == "flat":
                exact = ids
            stores[f"faiss_{kind}"] = {
                "build_s": round(built, 1), "save_s": round(saved, 1), "passages_per_s": round(n / built, 1),
                "disk_mb": round(folder_size(folder) / 1e6, 1), **latency, "recall@5": recall(ids, exact),
            }  # fmt: skip
            print(kind, stores[f"faiss_{kind}"], file=sys.stderr, flush=True)
            del index
            shutil.rmtree(folder, ignore_errors=True)
        url = start_database(args.cache / "db")
        store = PgvectorStore(url, spec, "hnsw", schema="scale_bench")
        store.discard()
        began = time.perf_counter()
        view = store.commit(None, Change(sources=dict(sources), added=docs, rebuild=True))
        loaded = time.perf_counter() - began
        size = store.query("SELECT pg_total_relation_size(%s)", (store.passages_table,))[0][0]
        ids, latency = timed(view.dense_search, queries)
        _, keyword_latency = timed(view.keyword_search, questions)
        stores["pgvector_hnsw"] = {
            "load_s": round(loaded, 1), "passages_per_s": round(n / loaded, 1),
            "disk_mb": round(size / 1e6, 1), **latency, "recall@5": recall(ids, exact),
            "keyword": keyword_latency,
        }  # fmt: skip
        print("pgvector", stores["pgvector_hnsw"], file=sys.stderr, flush=True)
        store.discard()
    result["timings"] = timings
    result["stores"] = stores
    if not args.skip_eval:
        result["quality"] = quality(docs, sources, spec, args)
    return result


def quality(docs: list, sources: dict, spec, args) -> dict:
    """16 dev articles end to end, alone and among the corpus (FAISS flat, the default)."""
    from index.stores import Change
    from index.stores.faiss import FaissStore
    from qa import Assistant
    from qa.evaluation.datasets import load_dataset
    from qa.evaluation.runner import evaluate, evaluate_dataset, write_corpus

    dataset = load_dataset(DATA / "squad2-dev-16articles.json")
    if args.eval_questions:
        import random

        dataset.questions[:] = random.Random(42).sample(dataset.questions, args.eval_questions)
    out = {"questions": len(dataset.questions)}
    alone = evaluate_dataset(Assistant.from_config(reader="offline"), dataset)
    out["alone"] = alone.summary.overall
    with tempfile.TemporaryDirectory(prefix="qa-scale-eval-") as tmp:
        FaissStore(Path(tmp) / "index", spec).commit(
            None, Change(sources=dict(sources), added=docs, rebuild=True)
        )
        assistant = Assistant.from_config(reader="offline", index_dir=Path(tmp) / "index")
        assistant.index([write_corpus(dataset.paragraphs, Path(tmp) / "corpus")])
        among = evaluate(assistant, dataset.questions)
    out["among_distractors"] = among.summary.overall
    out["f1_drop"] = round(out["alone"]["f1"] - out["among_distractors"]["f1"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=ROOT / "runs" / "scale")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale.json")
    parser.add_argument(
        "--eval-questions", type=int, default=None, help="Sample of the 16-article questions."
    )
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--fake-embeddings", action="store_true", help="FAISS and BM25 only, no embedder.")
    parser.add_argument("--format-1", action="store_true", help="Also time store format 1 (fake runs).")
    parser.add_argument("--hand-bm25", type=int, default=0, help="Questions for the hand-written BM25.")
    parser.add_argument("--timed-queries", type=int, default=QUERIES, help="Dense searches timed one by one.")
    parser.add_argument("--workdir", type=Path, default=None, help="Where the index folders go (kept).")
    args = parser.parse_args()

    if args.fake_embeddings:
        result = fake_run(args)
        previous = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
        merged = {**previous, f"fake_embeddings_{result['passages']}": result}
    else:
        result = real_run(args)
        previous = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
        merged = {**result, **{k: v for k, v in previous.items() if k.startswith("fake_embeddings_")}}
    print(json.dumps(result, indent=2))
    args.out.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
