"""Benchmark: start-up, warm latency, indexing speed (with a profile), peak memory and answer quality,
per inference engine. Not a test.

    python benchmarks/run.py --engines                   # issue 30: engine table, ratios, split, cold start
    python benchmarks/run.py --engine onnx               # one engine (QA_ENGINE), label "onnx"
    python benchmarks/run.py --engine torch-fp32 --quick # warm latency and quality only
    PYTHONPATH=OLD_TREE python OLD_TREE/benchmarks/run.py --label baseline --out ...  # an older tree

Each run adds its numbers under its label to benchmarks/results.json (other labels are kept, so runs
made in the same minutes sit side by side) and rewrites docs/benchmarks.md from all of them. It uses
only the public API (`Assistant`, `qa ask`, `qa serve`, `qa.evaluation`), so the same script measures
an older checkout. CPU seconds are reported beside wall seconds: on a busy host the wall clock
measures the queue for the CPU as much as the program.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "article_questions.jsonl"
SQUAD = ROOT.parent / "shared" / "data" / "squad2-dev-16articles.json"
EXAMPLE = "Who was sanctioned by China?"
RESULTS = ROOT / "benchmarks" / "results.json"

# A small parent that runs a command and prints its child's peak RSS (KB) and CPU seconds: measured
# from this (large) process, a child's ru_maxrss would count the memory it shared with us at fork time.
_CHILD = (
    "import resource, subprocess, sys; out = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(u.ru_maxrss, u.ru_utime + u.ru_stime, out.returncode); sys.stderr.write(out.stdout + out.stderr)"
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


def cold_ask(index_dir: Path, runs: int) -> dict:
    """`qa ask --json` in a fresh process: wall and CPU seconds to the printed answer, peak RSS."""
    # the console script's way in (`python -m qa.cli` runs cli.py twice over: once as __main__)
    ask = [sys.executable, "-c", "from qa.cli import main; main()", "ask", EXAMPLE, "--json", "--index-dir"]
    ask.append(str(index_dir))
    walls, cpus, peaks, answer = [], [], [], None
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, *ask], capture_output=True, text=True, env=_env(), cwd=ROOT
        )
        walls.append(time.perf_counter() - started)
        peak, cpu, code = out.stdout.split()
        if code != "0":
            raise RuntimeError(f"qa ask failed: {out.stderr[-2000:]}")
        peaks.append(int(peak) / 1024)
        cpus.append(float(cpu))
        answer = json.loads(next(x for x in out.stderr.splitlines() if x.startswith("{")))
    assert answer is not None
    return {
        "runs_s": [round(t, 2) for t in walls],
        "median_s": round(statistics.median(walls), 2),
        "cpu_median_s": round(statistics.median(cpus), 2),
        "peak_rss_mb": round(max(peaks), 1),
        "answer": answer.get("answer"),
        "engine": answer.get("engine", "torch-fp32 (before engines)"),
    }


def help_time(runs: int = 5) -> dict:
    walls, cpus = [], []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, sys.executable, "-m", "qa.cli", "--help"],
            capture_output=True, text=True, env=_env(), cwd=ROOT,
        )  # fmt: skip
        walls.append(time.perf_counter() - started)
        cpus.append(float(out.stdout.split()[1]))
    return {"median_s": round(statistics.median(walls), 2), "cpu_median_s": round(statistics.median(cpus), 2)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_first_answer(index_dir: Path, timeout: float = 600) -> float | None:
    """Seconds from starting `qa serve` to the first answer to POST /ask (None: no serve extra)."""
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--port", str(port), "--index-dir", str(index_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), cwd=ROOT,
    )  # fmt: skip
    body = json.dumps({"question": EXAMPLE}).encode()
    try:
        while time.perf_counter() - started < timeout:
            if proc.poll() is not None:
                return None
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/ask", data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=60) as response:
                    if response.status == 200:
                        return round(time.perf_counter() - started, 2)
            except OSError:
                time.sleep(0.05)
        return None
    finally:
        proc.terminate()
        proc.wait(timeout=60)


PROFILE_PARTS = {  # function name fragments (pstats "file:line(name)") -> part of indexing
    "read and split": ("read_documents", "passages_for"),
    "tokenize": ("encode_batch", "tokenize", "_tokenize"),
    "model forward": ("engines.py", "run)", "forward"),
    "embedding (all)": ("_embed",),
    "store write": ("commit",),
}


def profile_parts(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds of the outermost matching function per part (a rough map of the time)."""
    found: dict[str, float] = {}
    raw = stats.stats  # type: ignore[attr-defined]
    for part, fragments in PROFILE_PARTS.items():
        best = 0.0
        for (file, _line, name), (_cc, _nc, _tt, cumulative, _callers) in raw.items():
            where = f"{file}:{name})"
            if part == "model forward":
                hit = ("engines.py" in file and name == "run") or (
                    "torch/nn/modules/module.py" in file and name == "_call_impl"
                )
            else:
                hit = any(f == name or f in file for f in fragments)
            if hit and "benchmarks" not in where:
                best = max(best, cumulative)
        found[part] = round(best, 2)
    return found


def index_squad(tmp: Path, paragraphs: int, profile: bool = True) -> dict:
    from qa import Assistant
    from qa.evaluation import load_dataset
    from qa.evaluation.runner import write_corpus

    corpus = write_corpus(load_dataset(SQUAD).paragraphs[:paragraphs], tmp / "corpus")
    timed = Assistant.from_config(index_dir=tmp / "squad-index", reader="offline")
    timed.index([ROOT / "seeds"], rebuild=True)  # loads the embedder: not part of the timing
    started, cpu = time.perf_counter(), time.process_time()
    report = timed.index([corpus], rebuild=True)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    found = {
        "documents": len(list(corpus.iterdir())),
        "passages": report.passages,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_s, 2),
        "passages_per_s": round(report.passages / seconds, 1),
        "passages_per_cpu_s": round(report.passages / cpu_s, 1),
    }
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        timed.index([corpus], rebuild=True)
        profiler.disable()
        stats = pstats.Stats(profiler)
        found["profile_s (a second, profiled run)"] = {
            "total": round(stats.total_tt, 2),  # type: ignore[attr-defined]
            **profile_parts(stats),
        }
    return found


def quality_and_latency(assistant) -> dict:  # type: ignore[no-untyped-def]
    """The article set asked end to end: F1, recall@5, no-answer accuracy, per-question latency."""
    from qa.evaluation import load_dataset
    from qa.evaluation.runner import evaluate

    run = evaluate(assistant, load_dataset(QUESTIONS).questions)
    summary = run.summary.to_dict()
    latencies = [r.latency_ms for r in run.results]
    return {
        "questions": len(latencies),
        "warm_latency_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "max": round(max(latencies), 1),
        },
        "f1": summary["overall"]["f1"],
        "has_answer_f1": summary["has_answer"]["f1"],
        "no_answer_accuracy": summary["abstention"]["no_answer_accuracy"],
        "recall@5": (summary.get("retrieval") or {}).get("recall@5"),
        "answers": {r.question: r.predicted for r in run.results},
    }


def warm_latency(assistant, count: int) -> dict:  # type: ignore[no-untyped-def]
    """Wall and CPU milliseconds per question over the first `count` article questions (CPU time
    is what the program costs; wall time on a busy host adds the wait for a CPU)."""
    questions = [json.loads(x) for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    walls, cpus = [], []
    for q in questions[:count]:
        started, cpu = time.perf_counter(), time.process_time()
        assistant.ask(q["question"], history=q.get("history"))
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return {
        "questions": len(walls),
        "p50": round(statistics.median(walls), 1),
        "p95": round(percentile(walls, 0.95), 1),
        "cpu_p50": round(statistics.median(cpus), 1),
        "cpu_p95": round(percentile(cpus, 0.95), 1),
    }


# ---- issue 30: the engine chosen by measurement, and the ratios that judge it --------------------------
def cpu_line() -> dict:
    """The CPU every figure was measured on: its model, the flags that decide the engine, cores, load."""
    from index.engine_choice import NOTABLE_FLAGS, cpu_identity

    cpu = cpu_identity()
    return {
        "model": cpu["model"],
        "flags": [f for f in NOTABLE_FLAGS if f in cpu["flags"]] or ["none of note"],
        "cores": cpu["cores"],
        "load_average": round(os.getloadavg()[0], 1),
    }


def engine_table() -> dict:
    """`qa engines`: every engine this CPU runs, timed and checked, the fastest that passes chosen."""
    from qa.config import load_settings
    from qa.engine_table import measure_all, render

    started = time.perf_counter()
    report = measure_all(load_settings(None), refresh=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(render(report), flush=True)
    return report


def matmul_ceiling() -> float:
    """GFLOPS this CPU reaches on the matrix products a 384-wide BERT layer is made of (fp32, all
    cores, numpy's BLAS): the most any fp32 engine can get out of it."""
    import numpy as np

    rates = []
    for n, k, m in ((4096, 384, 1536), (4096, 1536, 384), (4096, 384, 384)):
        a = np.random.default_rng(0).random((n, k), dtype=np.float32)
        b = np.random.default_rng(1).random((k, m), dtype=np.float32)
        a @ b
        times = []
        for _ in range(5):
            started = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - started)
        rates.append(2 * n * k * m / min(times) / 1e9)
    return round(max(rates), 1)


def flops_counter(folder: str) -> Callable[[list[int]], float]:
    """flops(lengths): multiply-adds x 2 of inputs of those token counts through the BERT in `folder`
    (its config read once)."""
    config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    hidden, inner, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]

    def flops(lengths: list[int]) -> float:
        return sum(
            2.0 * n * layers * (4 * hidden * hidden + 2 * hidden * inner + 2 * n * hidden) for n in lengths
        )

    return flops


def index_ratio(tmp: Path, paragraphs: int, rounds: int, ceiling: float) -> dict:
    """Indexing `paragraphs` SQuAD paragraphs with the project (read, split, embed, keyword index and
    store written) against plain sentence-transformers fp32 `encode` of the same passages (embedding
    only), alternated in the same minutes; the ratio of passages per second, and both rates in
    GFLOPS against `ceiling` (`matmul_ceiling()`)."""
    from sentence_transformers import SentenceTransformer

    from index.embedding import bundled_model_path
    from index.indexer import passages_for
    from index.reading import read_documents
    from qa import Assistant
    from qa.evaluation import load_dataset
    from qa.evaluation.runner import write_corpus

    corpus = write_corpus(load_dataset(SQUAD).paragraphs[:paragraphs], tmp / "ratio-corpus")
    ours = Assistant.from_config(index_dir=tmp / "ratio-index", reader="offline")
    ours.index([ROOT / "seeds"], rebuild=True)  # loads the embedder (and measures, on a first use)
    docs, _ = read_documents([corpus])
    texts = [p.content or "" for d in docs for p in passages_for(d, ours.spec)]
    plain = SentenceTransformer(bundled_model_path(), device="cpu")
    plain.encode(texts[:8])
    project_s, plain_s = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        plain.encode(texts, batch_size=32, normalize_embeddings=True)
        plain_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        report = ours.index([corpus], rebuild=True)
        project_s.append(time.perf_counter() - started)
    project, st = min(project_s), min(plain_s)
    lengths = [min(len(ids), 256) for ids in plain.tokenizer(texts)["input_ids"]]
    flops = flops_counter(bundled_model_path())(lengths)
    return {
        "paragraphs": paragraphs,
        "passages": report.passages,
        "project_passages_per_s": round(len(texts) / project, 1),
        "plain_st_fp32_passages_per_s": round(len(texts) / st, 1),
        "ratio": round(st / project, 2),
        # the arithmetic: what plain sentence-transformers gets out of the CPU, what the CPU can give
        "plain_st_gflops": round(flops / st / 1e9, 1),
        "project_gflops": round(flops / project / 1e9, 1),
        "matmul_ceiling_gflops": ceiling,
        "ratio_at_the_ceiling": round(ceiling / (flops / st / 1e9), 2),
        "rounds": rounds,
        "engine": ours._get_indexer()._embedder.engine,
    }


def base_size_models(tmp: Path) -> tuple[str, str]:
    """Folders holding randomly initialised models of the tutorial's sizes (12 layers, 768 wide, as
    multi-qa-mpnet-base-dot-v1 and roberta-base-squad2-distilled are) with the bundled tokenizers:
    their answers are noise, but a forward pass costs what the real models' does, and the real ones
    cannot be downloaded here."""
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering, BertModel

    from index.embedding import bundled_model_path
    from qa.readers import BUNDLED_READER

    folders = []
    for name, cls, source in (
        ("embedder", BertModel, bundled_model_path()),
        ("reader", BertForQuestionAnswering, str(BUNDLED_READER)),
    ):
        folder = tmp / f"base-size-{name}"
        if not (folder / "config.json").is_file():
            tokenizer = AutoTokenizer.from_pretrained(source)
            config = BertConfig(
                vocab_size=tokenizer.vocab_size, hidden_size=768, num_hidden_layers=12,
                num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512,
            )  # fmt: skip
            cls(config).save_pretrained(folder)
            tokenizer.save_pretrained(folder)
        folders.append(str(folder))
    return folders[0], folders[1]


def tutorial_pipeline(passages: list[str], embedder_model: str, reader_model: str, dim: int):  # type: ignore[no-untyped-def]
    """Haystack's extractive QA tutorial pipeline as the tutorial builds and runs it
    (SentenceTransformersTextEmbedder, InMemoryEmbeddingRetriever, the extractive reader with its
    defaults; retriever top_k 3, reader top_k 2). The passages' vectors are random: retrieval over
    them costs what it costs over real ones, and nothing here judges these answers."""
    import numpy as np
    from haystack import Document, Pipeline
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersTextEmbedder,
    )
    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    store = InMemoryDocumentStore()
    vectors = np.random.default_rng(0).standard_normal((len(passages), dim)).astype(np.float32)
    store.write_documents(
        [Document(content=p, embedding=v.tolist()) for p, v in zip(passages, vectors, strict=True)]
    )
    pipe = Pipeline()
    pipe.add_component("embedder", SentenceTransformersTextEmbedder(model=embedder_model, progress_bar=False))
    pipe.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store))
    pipe.add_component("reader", TransformersExtractiveReader(model=reader_model))
    pipe.connect("embedder.embedding", "retriever.query_embedding")
    pipe.connect("retriever.documents", "reader.documents")
    pipe.warm_up()

    def ask(question: str) -> object:
        data = {
            "embedder": {"text": question},
            "retriever": {"top_k": 3},
            "reader": {"query": question, "top_k": 2},
        }
        return pipe.run(data)

    return ask


def warm_ratio(assistant, count: int, tmp: Path, ceiling: float) -> dict:  # type: ignore[no-untyped-def]
    """The first `count` article questions asked warm of the project and of the tutorial pipeline,
    alternating question by question; p50s, their ratio, the project's split, and its reading's
    floor at `ceiling` (GFLOPS, `matmul_ceiling()`)."""
    from index.indexer import passages_for
    from index.reading import read_documents

    docs, _ = read_documents([ROOT / "seeds"])  # the passages the project's index holds
    passages = [p.content or "" for d in docs for p in passages_for(d, assistant.spec)]
    from index.embedding import bundled_model_path
    from qa.readers import BUNDLED_READER

    embedder, reader = base_size_models(tmp)
    tutorials = {  # the tutorial's model sizes, and the same pipeline on the project's bundled models
        "tutorial": tutorial_pipeline(passages, embedder, reader, 768),
        "tutorial_on_bundled_models": tutorial_pipeline(
            passages, bundled_model_path(), str(BUNDLED_READER), 384
        ),
    }
    rows = [json.loads(x) for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    questions = [r["question"] for r in rows if not r.get("history")][:count]
    for ask in tutorials.values():
        ask(questions[0])
    assistant.ask(questions[0])
    spans = assistant._get_pipeline().get_component("reader").spans
    read_lengths: list[list[int]] = []  # the windows the reader computes per question: the floor of its time
    windows_of = spans._logits

    def counted(windows):  # type: ignore[no-untyped-def]
        read_lengths.append([len(w.ids) for w in windows])  # only noted here: counted after the timing
        return windows_of(windows)

    spans._logits = counted
    ours: list[float] = []
    theirs: dict[str, list[float]] = {name: [] for name in tutorials}
    split: dict[str, list[float]] = {}
    for q in questions:  # alternating, so a busy host slows each alike
        started = time.perf_counter()
        answer = assistant.ask(q)
        ours.append((time.perf_counter() - started) * 1000)
        for stage, ms in answer.timings_ms.items():
            split.setdefault(stage, []).append(ms)
        for name, ask in tutorials.items():
            started = time.perf_counter()
            ask(q)
            theirs[name].append((time.perf_counter() - started) * 1000)
    spans._logits = windows_of
    p50 = statistics.median(ours)
    flops = flops_counter(spans.model)
    read_flops = [flops(lengths) for lengths in read_lengths]
    found = {
        "questions": len(questions),
        "passages": len(passages),
        "project_p50_ms": round(p50, 1),
        "project_p95_ms": round(percentile(ours, 0.95), 1),
        "split_p50_ms": {stage: round(statistics.median(v), 1) for stage, v in split.items()},
        "engine": assistant.engine,
        # reading at this CPU's fp32 matrix-product ceiling: the least a warm answer's read can take
        "read_gflop_p50": round(statistics.median(read_flops) / 1e9, 2),
        "read_floor_ms_p50": round(statistics.median(read_flops) / 1e9 / ceiling * 1000, 1),
        "matmul_ceiling_gflops": ceiling,
    }
    for name, times in theirs.items():
        found[f"{name}_p50_ms"] = round(statistics.median(times), 1)
        found[f"{name}_ratio"] = round(statistics.median(times) / p50, 1)
    return found


def followup_cost(assistant) -> dict:  # type: ignore[no-untyped-def]
    """A follow-up after a 200 KB message against one after a short one: median ms of 3, and how far
    the process's peak memory grew."""
    big = "The EU sanctions were discussed at length in Brussels. " * 3700  # 200 KB
    short = [
        {"role": "user", "content": "What did the EU do to China?"},
        {"role": "assistant", "content": "Sanctions."},
    ]
    huge = [{"role": "user", "content": short[0]["content"] + " " + big}, short[1]]
    question = "When did they do it?"
    found: dict = {"message_kb": round(len(big.encode()) / 1024)}
    assistant.ask(question, history=short)
    for name, history in (("short", short), ("200kb", huge)):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            answer = assistant.ask(question, history=history)
            walls.append((time.perf_counter() - started) * 1000)
        found[f"{name}_ms"] = round(statistics.median(walls), 1)
        found[f"{name}_peak_growth_mb"] = round(
            (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024, 1
        )
        found[f"{name}_search"] = answer.rewritten_question or question
    return found


def same_answers(index_dir: Path) -> dict:
    """All article questions on the engines chosen here and on torch fp32: answers, bands and scores."""
    from qa import Assistant

    rows = [json.loads(x) for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    replies = {}
    before = os.environ.get("QA_ENGINE")
    try:
        for engine in ("auto", "torch-fp32"):
            os.environ["QA_ENGINE"] = engine
            assistant = Assistant.from_config(index_dir=index_dir, reader="offline")
            replies[engine] = [assistant.ask(r["question"], history=r.get("history")) for r in rows]
    finally:
        if before is None:
            os.environ.pop("QA_ENGINE", None)
        else:
            os.environ["QA_ENGINE"] = before
    pairs = list(zip(replies["auto"], replies["torch-fp32"], strict=True))
    differ = [a.question for a, b in pairs if (a.text, a.band) != (b.text, b.band)]
    return {
        "questions": len(pairs),
        "chosen_engine": replies["auto"][0].engine,
        "answered_differently": differ,
        "max_score_difference": round(max(abs(a.score - b.score) for a, b in pairs), 4),
    }


def engines_run(args: argparse.Namespace) -> dict:
    """Issue 30's measurements, in one run on this machine."""
    from qa import Assistant

    result: dict = {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu_line()}
    result["engine_table"] = engine_table()
    ceiling = matmul_ceiling()  # once: the warm and indexing figures are both set against it
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        seeds_index = tmp_path / "seeds-index"
        assistant = Assistant.from_config(index_dir=seeds_index, reader="offline")
        assistant.index([ROOT / "seeds"], rebuild=True)
        assistant.warm_up()
        result["warm"] = warm_ratio(assistant, args.questions, tmp_path, ceiling)
        print("warm", json.dumps(result["warm"]), flush=True)
        result["followup"] = followup_cost(assistant)
        print("follow-up", json.dumps(result["followup"]), flush=True)
        if SQUAD.exists():
            result["indexing"] = index_ratio(tmp_path, args.squad_paragraphs, args.rounds, ceiling)
            print("indexing", json.dumps(result["indexing"]), flush=True)
        cold_ask(seeds_index, 1)
        result["cold_ask"] = cold_ask(seeds_index, args.cold_runs)
        print("cold", json.dumps(result["cold_ask"]), flush=True)
        if args.same_answers:
            result["same_answers"] = same_answers(seeds_index)
            print("same answers", json.dumps(result["same_answers"]), flush=True)
    result["cpu_after"] = cpu_line()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--engines", action="store_true", help="issue 30: engine table, ratios, split, cold start"
    )
    parser.add_argument("--questions", type=int, default=30, help="--engines: warm questions to compare")
    parser.add_argument("--rounds", type=int, default=2, help="--engines: indexing rounds (best of)")
    parser.add_argument("--same-answers", action="store_true", help="--engines: all 95 on fp32 too")
    parser.add_argument("--engine", default=None, help="QA_ENGINE for this run (default: as set, else auto)")
    parser.add_argument("--label", default=None, help="name of this run in results.json (default: engine)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--quick", action="store_true", help="warm latency and quality only")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--squad-paragraphs", type=int, default=646, help="paragraphs to index")
    parser.add_argument(
        "--lite", type=int, default=0, metavar="N",
        help="a busy host: warm latency (wall and CPU) on the first N article questions instead of the\n"
        "quality run, no profiled second indexing, no `qa serve`",
    )  # fmt: skip
    args = parser.parse_args()
    if args.engine:
        os.environ["QA_ENGINE"] = args.engine
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    label = args.label or os.environ.get("QA_ENGINE", "auto")
    if args.engines:
        if args.squad_paragraphs == 646:
            args.squad_paragraphs = 200
        args.cold_runs = min(args.cold_runs, 3)
        measured = engines_run(args)
        everything = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {"runs": {}}
        everything["engines"] = measured
        args.out.write_text(json.dumps(everything, indent=2), encoding="utf-8")
        write_markdown(everything["runs"], ROOT / "docs" / "benchmarks.md", measured)
        return

    from qa import Assistant

    result: dict = {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        seeds_index = tmp_path / "seeds-index"
        assistant = Assistant.from_config(index_dir=seeds_index, reader="offline")
        started = time.perf_counter()
        assistant.index([ROOT / "seeds"], rebuild=True)
        result["index_seeds_s (models load included)"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        assistant.warm_up()
        result["warm_up_s"] = round(time.perf_counter() - started, 2)
        result["reader"] = assistant.reader
        result["engine"] = getattr(assistant, "engine", "torch-fp32 (before engines)")
        result["example"] = assistant.ask(EXAMPLE).text
        if args.lite:
            result["warm_latency_ms"] = warm_latency(assistant, args.lite)
        else:
            result["article_set"] = quality_and_latency(assistant)
        result["peak_rss_mb_in_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        if not args.quick:
            if SQUAD.exists():
                result["index_squad"] = index_squad(tmp_path, args.squad_paragraphs)
            result["qa_help"] = help_time()
            cold_ask(seeds_index, 1)  # an export on first use is not part of a cold start
            result["cold_ask"] = cold_ask(seeds_index, args.cold_runs)
            if not args.lite:
                result["serve_first_answer_s"] = serve_first_answer(seeds_index)

    everything = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
    if "runs" not in everything:
        everything = {"runs": {}}
    everything["runs"][label] = result
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(everything, indent=2), encoding="utf-8")
    write_markdown(everything["runs"], ROOT / "docs" / "benchmarks.md")
    print(json.dumps({k: v for k, v in result.items() if k != "article_set"}, indent=2))


def _cell(run: dict, *keys: str, unit: str = "") -> str:
    value: object = run
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return "-"
        value = value[key]
    return "-" if value is None else f"{value}{unit}"


ROWS = [
    ("engine", ("engine",), ""),
    ("cold `qa ask`, median of 5 (wall)", ("cold_ask", "median_s"), " s"),
    ("cold `qa ask`, median CPU time", ("cold_ask", "cpu_median_s"), " s"),
    ("`qa --help` (wall / CPU)", ("qa_help", "median_s"), " s"),
    ("`qa serve` start to first answer", ("serve_first_answer_s",), " s"),
    ("warm p50 (article set)", ("article_set", "warm_latency_ms", "p50"), " ms"),
    ("warm p95", ("article_set", "warm_latency_ms", "p95"), " ms"),
    ("warm p50, first N article questions (--lite)", ("warm_latency_ms", "p50"), " ms"),
    ("warm p95 (--lite)", ("warm_latency_ms", "p95"), " ms"),
    ("warm CPU time p50 / question (--lite)", ("warm_latency_ms", "cpu_p50"), " ms"),
    ("warm CPU time p95 / question (--lite)", ("warm_latency_ms", "cpu_p95"), " ms"),
    ("indexing SQuAD dev paragraphs (wall)", ("index_squad", "passages_per_s"), " passages/s"),
    ("indexing, passages per CPU second", ("index_squad", "passages_per_cpu_s"), ""),
    ("peak RSS, `qa ask`", ("cold_ask", "peak_rss_mb"), " MB"),
    ("peak RSS, benchmark process", ("peak_rss_mb_in_process",), " MB"),
    ("article set F1", ("article_set", "f1"), ""),
    ("article set recall@5", ("article_set", "recall@5"), ""),
    ("article set no-answer accuracy", ("article_set", "no_answer_accuracy"), ""),
    ("the example's answer", ("example",), ""),
    ("measured (UTC)", ("measured",), ""),
    ("host", ("machine",), ""),
]


def engines_markdown(run: dict) -> list[str]:
    """Issue 30's tables, with the CPU beside every figure."""
    from qa.engine_table import table_rows

    cpu = run["cpu"]
    where = f"{cpu['model']}, {cpu['cores']} cores, flags {', '.join(cpu['flags'])}"
    after = run.get("cpu_after", cpu)["load_average"]
    busy = f"load average {cpu['load_average']} at the start, {after} at the end"
    lines = [
        "## The engine chosen by measurement (issue 30)",
        "",
        f"Measured by `python benchmarks/run.py --engines` on {run['measured']}: **{where}** ({busy}).",
        "",
        "`qa engines` on this CPU (probe: 8 passages + 1 query for the embedder, 8 question-sentence",
        f"pairs for the reader; median ms; measured in {run['engine_table'].get('seconds', '-')} s):",
        "",
        "| engine | embed ms | read ms | quality vs torch fp32 | chosen | CPU |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    flags = ", ".join(cpu["flags"])
    for engine, embed_ms, read_ms, quality, chosen in table_rows(run["engine_table"]):
        lines.append(
            f"| {engine} | {embed_ms} | {read_ms} | {quality} | {chosen} | {cpu['model']} ({flags}) |"
        )
    lines += ["", "| figure | value | CPU |", "| --- | --- | --- |"]
    figures = []
    if "indexing" in run:
        i = run["indexing"]
        figures += [
            (
                f"indexing {i['paragraphs']} SQuAD paragraphs ({i['passages']} passages), project, "
                f"engine {i['engine']}",
                f"{i['project_passages_per_s']} passages/s",
            ),
            (
                "plain sentence-transformers fp32 `encode` of the same passages (batch 32)",
                f"{i['plain_st_fp32_passages_per_s']} passages/s",
            ),
            ("**indexing ratio, project / plain ST** (target >= 2x)", f"**{i['ratio']}x**"),
        ]
        if "matmul_ceiling_gflops" in i:
            figures += [
                (
                    "fp32 arithmetic: plain ST / project / this CPU's matrix-product ceiling",
                    f"{i['plain_st_gflops']} / {i['project_gflops']} / {i['matmul_ceiling_gflops']} GFLOPS",
                ),
                ("indexing ratio an engine at the ceiling would reach", f"{i['ratio_at_the_ceiling']}x"),
            ]
    w = run["warm"]
    figures += [
        (
            f"warm answer p50, project ({w['questions']} article questions, engine {w['engine']})",
            f"{w['project_p50_ms']} ms",
        ),
        ("warm answer p95, project", f"{w['project_p95_ms']} ms"),
        (
            "warm answer p50, Haystack extractive tutorial pipeline, its model sizes (12 layers x 768)",
            f"{w['tutorial_p50_ms']} ms",
        ),
        ("**warm ratio, tutorial / project** (target >= 15x)", f"**{w['tutorial_ratio']}x**"),
        (
            "warm answer p50, the same tutorial pipeline on the project's bundled MiniLM models",
            f"{w['tutorial_on_bundled_models_p50_ms']} ms "
            f"({w['tutorial_on_bundled_models_ratio']}x the project)",
        ),
        ("project's warm split, p50 ms each", ", ".join(f"{k} {v}" for k, v in w["split_p50_ms"].items())),
    ]
    if "read_floor_ms_p50" in w:
        figures.append(
            (
                "reading per answer (p50) and its time at this CPU's fp32 matrix-product ceiling",
                f"{w['read_gflop_p50']} GFLOP, {w['read_floor_ms_p50']} ms "
                f"at {w['matmul_ceiling_gflops']} GFLOPS",
            )
        )
    f = run.get("followup")
    if f:
        figures += [
            (
                "follow-up after a short message / after a 200 KB message, median of 3",
                f"{f['short_ms']} / {f['200kb_ms']} ms",
            ),
            (
                "peak memory growth, short / 200 KB follow-up",
                f"{f['short_peak_growth_mb']} / {f['200kb_peak_growth_mb']} MB",
            ),
        ]
    c = run.get("cold_ask")
    if c:
        figures += [
            (
                f"cold `qa ask`, median of {len(c['runs_s'])} (wall / CPU)",
                f"{c['median_s']} / {c['cpu_median_s']} s",
            ),
            ("peak RSS, cold `qa ask`", f"{c['peak_rss_mb']} MB"),
        ]
    s = run.get("same_answers")
    if s:
        figures.append(
            (
                f"article questions answered differently on `{s['chosen_engine']}` than on torch fp32 "
                f"(of {s['questions']})",
                f"{len(s['answered_differently'])} (scores within {s['max_score_difference']})",
            )
        )
    for name, value in figures:
        lines.append(
            f"| {name} | {value} | {cpu['model']} ({', '.join(cpu['flags'])}), {cpu['cores']} cores |"
        )
    return lines


def write_markdown(runs: dict, path: Path, engines: dict | None = None) -> None:
    labels = list(runs)
    lines = [
        "# Benchmarks",
        "",
        "Measured by `python benchmarks/run.py --engine NAME` (one column per run; raw numbers and the",
        "indexing profile in `benchmarks/results.json`). `baseline` is the tree before the inference",
        "engines (sentence-transformers and Haystack's reader on torch fp32, two reader passes).",
        "",
        "| | " + " | ".join(labels) + " |",
        "| --- |" + " --- |" * len(labels),
    ]
    for name, keys, unit in ROWS:
        cells = []
        for label in labels:
            cell = _cell(runs[label], *keys, unit=unit)
            if keys == ("qa_help", "median_s") and cell != "-":
                cell += f" / {_cell(runs[label], 'qa_help', 'cpu_median_s', unit=' s')}"
            cells.append(cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for label in labels:
        profile = runs[label].get("index_squad", {}).get("profile_s (a second, profiled run)")
        if profile:
            parts = ", ".join(f"{k} {v} s" for k, v in profile.items())
            lines += ["", f"Indexing profile, `{label}` (cProfile, cumulative): {parts}."]
    if engines is None and RESULTS.is_file():
        engines = json.loads(RESULTS.read_text(encoding="utf-8")).get("engines")
    if engines:
        lines += ["", *engines_markdown(engines)]
    notes = ROOT / "benchmarks" / "notes.md"
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
