"""Load: concurrent chat users while documents are uploaded and removed, and memory over many questions.
Not a test.

    python benchmarks/load.py [--users 20] [--questions 20] [--total 1000] [--out benchmarks/load.json]

Starts `qa chat` (the real offline models, a fresh index of seeds/) on a free loopback port, asks each
question once alone for the reference answers, then has `--users` gradio_client users ask `--questions`
each at once while one more client keeps uploading and removing a document. Reports errors, answers
that differ from the reference, p50/p95 latency and throughput, and the chat's resident memory after
100 questions (under that load) and after every further batch up to `--total`. Every request goes to
127.0.0.1 and the loops are bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "article_questions.jsonl"
NOTE = "The lighthouse keeper of Port Elin is Agnes Varga. She painted the lighthouse blue in 1998.\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_chat(folder: Path, port: int) -> subprocess.Popen:
    seeds = folder / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    config = folder / "config.yaml"
    config.write_text(
        f"reader: offline\nindex_dir: {folder / 'index'}\nseeds_dir: {seeds}\n", encoding="utf-8"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_CONFIG": str(config)}
    log = open(folder / "chat.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "chat", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"qa chat exited: {(folder / 'chat.log').read_text()[-2000:]}") from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("qa chat did not start in 300 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--total", type=int, default=1000, help="questions before the last memory reading")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "load.json")
    args = parser.parse_args()
    from gradio_client import Client, handle_file

    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    pool = [r["question"] for r in rows if not r.get("history")]
    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp:
        folder = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        proc = start_chat(folder, port)
        try:
            alone = Client(url, verbose=False)
            reference = {q: alone.predict(q, api_name="/chat")[0] for q in pool}
            asked = len(pool)
            readings: dict[str, float] = {}
            answered = {"count": asked}
            lock = threading.Lock()

            note = folder / "harbour-notes.md"
            note.write_text(NOTE, encoding="utf-8")
            stop = threading.Event()
            changes = {"uploads": 0, "removals": 0, "errors": []}

            def churn() -> None:
                client = Client(url, verbose=False)
                while not stop.is_set():
                    try:
                        added, _ = client.predict([handle_file(note)], api_name="/add_documents")
                        if not added.startswith("Added"):
                            raise RuntimeError(f"upload: {added}")
                        changes["uploads"] += 1
                        removed, _, _ = client.predict(note.name, api_name="/remove_document")
                        if not removed.startswith("Removed"):
                            raise RuntimeError(f"removal: {removed}")
                        changes["removals"] += 1
                    except Exception as exc:  # every failure is counted and reported
                        changes["errors"].append(f"{type(exc).__name__}: {exc}")

            def user(seed: int) -> list[tuple[str, str | None, float, str | None]]:
                client = Client(url, verbose=False)
                rng = random.Random(seed)
                out = []
                for question in rng.sample(pool, min(args.questions, len(pool))):
                    started = time.perf_counter()
                    try:
                        reply = client.predict(question, api_name="/chat")[0]
                        out.append((question, reply, time.perf_counter() - started, None))
                        with lock:
                            answered["count"] += 1
                            if answered["count"] == 100:  # under load, uploads and removals going on
                                readings["after_100"] = rss_mb(proc.pid)
                    except Exception as exc:
                        out.append(
                            (question, None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
                        )
                return out

            churner = threading.Thread(target=churn, daemon=True)
            churner.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(args.users) as executor:
                results = [r for batch in executor.map(user, range(args.users)) for r in batch]
            wall = time.perf_counter() - started
            stop.set()
            churner.join(timeout=120)
            asked += len(results)
            errors = [e for *_, e in results if e] + changes["errors"]
            differ = [
                (q, reply, reference[q]) for q, reply, _, e in results if not e and reply != reference[q]
            ]
            latencies = [s * 1000 for _, _, s, e in results if not e]

            with ThreadPoolExecutor(args.users) as executor:  # the same load, without the reference check
                while asked < args.total:
                    batch = min(args.users * args.questions, args.total - asked)
                    list(
                        executor.map(
                            lambda k: alone.predict(pool[k % len(pool)], api_name="/chat"), range(batch)
                        )
                    )
                    asked += batch
                    readings[f"after_{asked}"] = rss_mb(proc.pid)
            rss_100, rss_total = readings["after_100"], readings[f"after_{asked}"]
        finally:
            proc.terminate()
            proc.wait(timeout=60)

    report = {
        "users": args.users,
        "questions_per_user": args.questions,
        "answers": len(results),
        "errors": len(errors),
        "error_examples": errors[:5],
        "answers_differing_from_alone": len(differ),
        "differing_examples": differ[:5],
        "uploads_during_load": changes["uploads"],
        "removals_during_load": changes["removals"],
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "mean": round(statistics.fmean(latencies), 1),
        },
        "throughput_per_s": round(len(results) / wall, 2),
        "rss_mb": {name: round(value, 1) for name, value in readings.items()},
        "rss_growth_pct": round(100 * (rss_total - rss_100) / rss_100, 1),
    }
    print(json.dumps(report, indent=2))
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
