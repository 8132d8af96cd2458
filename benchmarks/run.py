"""Benchmark: start-up, warm latency, indexing speed (with a profile), peak memory and answer quality,
per inference engine. Not a test.

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
    ask = [sys.executable, "-m", "qa.cli", "ask", EXAMPLE, "--json", "--index-dir", str(index_dir)]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
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


def write_markdown(runs: dict, path: Path) -> None:
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
    notes = ROOT / "benchmarks" / "notes.md"
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
