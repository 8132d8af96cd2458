"""Benchmark: 100,000+ passages in FAISS (flat, HNSW) and PostgreSQL + pgvector (HNSW). Not a test.

    python benchmarks/scale.py [--passages 100000] [--cache runs/scale] [--out benchmarks/scale.json]
                               [--eval-questions N] [--skip-eval]

The corpus: the paragraphs of SQuAD 1.1 train and of the 17 other SQuAD 2.0 dev articles, split as
the index splits them (3 sentences, overlap 1), then in two variations (2 sentences, single sentences;
no overlap), distinct texts only, up to `--passages`. Embeddings are cached in `--cache` (the slow
part: a restarted run goes on where it stopped). Reports indexing passages/s and where the time goes,
size on disk, dense retrieval p50/p95 and recall@5 against exact search for each store, and `qa eval`
F1 on the 16 dev articles with the corpus as distractors versus without it. pgvector runs on a
database that `qa db start` starts in the cache folder.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import percentile  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
QUERIES = 300
CHUNK = 2048  # passages embedded per cached chunk


def corpus_texts(limit: int) -> list[tuple[str, str]]:
    """(document name, passage text), distinct texts, at most `limit`."""
    from index.splitting import build_passages

    paragraphs: list[tuple[str, str]] = []
    with gzip.open(DATA / "squad11-train.json.gz") as f:
        train = json.load(f)
    other = json.loads((DATA / "squad2-dev-17articles-labelled.json").read_text(encoding="utf-8"))
    for source in (train, other):
        for article in source["data"]:
            for k, p in enumerate(article["paragraphs"]):
                paragraphs.append((f"{article['title']}-{k}.txt", p["context"]))
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for sentences, overlap in ((3, 1), (2, 0), (1, 0)):
        for name, text in paragraphs:
            for span in build_passages(text, max_sentences=sentences, overlap=overlap):
                passage = text[span.start : span.end]
                if passage not in seen:
                    seen.add(passage)
                    out.append((f"{sentences}{overlap}-{name}", passage))
                if len(out) >= limit:
                    return out
    return out


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


def timed_searches(search, queries: np.ndarray, k: int = 5) -> tuple[list[list[str]], dict]:
    ids, times = [], []
    for q in queries:
        began = time.perf_counter()
        hits = search(q.tolist(), k)
        times.append((time.perf_counter() - began) * 1000)
        ids.append([i for i, _ in hits])
    return ids, {"p50_ms": round(percentile(times, 0.5), 2), "p95_ms": round(percentile(times, 0.95), 2)}


def recall(found: list[list[str]], exact: list[list[str]]) -> float:
    return round(statistics.mean(len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=ROOT / "runs" / "scale")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale.json")
    parser.add_argument(
        "--eval-questions", type=int, default=None, help="Sample of the 16-article questions."
    )
    parser.add_argument("--skip-eval", action="store_true")
    args = parser.parse_args()

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
    dev = json.loads((DATA / "squad2-dev-16articles.json").read_text(encoding="utf-8"))
    questions = [q["question"] for a in dev["data"] for p in a["paragraphs"] for q in p["qas"]][:QUERIES]
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
            ids, latency = timed_searches(index.dense_search, queries)
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
        ids, latency = timed_searches(view.dense_search, queries)
        asked = iter(questions)  # the keyword search takes the question's text
        _, keyword_latency = timed_searches(lambda _v, k: view.keyword_search(next(asked), k), queries)
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
    print(json.dumps(result, indent=2))
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


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


if __name__ == "__main__":
    main()
