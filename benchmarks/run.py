"""Benchmark: cold start, warm latency, index build speed and peak memory. Not a test.

    python benchmarks/run.py [--reader offline] [--out benchmarks/results.json]

Prints the numbers and writes them to JSON and to docs/benchmarks.md. Targets on the 2-core machine:
warm p50 <= 300 ms, cold start <= 8 s, peak RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "article_questions.jsonl"
SQUAD = ROOT.parent / "shared" / "data" / "squad2-dev-16articles.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# A small parent that runs `qa ask` and prints its child's peak RSS: measured from this (large)
# process, a child's ru_maxrss would count the memory it shared with us at fork time.
_PEAK_RSS = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def cold_start(index_dir: Path, runs: int = 3) -> tuple[list[float], float]:
    """Seconds from process start to the first answer printed (index on disk), and peak RSS in MB."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    ask = [sys.executable, "-m", "qa.cli", "ask", "Who was sanctioned by China?", "--json"]
    ask += ["--index-dir", str(index_dir)]
    times, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, *ask],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - started)
        peaks.append(int(out.stdout.strip()) / 1024)
    return times, max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reader", default="offline", choices=["offline", "auto", "extractive"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument(
        "--squad-paragraphs", type=int, default=646, help="paragraphs for the build benchmark"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from qa import Assistant
    from qa.evaluation import load_dataset
    from qa.evaluation.runner import write_corpus

    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "reader_setting": args.reader,
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # index build: the seed article, then a bigger corpus (SQuAD paragraphs)
        seeds_index = tmp_path / "seeds-index"
        started = time.perf_counter()
        assistant = Assistant.from_config(index_dir=seeds_index, reader=args.reader)
        report = assistant.index([ROOT / "seeds"], rebuild=True)
        results["index_seeds"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "passages": report.passages,
        }
        if SQUAD.exists():
            paragraphs = load_dataset(SQUAD).paragraphs[: args.squad_paragraphs]
            corpus = write_corpus(paragraphs, tmp_path / "corpus")
            big = Assistant.from_config(index_dir=tmp_path / "squad-index", reader=args.reader)
            started = time.perf_counter()
            report = big.index([corpus], rebuild=True)
            seconds = time.perf_counter() - started
            results["index_squad"] = {
                "documents": len(list(corpus.iterdir())),
                "passages": report.passages,
                "seconds": round(seconds, 2),
                "passages_per_s": round(report.passages / seconds, 1),
            }
        # warm latency over the article questions
        started = time.perf_counter()
        assistant.warm_up()
        results["warm_up_seconds"] = round(time.perf_counter() - started, 2)
        questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
        assistant.ask(questions[0]["question"])
        latencies = []
        for q in questions:
            started = time.perf_counter()
            assistant.ask(q["question"], history=q.get("history"))
            latencies.append((time.perf_counter() - started) * 1000)
        results["reader"] = assistant.reader
        results["warm_latency_ms"] = {
            "questions": len(latencies),
            "p50": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "max": round(max(latencies), 1),
        }
        results["peak_rss_mb_in_process"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        )
        cold, peak = cold_start(seeds_index)
        results["cold_start_s"] = {
            "runs": [round(t, 2) for t in cold],
            "median": round(statistics.median(cold), 2),
        }
        results["peak_rss_mb_cli_ask"] = round(peak, 1)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_markdown(results, ROOT / "docs" / "benchmarks.md")
    print(json.dumps(results, indent=2))


def write_markdown(r: dict, path: Path) -> None:
    lat = r["warm_latency_ms"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `python benchmarks/run.py` on {r['machine']}, reader `{r['reader']}`.",
        "Raw numbers: `benchmarks/results.json`.",
        "",
        "| what | measured | target |",
        "| --- | --- | --- |",
        f"| warm latency p50 / p95 ({lat['questions']} article questions) "
        f"| {lat['p50']} ms / {lat['p95']} ms | p50 <= 300 ms |",
        f"| cold start (process start -> first answer, median of 3) | {r['cold_start_s']['median']} s "
        "| <= 8 s |",
        f"| peak RSS, `qa ask` process | {r['peak_rss_mb_cli_ask']} MB | <= 1.5 GB |",
        f"| peak RSS, benchmark process (two indexes + models) | {r['peak_rss_mb_in_process']} MB | |",
        f"| index the seed article | {r['index_seeds']['seconds']} s, "
        f"{r['index_seeds']['passages']} passages | |",
    ]
    if "index_squad" in r:
        s = r["index_squad"]
        lines.append(
            f"| index {s['documents']} SQuAD paragraphs | {s['seconds']} s, {s['passages']} passages, "
            f"{s['passages_per_s']} passages/s | |"
        )
    lines += ["", f"Warm-up (models + index load in process): {r['warm_up_seconds']} s.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
