"""Benchmark: a 3-document collection beside a 10,000-document one (issue 29).

    python benchmarks/collections.py [--big 10000] [--rounds 60] [--no-pgvector]
                                     [--out benchmarks/collections.json]

Questions to the small collection are timed on two indexes side by side, in alternating rounds (so
the other jobs on the machine slow both alike): one holding only the small collection, one holding it
beside the big one, whose index is loaded and asked too. FAISS, and pgvector on a database that
`qa db start` starts in a temporary folder. The models are the fast fakes (hash embedder, word-overlap
reader): they cost the same whichever collection is asked, so what is left to differ is the store.

For pgvector's layout it also measures the alternative to a schema per collection: one table with a
`collection` column (B-tree index) for every collection, searched exactly (`WHERE collection = ...
ORDER BY embedding <=> q`) with and without the big collection's rows, and with an HNSW index over
the shared table, how many of the 20 nearest passages a filtered search of a 300-passage collection
returns (HNSW searches the whole graph first, then filters).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

SMALL = {
    "ferry.txt": "The ferry to Brannock leaves the harbour at nine. Tickets cost twelve pounds.",
    "library.txt": "The Kelling library opens at ten on Saturdays. Its archive holds the old maps.",
    "garden.txt": "The walled garden grows quinces and medlars. The gardener is Ada Morrow.",
}
QUESTIONS = [
    "When does the ferry to Brannock leave?",
    "How much do ferry tickets cost?",
    "When does the Kelling library open?",
    "What does the walled garden grow?",
    "Who is the gardener?",
]


def cpu() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        names = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")]
        flags = next(ln for ln in lines if ln.startswith("flags")).split()
    except (OSError, StopIteration):
        return platform.processor()
    simd = "AVX512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    return f"{names[0] if names else platform.processor()}, {simd}, {os.cpu_count()} cores"


def synthetic(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """`n` documents of one passage each: 30-60 words from a 6,000-word vocabulary."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "pi", "qua", "zen", "bro"]
    vocab = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(9000)})
    vocab = vocab[:6000]
    docs = []
    for i in range(n):
        words = [rng.choice(vocab) for _ in range(rng.randint(30, 60))]
        docs.append((f"doc-{i:05d}.txt", " ".join(words).capitalize() + "."))
    return docs


def config(folder: Path, **settings: Any) -> Path:
    import yaml

    values = {
        "embedding_model": "hash", "reader": "offline", "offline_model": "overlap",
        "index_dir": str(folder / "index"), "seeds_dir": str(folder / "no-seeds"), **settings,
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def add_big(assistant: Any, n: int) -> float:
    """The big collection, committed straight to its store (no files to read): seconds taken."""
    from haystack import Document

    from index.embedding import hash_vector
    from index.stores import Change, open_store

    started = time.perf_counter()
    assistant.create_collection("big")
    s = assistant.settings
    store = open_store(
        s.store,
        assistant.spec,
        index_dir=s.index_dir,
        index_type=s.index_type,
        schema=s.db_schema,
        collection="big",
    )
    passages = [
        Document(
            content=text,
            meta={"document": name, "start": 0, "end": len(text), "passage": 0},
            embedding=hash_vector(text),
        )
        for name, text in synthetic(n)
    ]
    with store.writing():
        store.commit(None, Change(sources={p.meta["document"]: p.id for p in passages}, added=passages))
    return time.perf_counter() - started


def small_collection(assistant: Any, folder: Path) -> None:
    docs = folder / "small-docs"
    docs.mkdir(parents=True, exist_ok=True)
    for name, text in SMALL.items():
        (docs / name).write_text(text, encoding="utf-8")
    assistant.create_collection("small")
    assistant.index([docs], collection="small")


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "n": len(ordered),
    }


def side_by_side(kind: str, folder: Path, big: int, rounds: int, **settings: Any) -> dict[str, Any]:
    from qa import Assistant

    alone = Assistant.from_config(config(folder / "alone", store=kind, **settings.get("alone", {})))
    beside = Assistant.from_config(config(folder / "beside", store=kind, **settings.get("beside", {})))
    for a, sub in ((alone, "alone"), (beside, "beside")):
        small_collection(a, folder / sub)
    build_s = add_big(beside, big)
    beside.ask(QUESTIONS[0], collection="big")  # its index loaded, as on a server that serves both
    answers = {}
    times: dict[str, dict[str, list[float]]] = {
        k: {"total": [], "retrieve": []} for k in ("alone", "beside", "big")
    }
    for a in (alone, beside):  # warm: first questions load the views
        for q in QUESTIONS:
            a.ask(q, collection="small")
    for r in range(rounds):
        q = QUESTIONS[r % len(QUESTIONS)]
        for label, a, name in (
            ("alone", alone, "small"),
            ("beside", beside, "small"),
            ("big", beside, "big"),
        ):
            started = time.perf_counter()
            answer = a.ask(q, collection=name)
            times[label]["total"].append((time.perf_counter() - started) * 1000)
            times[label]["retrieve"].append(answer.timings_ms["retrieve"])
            if name == "small":
                answers.setdefault(q, set()).add(answer.text)
    same = all(len(texts) == 1 for texts in answers.values())
    return {
        "store": kind,
        "big_collection_documents": big,
        "big_collection_build_s": round(build_s, 1),
        "same_answers_alone_and_beside": same,
        "small_alone_ms": {k: summary(v) for k, v in times["alone"].items()},
        "small_beside_big_ms": {k: summary(v) for k, v in times["beside"].items()},
        "big_ms": {k: summary(v) for k, v in times["big"].items()},
    }


def column_layout(url: str, big: int, rounds: int) -> dict[str, Any]:
    """The other pgvector layout: every collection in one table with a `collection` column."""
    import numpy as np
    import psycopg

    rng = np.random.default_rng(3)
    dim = 384

    def vec(v: np.ndarray) -> str:
        return "[" + ",".join(f"{x:.5f}" for x in v) + "]"

    def unit(n: int) -> np.ndarray:
        x = rng.standard_normal((n, dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    texts = [t for _, t in synthetic(big)]
    out: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_layout CASCADE")
        conn.execute("CREATE SCHEMA bench_layout")
        for table in ("shared", "only_small"):
            conn.execute(
                f"CREATE TABLE bench_layout.{table} (id bigserial PRIMARY KEY, collection text NOT NULL, "
                f"embedding vector({dim}), content text)"
            )
            conn.execute(f"CREATE INDEX ON bench_layout.{table} (collection)")
            conn.execute(f"CREATE INDEX ON bench_layout.{table} USING gin (to_tsvector('english', content))")
        rows = [("small", v, t) for v, t in zip(unit(3), list(SMALL.values()), strict=True)]
        rows += [("mid", v, texts[i % len(texts)]) for i, v in enumerate(unit(300))]
        with conn.cursor().copy(
            "COPY bench_layout.shared (collection, embedding, content) FROM STDIN"
        ) as copy:
            for c, v, t in rows:
                copy.write_row((c, vec(v), t))
            for v, t in zip(unit(big), texts, strict=True):
                copy.write_row(("big", vec(v), t))
        with conn.cursor().copy(
            "COPY bench_layout.only_small (collection, embedding, content) FROM STDIN"
        ) as copy:
            for c, v, t in rows[:3]:
                copy.write_row((c, vec(v), t))
        conn.execute("ANALYZE bench_layout.shared")
        conn.execute("ANALYZE bench_layout.only_small")
        queries = [vec(v) for v in unit(rounds)]

        def timed(sql: str, params: list[tuple]) -> dict[str, float]:
            took = []
            for p in params:
                started = time.perf_counter()
                conn.execute(sql, p).fetchall()
                took.append((time.perf_counter() - started) * 1000)
            return summary(took)

        dense = (
            "SELECT id FROM bench_layout.{t} WHERE collection = 'small' ORDER BY embedding <=> %s LIMIT 20"
        )
        keyword = (
            "SELECT id FROM bench_layout.{t} WHERE collection = 'small' AND to_tsvector('english', content) "
            "@@ plainto_tsquery('english', %s) LIMIT 20"
        )
        words = [(q,) for q in (QUESTIONS * rounds)[:rounds]]
        for _ in range(2):  # alternate, as the side-by-side runs do
            out["column_small_alone_dense_ms"] = timed(dense.format(t="only_small"), [(q,) for q in queries])
            out["column_small_beside_big_dense_ms"] = timed(dense.format(t="shared"), [(q,) for q in queries])
            out["column_small_alone_keyword_ms"] = timed(keyword.format(t="only_small"), words)
            out["column_small_beside_big_keyword_ms"] = timed(keyword.format(t="shared"), words)
        conn.execute("CREATE INDEX ON bench_layout.shared USING hnsw (embedding vector_cosine_ops)")
        conn.execute("ANALYZE bench_layout.shared")
        conn.execute("SET hnsw.ef_search = 100")
        mid = "SELECT id FROM bench_layout.shared WHERE collection = %s ORDER BY embedding <=> %s LIMIT 20"

        def results(name: str) -> dict[str, Any]:
            found = [len(conn.execute(mid, (name, q)).fetchall()) for q in queries[:20]]
            return {"median": statistics.median(found), "min": min(found)}

        # the planner picks the collection's B-tree for a small collection (exact); for a larger one,
        # or where it cannot (here: without that B-tree), HNSW finds 100 candidates of all
        # collections and keeps those of this one: fewer than asked for
        out["column_hnsw_filtered_results_of_20"] = {"mid_300": results("mid"), "small_3": results("small")}
        conn.execute("DROP INDEX bench_layout.shared_collection_idx")
        out["column_hnsw_filtered_results_of_20_without_btree"] = {
            "mid_300": results("mid"), "small_3": results("small"),
        }  # fmt: skip
        conn.execute("DROP SCHEMA bench_layout CASCADE")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--no-pgvector", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "collections.json")
    args = parser.parse_args()
    result: dict[str, Any] = {"cpu": cpu(), "rounds": args.rounds, "runs": []}
    with tempfile.TemporaryDirectory(prefix="qa-collections-") as tmp:
        folder = Path(tmp)
        result["runs"].append(side_by_side("faiss", folder / "faiss", args.big, args.rounds))
        print(json.dumps(result["runs"][-1], indent=1), flush=True)
        if not args.no_pgvector:
            from qa.db import start_database, stop_database

            db = folder / "db"
            url = start_database(db)
            os.environ["QA_DATABASE_URL"] = url
            try:
                result["runs"].append(
                    side_by_side(
                        "pgvector",
                        folder / "pg",
                        args.big,
                        args.rounds,
                        alone={"db_schema": "alone"},
                        beside={"db_schema": "beside"},
                    )
                )
                print(json.dumps(result["runs"][-1], indent=1), flush=True)
                result["pgvector_layout"] = column_layout(url, args.big, args.rounds)
                print(json.dumps(result["pgvector_layout"], indent=1), flush=True)
            finally:
                stop_database(db)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
