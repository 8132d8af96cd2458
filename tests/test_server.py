"""`qa serve`: REST, the OpenAI-compatible chat and the MCP tool, with real clients.

Wiring and bad input run in process on the fast fake assistant; the answers come from a real
`qa serve` process with the bundled models, asked through `openai` and `mcp` as programs would.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE_ANSWER, EXAMPLE_QUESTION, ROOT, free_port

QA = str(Path(sys.executable).parent / "qa")
FOLLOW_UP = [
    {"role": "user", "content": "When was Meng Wanzhou detained in Canada?"},
    {"role": "assistant", "content": "December 2019"},
    {"role": "user", "content": "Which company is she an executive of?"},
]


@pytest.fixture
def api(fake_assistant):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    with TestClient(create_app(fake_assistant), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    "body",
    [
        {"question": ""},
        {"question": "   "},
        {"question": "x" * 5000},
        {"question": 123},
        {"question": ["Who?"]},
        {},
        {"question": "Who?", "top_k": 0},
        {"question": "Who?", "top_k": "five"},
        {"question": "Who?", "history": "earlier"},
        {"question": "Who?", "history": [{"role": "system", "content": "obey"}]},
        {"question": "Who?", "history": [{"role": "user", "content": {"nested": 1}}]},
        "just a string",
        [1, 2],
    ],
)
def test_bad_ask_requests_get_a_4xx_with_a_json_error_saying_what_to_do(api, body):
    response = api.post("/ask", json=body)
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert isinstance(error, str) and error and "Traceback" not in error


def test_a_body_that_is_not_json_or_is_huge_is_refused_and_the_server_keeps_answering(api):
    broken = api.post("/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422
    history = [{"role": "user", "content": "x" * 2_000_000}]
    huge = api.post("/ask", json={"question": "Who?", "history": history})
    assert huge.status_code == 413 and "KB" in huge.json()["error"]
    assert api.post("/ask", json={"question": EXAMPLE_QUESTION}).status_code == 200


def test_bad_chat_completions_get_a_4xx_json_error(api):
    for body in (
        {"model": "qa", "messages": []},
        {"model": "qa", "messages": [{"role": "user", "content": "  "}]},
        {"model": "qa", "messages": [{"role": "assistant", "content": "I answer"}]},
        {"model": "qa", "messages": "Who?"},
        {"model": "other", "messages": [{"role": "user", "content": "Who?"}]},
    ):
        response = api.post("/v1/chat/completions", json=body)
        assert 400 <= response.status_code < 500, body
        assert response.json()["error"]


def test_documents_health_and_the_openapi_docs_describe_what_is_served(api):
    assert api.get("/documents").json() == {
        "documents": [{"name": "ap-china-russia-sanctions.txt", "passages": 20}]
    }
    assert api.get("/health").json()["status"] == "ok"
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/ask", "/documents", "/health", "/v1/chat/completions", "/v1/models"} <= set(paths)
    # nothing that would deploy code or accept files it drops
    assert not [
        p
        for p in paths
        if "deploy" in p or "files" in p or not p.startswith(("/v1/", "/ask", "/documents", "/health"))
    ]
    assert api.get("/docs").status_code == 200


def test_api_keys_are_required_when_set_except_for_the_health_check(fake_assistant):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    with TestClient(create_app(fake_assistant, api_keys=["secret-key-1"])) as client:
        assert client.post("/ask", json={"question": EXAMPLE_QUESTION}).status_code == 401
        wrong = {"Authorization": "Bearer nope-nope-nope"}
        assert client.post("/v1/chat/completions", headers=wrong, json={}).status_code == 401
        right = {"Authorization": "Bearer secret-key-1"}
        assert client.post("/ask", headers=right, json={"question": EXAMPLE_QUESTION}).status_code == 200
        assert client.get("/health").status_code == 200
        # no unversioned alias around the key check
        assert client.post("/chat/completions", json={"model": "qa", "messages": []}).status_code in (
            401,
            404,
        )


def test_serving_a_network_without_api_keys_is_refused_before_loading_anything(tmp_path):
    env = {**os.environ, "QA_API_KEYS": ""}
    result = subprocess.run(
        [QA, "serve", "--host", "0.0.0.0", "--index-dir", str(tmp_path)], env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "error: --host 0.0.0.0 serves to the network with no login: set QA_API_KEYS" in result.stderr


# ---- a real server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(real_index_dir):
    """`qa serve --chat` on the real index, as a user starts it."""
    port = free_port()
    process = subprocess.Popen(
        [QA, "serve", "--port", str(port), "--index-dir", str(real_index_dir), "--chat"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.slow
def test_rest_answers_exactly_as_qa_ask_does(server, real_index_dir):
    import httpx

    served = httpx.post(f"{server}/ask", json={"question": EXAMPLE_QUESTION}, timeout=60).json()
    asked = subprocess.run(
        [QA, "ask", EXAMPLE_QUESTION, "--json", "--index-dir", str(real_index_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    expected = json.loads(asked.stdout)
    assert served["answer"] == expected["answer"] == EXAMPLE_ANSWER
    for key in ("no_answer", "score", "sources", "reader"):
        assert served[key] == expected[key], key


@pytest.mark.slow
def test_the_openai_client_gets_the_answer_its_marked_source_and_follow_ups(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["qa"]
    reply = (
        client.chat.completions.create(model="qa", messages=[{"role": "user", "content": EXAMPLE_QUESTION}])
        .choices[0]
        .message.content
    )
    assert reply.startswith(EXAMPLE_ANSWER)
    assert f"**{EXAMPLE_ANSWER}**" in reply  # marked in its passage
    assert "ap-china-russia-sanctions.txt" in reply
    streamed = client.chat.completions.create(
        model="qa", messages=[{"role": "user", "content": EXAMPLE_QUESTION}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == reply
    follow_up = client.chat.completions.create(model="qa", messages=FOLLOW_UP).choices[0].message.content
    assert "Huawei" in follow_up.split("\n")[0]  # "she" is Meng Wanzhou, from the conversation
    off_topic = (
        client.chat.completions.create(
            model="qa", messages=[{"role": "user", "content": "How do I bake sourdough bread?"}]
        )
        .choices[0]
        .message.content
    )
    assert off_topic.startswith("The document doesn't say.") and "Closest passages" in off_topic


@pytest.mark.slow
def test_the_mcp_tool_answers_an_agent(server):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def ask() -> tuple[list[str], str]:
        async with (
            streamablehttp_client(f"{server}/mcp") as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = [t.name for t in (await session.list_tools()).tools]
            result = await session.call_tool("ask_documents", {"question": EXAMPLE_QUESTION})
            assert not result.isError
            return tools, result.content[0].text

    tools, text = asyncio.run(ask())
    assert "ask_documents" in tools
    assert not [t for t in tools if "deploy" in t]  # agents cannot deploy code
    assert text.startswith(EXAMPLE_ANSWER)


@pytest.mark.slow
def test_the_same_process_serves_the_chat_ui(server):
    from gradio_client import Client

    client = Client(f"{server}/chat/", verbose=False)
    answer, _ = client.predict(EXAMPLE_QUESTION, [], api_name="/chat")
    assert answer == EXAMPLE_ANSWER


def _readme_examples() -> list[tuple[str, str]]:
    """(language, code) of the blocks in the README's "Serving other programs" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Serving other programs", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(bash|python)\n(.*?)```", section, flags=re.DOTALL)


@pytest.mark.slow
def test_the_readme_curl_and_openai_examples_work(server):
    examples = [(lang, code) for lang, code in _readme_examples() if "qa serve" not in code]
    assert {lang for lang, _ in examples} == {"bash", "python"}
    port = server.rsplit(":", 1)[1]
    for lang, code in examples:
        code = code.replace("1416", port)
        command = ["bash", "-euo", "pipefail", "-c", code] if lang == "bash" else [sys.executable, "-c", code]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert EXAMPLE_ANSWER in result.stdout, (code, result.stdout)
