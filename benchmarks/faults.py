"""Faults: `kill -9` of `qa index` and of `qa chat` (while it indexes uploads) at random moments.
Not a test.

    python benchmarks/faults.py [--runs 20] [--out benchmarks/faults.json]

After every kill the index must load, and hold either the documents it held before or those plus
complete new ones (every document with exactly the passages it has when indexed alone): never a mix,
never a lost document. Uses the hash embedder and the word-overlap reader, so a run takes seconds; the
index is written by the same code whatever the models. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Assistant  # noqa: E402


def corpus(folder: Path, files: int, sentences: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for f in range(files):
        body = " ".join(f"Fact {f}-{i} is about topic {i % 97} and place {f}." for i in range(sentences))
        paths.append(folder / f"doc{f:03d}.txt")
        paths[-1].write_text(body, encoding="utf-8")
    return paths


def check(config: Path, before: dict[str, int], expected: dict[str, int]) -> str:
    """'old', 'new' (some complete new documents added) or a description of what is wrong."""
    try:
        docs = Assistant.from_config(config).documents()
    except Exception as exc:
        return f"does not load: {exc}"
    lost = [n for n in before if docs.get(n) != before[n]]
    if lost:
        return f"lost or changed {lost}"
    added = {n: c for n, c in docs.items() if n not in before}
    wrong = [n for n, c in added.items() if expected.get(n) != c]
    if wrong:
        return f"partial documents {wrong}"
    return "new" if added else "old"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "faults.json")
    parser.add_argument("--only", nargs="+", choices=["index", "chat"], default=["index", "chat"])
    args = parser.parse_args()
    rng = random.Random(args.seed)
    outcomes: dict[str, list[str]] = {"qa index": [], "qa chat": []}
    with tempfile.TemporaryDirectory(prefix="qa-faults-") as tmp:
        folder = Path(tmp)
        (folder / "seeds").mkdir()
        shutil.copy(ROOT / "seeds" / "ap-china-russia-sanctions.txt", folder / "seeds")
        config = folder / "config.yaml"
        config.write_text(
            f"embedding_model: hash\nreader: offline\noffline_model: overlap\nindex_dir: {folder / 'index'}\n"
            f"seeds_dir: {folder / 'seeds'}\n",
            encoding="utf-8",
        )
        docs = corpus(folder / "docs", files=12, sentences=300)
        alone = Assistant.from_config(config, index_dir=folder / "alone")
        alone.index(docs)
        expected = alone.documents()
        env = {**os.environ, "QA_CONFIG": str(config), "HF_HUB_OFFLINE": "1"}

        index_docs = [sys.executable, "-m", "qa.cli", "index", str(folder / "docs")]
        Assistant.from_config(config).index([folder / "seeds"], rebuild=True)
        started = time.monotonic()
        subprocess.run(index_docs, env=env, check=True, capture_output=True)
        duration = time.monotonic() - started  # a whole run, start-up to the swap
        for _ in range(args.runs if "index" in args.only else 0):  # qa index, killed at a random moment
            Assistant.from_config(config).index([folder / "seeds"], rebuild=True)
            before = Assistant.from_config(config).documents()
            proc = subprocess.Popen(index_docs, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 1.1) * duration)
            finished = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            outcomes["qa index"].append(("finished: " if finished else "") + check(config, before, expected))

        from gradio_client import Client, handle_file

        for _ in range(args.runs if "chat" in args.only else 0):  # qa chat, killed while indexing uploads
            Assistant.from_config(config).index([folder / "seeds"], rebuild=True)
            before = Assistant.from_config(config).documents()
            port = free_port()
            proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "chat", "--port", str(port)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)

            def upload(client=client) -> None:
                for k in range(0, len(docs), 3):
                    try:
                        client.predict([handle_file(p) for p in docs[k : k + 3]], api_name="/add_documents")
                    except Exception:
                        return  # the server was killed

            uploader = threading.Thread(target=upload, daemon=True)
            uploader.start()
            time.sleep(rng.uniform(0.5, 5.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            uploader.join(timeout=30)
            outcomes["qa chat"].append(check(config, before, expected))

    summary = {
        name: {
            "runs": len(results),
            "old": sum(r.endswith("old") for r in results),
            "new": sum(r.endswith("new") for r in results),
            "finished_before_the_kill": sum(r.startswith("finished") for r in results),
            "seconds_per_full_run": round(duration, 1) if name == "qa index" else None,
            "failures": [r for r in results if not r.endswith(("old", "new"))],
        }
        for name, results in outcomes.items()
    }
    print(json.dumps(summary, indent=2))
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
