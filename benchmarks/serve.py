"""Benchmark of `qa serve`: what a request costs through REST and the OpenAI-compatible endpoint. Not a test.

    python benchmarks/serve.py [--rounds 3] [--out benchmarks/serve.json]

Starts `qa serve` on the seeds' index and reports the time from process start to the first answer,
then, over the article questions of `benchmarks/run.py` (asked one at a time, `--rounds` times each):
warm p50/p95 of `POST /ask`, of `POST /v1/chat/completions` (the `openai` client) and of
`Assistant.ask` in process, and the servers' overhead over it (target: <= 10 ms at p50). The rounds
interleave the three so a busy host slows them alike; the overhead is the median over questions of a
served call minus the in-process call just before it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import QUESTIONS, percentile  # noqa: E402

QA = str(Path(sys.executable).parent / "qa")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path) -> tuple[subprocess.Popen, str, float]:
    """The server process, its URL, and seconds from its start to the first answer."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [QA, "serve", "--port", str(port), "--index-dir", str(index_dir)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    while True:
        try:
            if httpx.post(f"{url}/ask", json={"question": QUESTIONS_FIRST}, timeout=60).status_code == 200:
                return process, url, time.perf_counter() - started
        except httpx.HTTPError:
            if process.poll() is not None:
                raise SystemExit("qa serve exited before answering") from None
            time.sleep(0.05)


QUESTIONS_FIRST = "Who was sanctioned by China?"


def stats(values: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(values, 0.5), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "mean_ms": round(statistics.mean(values), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "serve.json")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from openai import OpenAI

    from qa import Assistant

    questions = [
        json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line
    ]
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        subprocess.run(
            [QA, "index", "--index-dir", str(index_dir)], cwd=ROOT, check=True, capture_output=True
        )
        process, url, first_answer = start_server(index_dir)
        try:
            assistant = Assistant.from_config(index_dir=index_dir)
            assistant.warm_up()
            client = OpenAI(base_url=f"{url}/v1", api_key="unused")
            http = httpx.Client(timeout=60)
            timings: dict[str, list[float]] = {"in_process": [], "rest": [], "openai": []}
            differing = 0

            def timed(kind: str, call) -> object:
                started = time.perf_counter()
                out = call()
                timings[kind].append((time.perf_counter() - started) * 1000)
                return out

            for q in questions[:5]:  # warm every path once
                assistant.ask(q)
                http.post(f"{url}/ask", json={"question": q})
            for _ in range(args.rounds):
                for q in questions:
                    local = timed("in_process", lambda q=q: assistant.ask(q))
                    served = timed("rest", lambda q=q: http.post(f"{url}/ask", json={"question": q}).json())
                    timed("openai", lambda q=q: client.chat.completions.create(
                        model="qa", messages=[{"role": "user", "content": q}]))  # fmt: skip
                    differing += served["answer"] != local.text  # type: ignore[union-attr,index]
        finally:
            process.terminate()
            process.wait(timeout=30)
    base = stats(timings["in_process"])
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "questions": len(questions),
        "rounds": args.rounds,
        "serve_start_to_first_answer_s": round(first_answer, 2),
        "in_process": base,
        "rest": stats(timings["rest"]),
        "openai_chat": stats(timings["openai"]),
        # per question, the served call minus the in-process call just before it: the median
        "overhead_p50_ms": {
            kind: round(
                statistics.median(s - b for s, b in zip(timings[kind], timings["in_process"], strict=True)), 1
            )
            for kind in ("rest", "openai")
        },
        "rest_answers_differing_from_in_process": differing,
    }
    print(json.dumps(result, indent=2))
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
