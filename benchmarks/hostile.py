"""Issue 19's server-side probes, as a hostile client tries them, against a real `qa serve --chat`
(bundled models) and a real PostgreSQL: long and odd questions through REST, OpenAI and MCP; DNS
rebinding; password and API key guessing; a database outage; the small things (HEAD /health, unknown
Gradio endpoints, streamed completions, MCP errors). Counts every outcome and writes them to
benchmarks/hostile.json (docs/reliability.md).

    python benchmarks/hostile.py [--rounds 10] [--out benchmarks/hostile.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QA = str(Path(sys.executable).parent / "qa")
KEY = "probe-key-0001"
LOGIN = ("alice", "right-password")
EVIL = "rebind.evil.example:18501"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    out = log.open("w")
    process = subprocess.Popen([QA, *args, "--port", str(port)], env=env, cwd=ROOT, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code in (200, 503):
                return process, url
        except httpx.HTTPError:
            time.sleep(1)
        if process.poll() is not None:
            raise SystemExit(f"the server stopped: {log.read_text()[-2000:]}")
    raise SystemExit("the server did not start")


def questions(rng: random.Random, rounds: int) -> list[tuple[str, str]]:
    """(script, question) up to the 2,000-character limit."""
    latin = "Who was sanctioned by China and why did Russia answer "
    found = []
    for _ in range(rounds):
        n = rng.randint(1000, 2000)
        found.append(("latin", (latin * 40)[:n]))
        cjk = (chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(rng.randint(200, 2000)))
        found.append(("cjk", "".join(cjk)))
        found.append(("symbols", "".join(rng.choices("∑∂√©®™☃★♞€$%&@#", k=rng.randint(200, 2000)))))
        found.append(("surrogates", "Who was sanctioned by China?" + "\ud800\udfff" * rng.randint(1, 50)))
    return found


async def mcp_calls(url: str, calls: list[dict]) -> list[tuple[bool, str]]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        streamablehttp_client(f"{url}/mcp", headers=headers) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        results = []
        for arguments in calls:
            result = await session.call_tool("ask_documents", arguments)
            results.append((result.isError, result.content[0].text if result.content else ""))
        return results


def probe_questions(url: str, rng: random.Random, rounds: int) -> dict:
    auth = {"Authorization": f"Bearer {KEY}"}
    outcome: Counter = Counter()
    asked = questions(rng, rounds)
    for script, question in asked:
        body = json.dumps({"question": question}, ensure_ascii=True).encode()  # "\ud800" as JSON sends it
        headers = {**auth, "content-type": "application/json"}
        rest = httpx.post(f"{url}/ask", content=body, headers=headers, timeout=120)
        outcome[f"rest {script} {rest.status_code}"] += 1
        chat = {"model": "qa", "messages": [{"role": "user", "content": question}]}
        body = json.dumps(chat, ensure_ascii=True).encode()
        openai = httpx.post(f"{url}/v1/chat/completions", content=body, headers=headers, timeout=120)
        outcome[f"openai {script} {openai.status_code}"] += 1
    sendable = [(s, q) for s, q in asked if s != "surrogates"]  # the mcp client cannot encode them
    for (script, _), (is_error, _) in zip(
        sendable, asyncio.run(mcp_calls(url, [{"question": q} for _, q in sendable])), strict=True
    ):
        outcome[f"mcp {script} {'tool error' if is_error else 'answered'}"] += 1
    return {"requests": sum(outcome.values()), "outcomes": dict(sorted(outcome.items()))}


def probe_rebinding(url: str) -> dict:
    auth = {"Authorization": f"Bearer {KEY}"}
    routes = [
        ("POST", "/chat/gradio_api/call/remove_document", {"data": ["ap-china-russia-sanctions.txt"]}),
        ("POST", "/chat/gradio_api/call/add_documents", {"data": [[]]}),
        ("GET", "/chat/", None), ("GET", "/documents", None), ("POST", "/ask", {"question": "Who?"}),
        ("POST", "/v1/chat/completions", {"model": "qa", "messages": []}), ("GET", "/health", None),
        ("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}), ("GET", "/sse", None),
        ("GET", "/docs", None),
    ]  # fmt: skip
    hosts = [EVIL, "rebind.evil.example", "evil.example:80", "localhost.evil.example", "127.0.0.1.nip.io"]
    outcome: Counter = Counter()
    for host in hosts:
        for method, path, body in routes:
            headers = {**auth, "host": host, "origin": f"http://{host}"}
            status = httpx.request(method, f"{url}{path}", json=body, headers=headers, timeout=30).status_code
            outcome[f"foreign host {status}"] += 1
    for host in ("127.0.0.1", "localhost", f"localhost:{url.rsplit(':', 1)[1]}"):
        status = httpx.get(f"{url}/documents", headers={**auth, "host": host}, timeout=30).status_code
        outcome[f"served host {status}"] += 1
    documents = httpx.get(f"{url}/documents", headers=auth, timeout=30).json()["documents"]
    return {"requests": sum(outcome.values()), "outcomes": dict(outcome), "documents_after": len(documents)}


def probe_guessing(url: str, tries: int) -> dict:
    outcome: Counter = Counter()
    started = time.monotonic()
    for i in range(tries):
        guess = {"username": "alice", "password": f"guess{i}"}
        status = httpx.post(f"{url}/chat/login", data=guess).status_code
        outcome[f"login {status}"] += 1
    login_s = time.monotonic() - started
    right = httpx.post(f"{url}/chat/login", data={"username": LOGIN[0], "password": LOGIN[1]}).status_code
    for i in range(tries):
        status = httpx.get(f"{url}/documents", headers={"Authorization": f"Bearer guess-{i:06d}"}).status_code
        outcome[f"api key {status}"] += 1
    return {
        "tries_each": tries, "outcomes": dict(outcome), "login_seconds": round(login_s, 1),
        "right_password_while_waiting": right,
        "checked_guesses": outcome["login 400"] + outcome["api key 401"],
    }  # fmt: skip


def probe_small_things(url: str, rounds: int, log: Path) -> dict:
    auth = {"Authorization": f"Bearer {KEY}"}
    outcome: Counter = Counter()
    browser = httpx.Client()  # logged in to the chat, as its page is
    assert browser.post(f"{url}/chat/login", data={"username": LOGIN[0], "password": LOGIN[1]}).is_success
    for i in range(rounds):
        outcome[f"HEAD /health {httpx.head(f'{url}/health').status_code}"] += 1
        join = {"data": [], "fn_index": 1000 + i, "session_hash": f"s{i}"}
        joined = browser.post(f"{url}/chat/gradio_api/queue/join", json=join).status_code
        outcome[f"queue/join unknown fn_index {joined}"] += 1
        call = browser.post(f"{url}/chat/gradio_api/call/nope{i}", json={"data": []}).status_code
        outcome[f"/call/<unknown> {call}"] += 1
        messages = [{"role": "user", "content": "Who was sanctioned by China?"}]
        body = {"model": "qa", "stream": True, "messages": messages}
        streamed = httpx.post(f"{url}/v1/chat/completions", json=body, headers=auth, timeout=120).text
        outcome[f"stream ends with [DONE] {streamed.endswith('data: [DONE]' + chr(10) * 2)}"] += 1
    calls = [{"question": ""}, {"question": "Who?", "top_k": 3}, {"question": 5}, {}] * rounds
    for is_error, text in asyncio.run(mcp_calls(url, calls)):
        internal = any(w in text for w in ("run_api", "Traceback", "General unhandled", 'File "'))
        outcome[f"mcp bad call: error={is_error} internals={internal}"] += 1
    text = log.read_text(errors="replace")
    return {
        "outcomes": dict(sorted(outcome.items())),
        "server_log": {name: text.count(name) for name in ("Traceback", "different Context")},
    }


def fake_config(work: Path, **extra: str) -> Path:
    seeds = work / "fake-seeds"
    seeds.mkdir(exist_ok=True)
    shutil.copy(ROOT / "seeds" / "ap-china-russia-sanctions.txt", seeds)
    settings = {"embedding_model": "hash", "reader": "offline", "offline_model": "overlap",
                "seeds_dir": str(seeds), "index_dir": str(work / "fake-index"), **extra}  # fmt: skip
    path = work / f"fake-{len(extra)}.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in settings.items()))
    return path


def probe_outage(rounds: int, work: Path, fake_models: bool = False) -> dict:
    sys.path.insert(0, str(ROOT))
    from qa.db import start_database, stop_database

    folder = work / "pg"
    url = start_database(folder)
    seeds = work / "pg-seeds"
    seeds.mkdir()
    shutil.copy(ROOT / "seeds" / "ap-china-russia-sanctions.txt", seeds)
    config = work / "pg.yaml"
    config.write_text(f"store: pgvector\nreader: offline\nseeds_dir: {seeds}\nindex_dir: {work / 'unused'}\n")
    if fake_models:
        config = fake_config(work, store="pgvector")
    env = {**os.environ, "QA_DATABASE_URL": url, "QA_API_KEYS": "", "QA_AUTH": ""}
    process, server = start(["serve", "--chat", "--config", str(config)], env, work / "pg-serve.log")
    outcome: Counter = Counter()
    ask = {"question": "Who was sanctioned by China?"}
    chat = {"model": "qa", "messages": [{"role": "user", "content": "Who was sanctioned by China?"}]}
    try:
        before = httpx.post(f"{server}/ask", json=ask, timeout=120).json()
        for _ in range(rounds):
            outcome[f"up /ask {httpx.post(f'{server}/ask', json=ask, timeout=120).status_code}"] += 1
            stop_database(folder)
            for _ in range(3):
                outcome[f"down /ask {httpx.post(f'{server}/ask', json=ask, timeout=120).status_code}"] += 1
                openai = httpx.post(f"{server}/v1/chat/completions", json=chat, timeout=120).status_code
                outcome[f"down /v1/chat/completions {openai}"] += 1
                outcome[f"down /health {httpx.get(f'{server}/health', timeout=60).status_code}"] += 1
            start_database(folder)
            back = httpx.post(f"{server}/ask", json=ask, timeout=120)
            same = {**back.json(), "timings_ms": None} == {**before, "timings_ms": None}
            outcome[f"back /ask {back.status_code} same answer as before: {same}"] += 1
            documents = httpx.get(f"{server}/documents", timeout=60).json()["documents"]
            passages = sum(d["passages"] for d in documents)
            outcome[f"back: documents {len(documents)}, passages {passages}"] += 1
    finally:
        process.terminate()
        process.wait(timeout=60)
        stop_database(folder)
    text = (work / "pg-serve.log").read_text(errors="replace")
    tracebacks = text.count("Traceback")
    return {"cycles": rounds, "outcomes": dict(sorted(outcome.items())), "server_log_tracebacks": tracebacks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--guesses", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "hostile.json")
    parser.add_argument("--skip-outage", action="store_true")
    parser.add_argument(
        "--fake-models", action="store_true",
        help="hash embedder and word-overlap reader: the HTTP layer only, fast on a busy machine "
        "(the real reader's long questions are then tested by tests/test_fuzz.py)",
    )  # fmt: skip
    args = parser.parse_args()
    rng = random.Random(19)
    work = Path(tempfile.mkdtemp(prefix="hostile-"))
    env = {**os.environ, "QA_API_KEYS": KEY, "QA_AUTH": ":".join(LOGIN), "HF_HUB_OFFLINE": "1"}
    log = work / "serve.log"
    models = (
        ["--config", str(fake_config(work))] if args.fake_models else ["--index-dir", str(work / "index")]
    )
    process, url = start(["serve", "--chat", *models], env, log)
    results: dict = {}
    try:
        results["long and odd questions"] = probe_questions(url, rng, args.rounds)
        results["dns rebinding"] = probe_rebinding(url)
        results["small things"] = probe_small_things(url, args.rounds, log)
        results["guessing"] = probe_guessing(url, args.guesses)  # last: it locks this address out
    finally:
        process.terminate()
        process.wait(timeout=60)
    if not args.skip_outage:
        results["database outage"] = probe_outage(max(1, args.rounds // 2), work, args.fake_models)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
