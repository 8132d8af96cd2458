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

from conftest import (
    EXAMPLE_ANSWER,
    EXAMPLE_QUESTION,
    EXAMPLE_SENTENCE,
    OFF_TOPIC_QUESTION,
    ROOT,
    SURE_ANSWER,
    SURE_QUESTION,
    free_port,
    uvicorn_thread,
)
from qa import BadInputError

QA = str(Path(sys.executable).parent / "qa")
LOCAL = "http://127.0.0.1:1416"  # a served host name (the Host check refuses TestClient's "testserver")
FOLLOW_UP = [
    {"role": "user", "content": "When was Meng Wanzhou detained in Canada?"},
    {"role": "assistant", "content": "December 2019"},
    {"role": "user", "content": "Which company is she an executive of?"},
]


@pytest.fixture
def api(fake_assistant):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    with TestClient(create_app(fake_assistant), raise_server_exceptions=False, base_url=LOCAL) as client:
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

    with TestClient(create_app(fake_assistant, api_keys=["secret-key-1"]), base_url=LOCAL) as client:
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

    served = httpx.post(f"{server}/ask", json={"question": SURE_QUESTION}, timeout=60).json()
    asked = subprocess.run(
        [QA, "ask", SURE_QUESTION, "--json", "--index-dir", str(real_index_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    expected = json.loads(asked.stdout)
    assert served["answer"] == expected["answer"] == SURE_ANSWER
    assert served["band"] == expected["band"] == "sure"
    for key in ("no_answer", "score", "sources", "reader", "engine"):
        assert served[key] == expected[key], key
    off_topic = httpx.post(f"{server}/ask", json={"question": OFF_TOPIC_QUESTION}, timeout=60).json()
    assert off_topic["band"] == "none" and off_topic["answer"] is None and off_topic["no_answer"] is True


@pytest.mark.slow
def test_the_openai_client_gets_the_answer_its_marked_source_and_follow_ups(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["qa"]
    reply = (
        client.chat.completions.create(model="qa", messages=[{"role": "user", "content": SURE_QUESTION}])
        .choices[0]
        .message.content
    )
    assert reply.startswith(SURE_ANSWER)
    assert f"**{SURE_ANSWER}**" in reply  # marked in its passage
    assert "ap-china-russia-sanctions.txt" in reply
    streamed = client.chat.completions.create(
        model="qa", messages=[{"role": "user", "content": SURE_QUESTION}], stream=True
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

    async def ask() -> tuple[list[str], str, dict, dict]:
        async with (
            streamablehttp_client(f"{server}/mcp") as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = [t.name for t in (await session.list_tools()).tools]
            result = await session.call_tool("ask_documents", {"question": SURE_QUESTION})
            assert not result.isError
            off_topic = await session.call_tool("ask_documents", {"question": OFF_TOPIC_QUESTION})
            return tools, result.content[0].text, result.structuredContent, off_topic.structuredContent

    tools, text, structured, off_topic = asyncio.run(ask())
    assert "ask_documents" in tools
    assert not [t for t in tools if "deploy" in t]  # agents cannot deploy code
    assert text.startswith(SURE_ANSWER)
    assert structured["band"] == "sure" and structured["answer"] == SURE_ANSWER
    assert structured["document"] == "ap-china-russia-sanctions.txt"
    assert off_topic["band"] == "none" and off_topic["answer"] is None


@pytest.mark.slow
def test_a_not_sure_reply_is_a_hedge_on_rest_openai_and_mcp(unsure_assistant):
    """With the sure threshold out of reach the example question is "not sure": REST says the band, the
    OpenAI content (streamed too) and the MCP text open with the hedge, MCP's result names the band."""
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client
    from openai import OpenAI

    from qa.answer import UNSURE_TEXT
    from ui.server import create_app

    with live(create_app(unsure_assistant)) as url:
        served = httpx.post(f"{url}/ask", json={"question": EXAMPLE_QUESTION}, timeout=60).json()
        assert served["band"] == "unsure" and served["answer"] == EXAMPLE_ANSWER
        assert served["no_answer"] is False
        marked = [s for s in served["sources"] if s["answer_start"] is not None]
        assert [s["text"][s["answer_start"] : s["answer_end"]] for s in marked] == [EXAMPLE_ANSWER]

        client = OpenAI(base_url=f"{url}/v1", api_key="unused")
        messages = [{"role": "user", "content": EXAMPLE_QUESTION}]
        reply = client.chat.completions.create(model="qa", messages=messages).choices[0].message.content
        first = reply.split("\n")[0]
        assert first == f"{UNSURE_TEXT} “{EXAMPLE_ANSWER}”"  # never the bare candidate
        sentence = EXAMPLE_SENTENCE.replace(EXAMPLE_ANSWER, f"**{EXAMPLE_ANSWER}**")
        assert f"> {sentence}" in reply  # the closest sentence, the candidate in bold
        assert "Document: *ap-china-russia-sanctions.txt*" in reply
        streamed = client.chat.completions.create(model="qa", messages=messages, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == reply

        async def call() -> tuple[str, dict]:
            async with (
                streamablehttp_client(f"{url}/mcp") as (read, write, _),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                result = await session.call_tool("ask_documents", {"question": EXAMPLE_QUESTION})
                assert not result.isError
                return result.content[0].text, result.structuredContent

        text, structured = asyncio.run(call())
    assert text == reply
    runners_up = [
        {"answer": a["text"], "document": a["document"], "sentence": a["sentence"], "score": a["score"]}
        for a in served["alternatives"]
    ]
    assert structured == {
        "band": "unsure", "answer": EXAMPLE_ANSWER, "document": "ap-china-russia-sanctions.txt",
        "sentence": EXAMPLE_SENTENCE, "score": served["score"], "alternatives": runners_up,
    }  # fmt: skip
    for also in served["alternatives"]:  # each runner-up shown after the closest sentence, in bold
        assert also["sentence"][also["answer_start"] : also["answer_end"]] == also["text"]
        assert f"**{also['text']}**" in reply.split("Or:", 1)[1]


@pytest.mark.slow
def test_the_same_process_serves_the_chat_ui(server):
    from gradio_client import Client

    client = Client(f"{server}/chat/", verbose=False)
    answer, _ = client.predict(SURE_QUESTION, [], api_name="/chat")
    assert answer == SURE_ANSWER


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


# ---- issue 19 (a hostile client) and 20 (a new user), in process on the fake assistant ----------------

EVIL = "rebind.evil.example:18501"


def live(app):
    """`app` served by uvicorn on a free loopback port, in a thread: real HTTP, real streaming."""
    import uvicorn

    return uvicorn_thread(
        lambda port: uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"), start_s=30
    )


def test_a_rebound_host_name_reaches_nothing_and_served_names_still_work(fake_assistant, monkeypatch):
    """DNS rebinding: a page at rebind.evil.example whose name now points at 127.0.0.1 sends that Host."""
    from fastapi.testclient import TestClient

    from ui.server import create_app

    monkeypatch.delenv("QA_ALLOWED_HOSTS", raising=False)
    evil = {"host": EVIL, "origin": f"http://{EVIL}"}
    with TestClient(create_app(fake_assistant, chat=True), base_url=LOCAL) as client:
        before = client.get("/documents").json()
        for method, path, body in [
            ("POST", "/chat/gradio_api/call/remove_document", {"data": ["ap-china-russia-sanctions.txt"]}),
            ("GET", "/documents", None),
            ("POST", "/ask", {"question": EXAMPLE_QUESTION}),
            ("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            ("GET", "/chat/", None),
        ]:
            response = client.request(method, path, json=body, headers=evil)
            assert response.status_code == 421, path
            assert "QA_ALLOWED_HOSTS" in response.json()["error"]
        assert client.get("/documents").json() == before  # nothing removed
        for host in ("localhost:1416", "127.0.0.1", "[::1]:1416"):
            assert client.get("/documents", headers={"host": host}).status_code == 200
    monkeypatch.setenv("QA_ALLOWED_HOSTS", "qa.example.com, rebind.evil.example")
    with TestClient(create_app(fake_assistant), base_url=LOCAL) as client:
        assert client.get("/documents", headers={"host": "QA.example.com:443"}).status_code == 200
        assert client.get("/documents", headers={"host": EVIL}).status_code == 200  # named by the operator


def test_a_bad_allowed_hosts_setting_is_one_line_that_says_how_to_write_it(fake_assistant, monkeypatch):
    from ui.server import create_app

    monkeypatch.setenv("QA_ALLOWED_HOSTS", "https://qa.example.com/")
    with pytest.raises(BadInputError, match=r"QA_ALLOWED_HOSTS must be host names.*qa.example.com"):
        create_app(fake_assistant)


def test_the_mcp_sdk_checks_host_and_origin_itself(fake_assistant):
    """Behind the app's own Host check, the MCP SDK's rebinding protection is on too."""
    from fastapi.testclient import TestClient

    from ui.access import served_hosts
    from ui.mcp_tool import mcp_app

    init = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"accept": "application/json, text/event-stream"}
    with TestClient(mcp_app(fake_assistant, served_hosts("127.0.0.1", "")), base_url=LOCAL) as client:
        assert client.post("/mcp/", json=init, headers={**headers, "host": EVIL}).status_code == 421
        hostile = {**headers, "origin": f"http://{EVIL}"}
        assert client.post("/mcp/", json=init, headers=hostile).status_code == 403
        assert client.post("/mcp/", json=init, headers=headers).status_code == 200


def test_the_launched_chat_checks_the_host_too(fake_assistant):
    import httpx

    from conftest import serve

    app = serve(fake_assistant)
    try:
        url = app.local_url.rstrip("/")
        assert httpx.get(f"{url}/", headers={"host": EVIL}).status_code == 421
        call = httpx.post(
            f"{url}/gradio_api/call/remove_document", headers={"host": EVIL}, json={"data": ["x"]}
        )
        assert call.status_code == 421
        assert httpx.get(f"{url}/").status_code == 200
    finally:
        app.close()


def test_failed_logins_from_one_address_must_wait_longer_and_longer():
    from ui.access import Failures

    now = [1000.0]
    failures = Failures(free=3, max_wait=60, clock=lambda: now[0])
    for _ in range(3):
        assert failures.wait("1.2.3.4") == 0
        failures.failed("1.2.3.4")
    waits = []
    for _ in range(8):
        waits.append(failures.wait("1.2.3.4"))
        now[0] += waits[-1]
        failures.failed("1.2.3.4")
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert failures.wait("5.6.7.8") == 0  # per client
    failures.succeeded("1.2.3.4")
    assert failures.wait("1.2.3.4") == 0


def test_password_guessing_on_the_chat_login_is_slowed(fake_assistant):
    import httpx

    from conftest import serve

    app = serve(fake_assistant, auth=[("alice", "right-password")])
    try:
        login = app.local_url.rstrip("/") + "/login"
        statuses = [
            httpx.post(login, data={"username": "alice", "password": f"guess{i}"}).status_code
            for i in range(5)
        ]
        assert statuses == [400] * 5
        refused = httpx.post(login, data={"username": "alice", "password": "right-password"})
        assert refused.status_code == 429  # even the right password waits: the guesser learns nothing
        assert "wait 1 s" in refused.json()["error"] and refused.headers["retry-after"] == "1"
        time.sleep(1.1)
        assert httpx.post(login, data={"username": "alice", "password": "right-password"}).status_code == 200
    finally:
        app.close()


def test_api_key_guessing_is_slowed_and_mounted_chat_logins_too(fake_assistant):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    app = create_app(fake_assistant, chat=True, auth=[("alice", "right-password")], api_keys=["secret-key-1"])
    with TestClient(app, base_url=LOCAL) as client:
        right = {"Authorization": "Bearer secret-key-1"}
        for i in range(5):
            wrong = {"Authorization": f"Bearer guess-{i:04d}"}
            assert client.get("/documents", headers=wrong).status_code == 401
        locked = client.get("/documents", headers=right)
        assert locked.status_code == 429 and "API keys" in locked.json()["error"]
        # one count per address, whatever it guesses: the mounted chat's login waits too
        login = client.post("/chat/login", data={"username": "alice", "password": "right-password"})
        assert login.status_code == 429


def test_small_things_a_load_balancer_or_a_script_runs_into(api, fake_assistant):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    head = api.head("/health")
    assert head.status_code == 200 and not head.content
    index = api.get("/", follow_redirects=False)
    assert index.status_code == 200 and index.json()["docs"] == "/docs"
    with TestClient(create_app(fake_assistant, chat=True), base_url=LOCAL) as client:
        for path in ("/", "/chat"):
            moved = client.get(path, follow_redirects=False)
            assert moved.status_code in (302, 307) and moved.headers["location"] == "/chat/"
        unknown = [
            client.post(
                "/chat/gradio_api/queue/join", json={"data": [], "fn_index": 999, "session_hash": "s"}
            ),
            client.post("/chat/gradio_api/call/no_such_endpoint", json={"data": []}),
        ]
        for response in unknown:
            assert response.status_code == 404 and "gradio_api/info" in response.json()["error"]


def test_the_api_docs_work_offline(api):
    page = api.get("/docs").text
    assert "cdn" not in page.lower() and "https://" not in page
    assets = re.findall(r'(?:href|src)="(/[^"]+)"', page)
    assert len(assets) >= 2
    for asset in assets:
        assert api.get(asset).status_code == 200, asset


def test_errors_say_what_to_do(api):
    wrong_model = api.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": FOLLOW_UP})
    assert wrong_model.status_code == 404
    assert wrong_model.json()["error"] == "unknown model 'gpt-4o'; this server serves one model, 'qa'"
    for path in ("/ask", "/v1/chat/completions"):
        broken = api.post(path, content=b'{"question": "Who?', headers={"content-type": "application/json"})
        assert broken.status_code == 422
        assert broken.json()["error"].startswith("the body is not valid JSON; send a JSON object")


def test_a_streamed_answer_opens_at_once_then_sends_the_answer_its_source_and_done(
    fake_assistant, monkeypatch
):
    import threading

    import httpx

    from ui.server import create_app

    known = threading.Event()
    real_ask = fake_assistant.ask

    def slow_ask(*args, **kwargs):  # the answer is known only when the test says so
        assert known.wait(30)
        return real_ask(*args, **kwargs)

    app = create_app(fake_assistant)
    monkeypatch.setattr(fake_assistant, "ask", slow_ask)
    body = {"model": "qa", "stream": True, "messages": [{"role": "user", "content": EXAMPLE_QUESTION}]}
    with live(app) as url, httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=20) as r:
        events = (line for line in r.iter_lines() if line)
        first = json.loads(next(events).removeprefix("data: "))
        assert not known.is_set()  # the stream opened before the answer was known
        assert first["choices"][0]["delta"]["role"] == "assistant"
        known.set()
        rest = list(events)
    assert rest[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: "))["choices"][0] for e in rest[:-1]]
    texts = [c["delta"]["content"] for c in chunks]
    expected = fake_assistant.ask(EXAMPLE_QUESTION).display_text
    assert texts[0].strip() == expected  # the answer first, on its own
    assert "Source: *ap-china-russia-sanctions.txt*" in "".join(texts[1:])  # then its source
    assert chunks[-1]["finish_reason"] == "stop"


def test_mcp_errors_are_the_assistants_one_line_without_internals(fake_assistant):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    from ui.server import create_app

    async def call(url: str, arguments: dict) -> tuple[bool, str]:
        async with (
            streamablehttp_client(f"{url}/mcp") as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("ask_documents", arguments)
            return result.isError, result.content[0].text

    with live(create_app(fake_assistant)) as url:
        assert asyncio.run(call(url, {"question": "  "})) == (
            True,
            "the question is empty; type a question about the documents",
        )
        is_error, text = asyncio.run(call(url, {"question": EXAMPLE_QUESTION, "top_k": 3}))
        assert is_error and "top_k" in text and "run_api" not in text and "\n" not in text
        is_error, text = asyncio.run(call(url, {"question": EXAMPLE_QUESTION}))
        assert not is_error and "ap-china-russia-sanctions.txt" in text


@pytest.mark.slow
def test_long_and_odd_questions_are_answered_through_every_interface(server):
    """Issue 19: 1,000-2,000 characters, 200 CJK characters and a lone surrogate gave 500s and raw errors."""
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    questions = [("Who was sanctioned by China and why " * 60)[:2000], "中国制裁了谁" * 34]
    surrogate = b'{"question": "Who was sanctioned by China?\\ud800"}'
    json_type = {"content-type": "application/json"}
    raw = httpx.post(f"{server}/ask", content=surrogate, headers=json_type, timeout=60)
    assert raw.status_code == 200 and raw.json()["answer"] == EXAMPLE_ANSWER
    for question in questions:
        assert httpx.post(f"{server}/ask", json={"question": question}, timeout=60).status_code == 200
        chat = {"model": "qa", "messages": [{"role": "user", "content": question}]}
        assert httpx.post(f"{server}/v1/chat/completions", json=chat, timeout=60).status_code == 200

    async def ask_all() -> list[bool]:
        async with (
            streamablehttp_client(f"{server}/mcp") as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return [(await session.call_tool("ask_documents", {"question": q})).isError for q in questions]

    assert asyncio.run(ask_all()) == [False, False]
