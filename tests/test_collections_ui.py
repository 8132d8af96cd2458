"""Collections and users through the served interfaces (issue 29): REST, the OpenAI-compatible chat,
MCP and the chat's API, on the isolation matrix of `collections_matrix` (two users with a private
collection each, a service key, a handbook shared read-only with everyone, the default collection).

Every cell works or is refused exactly as the matrix's rights say; a collection the caller may not
read is answered exactly as a missing one (the same status and body, but for the name asked for); no
reply or error carries the marker word of a collection the caller may not read. The chat in a real
browser is in test_browser.py's style at the end (marked `browser`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import collections_matrix as m
import pytest
import test_browser
from test_pgvector import database  # noqa: F401 - the session's PostgreSQL, shared with its tests

from conftest import serve, uvicorn_thread
from qa import Assistant, Caller

browser = test_browser.browser  # the real chromium, as the chat's own browser tests drive it

SERVICE_KEY = "service-key-matrix-0001"
LOCAL = "http://127.0.0.1:1416"  # a served host name (the Host check refuses TestClient's "testserver")
REST_OPS = ("ask", "followup", "documents", "list")  # REST adds and removes nothing


@dataclass
class World:
    assistant: Assistant
    setup: m.Setup

    def headers(self, who: str) -> dict[str, str]:
        key = SERVICE_KEY if who == "service" else self.setup.keys[who]
        return {"Authorization": f"Bearer {key}"}


def _world(folder: Path, **settings: Any) -> World:
    assistant = Assistant.from_config(m.write_config(folder, **settings))
    setup = m.build(assistant, folder)
    assistant.warm_up()
    return World(assistant, setup)


def _same_refusal(got: tuple[int, str], name: str, missing: tuple[int, str]) -> None:
    """A refused collection is answered as the missing one: the same status, the same body but for
    the name that was asked for."""
    assert got[0] == missing[0]
    assert got[1].replace(name, "?") == missing[1].replace(m.MISSING, "?")


def _models(who: str) -> list[str]:
    """The OpenAI models `who` must see: `qa` (the default collection), then the others by name."""
    return ["qa", *sorted(n for n in m.readable(who) if n != "default")]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return _world(tmp_path_factory.mktemp("matrix-faiss"))


@pytest.fixture(scope="module")
def pg_world(tmp_path_factory, database) -> Any:  # noqa: F811
    """The same collections, users and keys on pgvector."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QA_DATABASE_URL", database)
        yield _world(
            tmp_path_factory.mktemp("matrix-pg"), store="pgvector", db_schema=f"t_{uuid.uuid4().hex[:10]}"
        )


# the matrices that run on both stores: the rights are the front door's, whichever store keeps them
ON_BOTH_STORES = pytest.mark.parametrize(
    "store", ["world", pytest.param("pg_world", marks=pytest.mark.postgres)]
)


def _rest(world: World, **options: Any) -> Any:
    from fastapi.testclient import TestClient

    from ui.server import create_app

    app = create_app(world.assistant, api_keys=[SERVICE_KEY], **options)
    return TestClient(app, raise_server_exceptions=False, base_url=LOCAL)


# ---- REST ---------------------------------------------------------------------------------------
def _rest_attempt(client: Any, world: World, who: str, name: str, op: str) -> Any:
    headers = world.headers(who)
    if op == "ask":
        return client.post("/ask", json={"question": m.QUESTION, "collection": name}, headers=headers)
    if op == "followup":
        body = {"question": m.FOLLOWUP, "history": m.FOLLOWUP_HISTORY, "collection": name}
        return client.post("/ask", json=body, headers=headers)
    if op == "documents":
        return client.get("/documents", params={"collection": name}, headers=headers)
    return client.get("/v1/models", headers=headers)


def _check_rest(world: World) -> int:
    checked = 0
    with _rest(world) as client:
        missing = {
            (who, op): _rest_attempt(client, world, who, m.MISSING, op)
            for who in m.CALLERS
            for op in REST_OPS
        }
        for who, name, op in m.cells():
            if op not in REST_OPS:
                continue
            response = _rest_attempt(client, world, who, name, op)
            m.assert_no_leak(response.text, who)
            checked += 1
            if op == "list":
                assert response.status_code == 200
                assert [model["id"] for model in response.json()["data"]] == _models(who)
                continue
            if m.expected(who, name, op) != "ok":
                assert response.status_code == 404, (who, name, op, response.text)
                gone = missing[(who, op)]
                _same_refusal((404, response.text), name, (gone.status_code, gone.text))
                continue
            assert response.status_code == 200, (who, name, op, response.text)
            body = response.json()
            if op == "documents":
                assert body == {"documents": [{"name": m.BY_NAME[name].document, "passages": 1}]}
                continue
            assert body["collection"] == name
            assert {s["document"] for s in body["sources"]} == {m.BY_NAME[name].document}
            if op == "ask":
                assert m.MARKERS[name] in body["answer"]  # the collection's own answer
    return checked


def test_rest_isolation_matrix_on_faiss(world):
    assert _check_rest(world) == len(m.CALLERS) * (len(m.COLLECTIONS) + 1) * len(REST_OPS)


@pytest.mark.postgres
def test_rest_isolation_matrix_on_pgvector(tmp_path, database, monkeypatch):  # noqa: F811
    monkeypatch.setenv("QA_DATABASE_URL", database)
    world = _world(tmp_path, store="pgvector", db_schema=f"t_{uuid.uuid4().hex[:10]}")
    assert _check_rest(world) == len(m.CALLERS) * (len(m.COLLECTIONS) + 1) * len(REST_OPS)


def test_rest_without_a_collection_asks_the_default_one_and_says_so(world):
    with _rest(world) as client:
        for who in m.CALLERS:
            body = client.post("/ask", json={"question": m.QUESTION}, headers=world.headers(who)).json()
            assert body["collection"] == "default" and m.MARKERS["default"] in body["answer"]
            listed = client.get("/documents", headers=world.headers(who)).json()
            assert listed == {"documents": [{"name": m.BY_NAME["default"].document, "passages": 1}]}


def test_rest_needs_a_key_once_users_exist_and_a_bad_name_is_a_400(world):
    with _rest(world) as client:
        for headers in ({}, {"Authorization": "Bearer not-a-key-at-all"}):
            response = client.post(
                "/ask", json={"question": m.QUESTION, "collection": "alice-private"}, headers=headers
            )
            assert response.status_code == 401 and "API key" in response.json()["error"]
            m.assert_no_leak(response.text, "service")
        bad = client.post(
            "/ask", json={"question": m.QUESTION, "collection": "../etc"}, headers=world.headers("bob")
        )
        assert bad.status_code == 400 and "collection names are letters" in bad.json()["error"]
    # with no QA_API_KEYS at all, a user's key still opens the API (and nothing else does)
    from fastapi.testclient import TestClient

    from ui.server import create_app

    with TestClient(create_app(world.assistant), raise_server_exceptions=False, base_url=LOCAL) as client:
        assert client.get("/documents").status_code == 401
        alice = client.get(
            "/documents", params={"collection": "alice-private"}, headers=world.headers("alice")
        )
        assert alice.status_code == 200
        assert client.get("/documents", headers={"Authorization": f"Bearer {SERVICE_KEY}"}).status_code == 401


def test_health_tells_no_one_about_a_default_collection_they_may_not_read(world):
    with _rest(world) as client:
        assert client.get("/health").json()["documents"] == 1  # the default: shared with everyone
        world.assistant.unshare_collection("default", "everyone")
        try:
            assert client.get("/health").json() == {"status": "ok", "documents": 0, "reader": ANY}
        finally:
            world.assistant.share_collection("default", "everyone", write=True)
        assert client.get("/health").json()["documents"] == 1


def test_rest_without_credentials_on_loopback_is_the_operator(tmp_path):
    """No users, no keys: the server is the operator's, as before (every collection)."""
    from fastapi.testclient import TestClient

    from ui.server import create_app

    assistant = Assistant.from_config(m.write_config(tmp_path))
    note = tmp_path / "note.txt"
    note.write_text(m.BY_NAME["alice-private"].text, encoding="utf-8")
    assistant.index([note])  # the default collection
    assistant.create_collection("team")
    assistant.index([note], collection="team")
    with TestClient(create_app(assistant), raise_server_exceptions=False, base_url=LOCAL) as client:
        body = client.post("/ask", json={"question": m.QUESTION, "collection": "team"}).json()
        assert body["collection"] == "team" and m.MARKERS["alice-private"] in body["answer"]
        assert [d["id"] for d in client.get("/v1/models").json()["data"]] == ["qa", "team"]


# ---- OpenAI-compatible --------------------------------------------------------------------------
def _completion(client: Any, world: World, who: str, model: str, *, followup: bool = False,
                stream: bool = False) -> Any:  # fmt: skip
    messages = [*m.FOLLOWUP_HISTORY, {"role": "user", "content": m.FOLLOWUP}] if followup else []
    messages = messages or [{"role": "user", "content": m.QUESTION}]
    body = {"model": model, "messages": messages, "stream": stream}
    return client.post("/v1/chat/completions", json=body, headers=world.headers(who))


@ON_BOTH_STORES
def test_openai_isolation_matrix(store, request):
    import json

    world = request.getfixturevalue(store)

    kinds = {"ask": {}, "followup": {"followup": True}, "stream": {"stream": True}}
    with _rest(world) as client:
        missing = {
            (who, kind): _completion(client, world, who, m.MISSING, **options)
            for who in m.CALLERS
            for kind, options in kinds.items()
        }
        for who in m.CALLERS:
            for c in m.COLLECTIONS:
                allowed = m.level(who, c.name) != "none"
                for kind, options in kinds.items():
                    response = _completion(client, world, who, c.name, **options)
                    m.assert_no_leak(response.text, who)
                    if not allowed:
                        gone = missing[(who, kind)]
                        assert response.status_code == 404, (who, c.name, kind, response.text)
                        _same_refusal((404, response.text), c.name, (gone.status_code, gone.text))
                        continue
                    assert response.status_code == 200, (who, c.name, kind, response.text)
                    if kind == "stream":
                        chunks = [
                            json.loads(line.removeprefix("data: "))
                            for line in response.text.splitlines()
                            if line.startswith("data: {")
                        ]
                        text = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks)
                    else:
                        text = response.json()["choices"][0]["message"]["content"]
                    assert f"*{c.document}*" in text  # its source: the collection's own document
                    if kind != "followup":
                        assert c.marker in text
                model = client.get(f"/v1/models/{c.name}", headers=world.headers(who))
                gone = client.get(f"/v1/models/{m.MISSING}", headers=world.headers(who))
                assert model.status_code == (200 if allowed else 404)
                if not allowed:
                    _same_refusal((404, model.text), c.name, (gone.status_code, gone.text))
            # `qa` is the default collection
            reply = _completion(client, world, who, "qa").json()["choices"][0]["message"]["content"]
            assert m.MARKERS["default"] in reply
            # a model that cannot be a collection's name is unknown like any other
            odd = _completion(client, world, who, "gpt-4.1")
            assert (odd.status_code, odd.json()["error"]) == (
                404, "unknown model 'gpt-4.1'; GET /v1/models lists the models you may use"
            )  # fmt: skip


# ---- MCP ----------------------------------------------------------------------------------------
async def _mcp_calls(url: str, key: str) -> dict[str, Any]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    results: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        streamablehttp_client(f"{url}/mcp", headers=headers) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        results["tools"] = [t.name for t in (await session.list_tools()).tools]
        results["list"] = await session.call_tool("list_collections", {})
        for name in [*(c.name for c in m.COLLECTIONS), m.MISSING]:
            results[name] = await session.call_tool(
                "ask_documents", {"question": m.QUESTION, "collection": name}
            )
        results[None] = await session.call_tool("ask_documents", {"question": m.QUESTION})
    return results


@ON_BOTH_STORES
def test_mcp_isolation_matrix(store, request):
    from ui.server import create_app, server_config

    world = request.getfixturevalue(store)

    app = create_app(world.assistant, api_keys=[SERVICE_KEY])
    with uvicorn_thread(lambda port: server_config(app, "127.0.0.1", port)) as url:
        for who in m.CALLERS:
            key = world.headers(who)["Authorization"].removeprefix("Bearer ")
            results = asyncio.run(_mcp_calls(url, key))
            assert results["tools"] == ["ask_documents", "list_collections"]
            listed = results["list"]
            assert not listed.isError
            assert [c["name"] for c in listed.structuredContent["collections"]] == m.readable(who)
            m.assert_no_leak(listed.content[0].text, who)
            gone = results[m.MISSING]
            assert gone.isError
            for c in m.COLLECTIONS:
                result = results[c.name]
                text = result.content[0].text
                m.assert_no_leak(text, who)
                m.assert_no_leak(result.structuredContent, who)
                if m.level(who, c.name) == "none":
                    assert result.isError and result.structuredContent is None
                    _same_refusal((1, text), c.name, (1, gone.content[0].text))
                else:
                    assert not result.isError, text
                    assert result.structuredContent["collection"] == c.name
                    assert result.structuredContent["document"] == c.document and c.marker in text
            default = results[None]
            assert "collection" not in default.structuredContent  # as before collections, unnamed
            assert default.structuredContent["document"] == m.BY_NAME["default"].document


async def _mcp_over_sse(url: str, key: str) -> Any:
    from mcp import ClientSession
    from mcp.client.sse import sse_client

    async with (
        sse_client(f"{url}/sse", headers={"Authorization": f"Bearer {key}"}) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        listed = await session.call_tool("list_collections", {})
        mine = await session.call_tool("ask_documents", {"question": m.QUESTION, "collection": "bob-private"})
        other = await session.call_tool(
            "ask_documents", {"question": m.QUESTION, "collection": "alice-private"}
        )
        return listed, mine, other


def test_qa_serve_with_the_chat_keeps_callers_apart_on_every_route(world):
    """One process (`qa serve --chat`): the chat's logins and the API's keys, and MCP over SSE, each
    answered as its own caller."""
    from gradio_client import Client

    from ui.server import create_app, server_config

    app = create_app(world.assistant, chat=True, api_keys=[SERVICE_KEY])
    with uvicorn_thread(lambda port: server_config(app, "127.0.0.1", port)) as url:
        bob = Client(f"{url}/chat/", auth=("bob", m.PASSWORDS["bob"]), verbose=False)
        assert [c["name"] for c in bob.predict(api_name="/collections")] == m.readable("bob")
        reply, details = bob.predict(m.QUESTION, [], "bob-private", api_name="/chat_collection")
        assert details["collection"] == "bob-private" and m.MARKERS["bob-private"] in reply
        from gradio_client.exceptions import AppError

        with pytest.raises(AppError, match="no collection 'alice-private' you may use"):
            bob.predict(m.QUESTION, [], "alice-private", api_name="/chat_collection")
        listed, mine, other = asyncio.run(_mcp_over_sse(url, world.setup.keys["bob"]))
        assert [c["name"] for c in listed.structuredContent["collections"]] == m.readable("bob")
        assert m.MARKERS["bob-private"] in mine.content[0].text
        assert other.isError and "no collection 'alice-private' you may use" in other.content[0].text
        m.assert_no_leak(other.content[0].text, "bob")


# ---- the chat's API (gradio_client, logged in as each user of the store) -------------------------
@pytest.fixture(scope="module")
def chat_url(world):
    app = serve(world.assistant)  # users exist: the chat asks for a login of the store
    yield app.local_url
    app.close()


@pytest.fixture(scope="module")
def pg_chat_url(pg_world):
    app = serve(pg_world.assistant)
    yield app.local_url
    app.close()


@pytest.fixture(
    scope="module",
    params=[("world", "chat_url"), pytest.param(("pg_world", "pg_chat_url"), marks=pytest.mark.postgres)],
)
def served_chat(request) -> tuple[World, str]:
    """(world, the chat's URL) on each store, for the matrices that run on both (FAISS's is the
    chat the other tests use, not a second one)."""
    world, url = request.param
    return request.getfixturevalue(world), request.getfixturevalue(url)


def _client(url: str, who: str) -> Any:
    from gradio_client import Client

    return Client(url, auth=(who, m.PASSWORDS[who]), verbose=False)


def _chat_attempt(client: Any, world: World, name: str, op: str) -> tuple[str, str]:
    """(outcome seen, what the person was shown) for `op` on collection `name` through the chat's API."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    try:
        if op in ("ask", "followup"):
            question, history = (m.QUESTION, []) if op == "ask" else (m.FOLLOWUP, m.FOLLOWUP_HISTORY)
            reply, details = client.predict(question, history, name, api_name="/chat_collection")
            assert details["collection"] == name
            return "ok", f"{reply} {details}"
        if op == "list":
            listed = client.predict(api_name="/collections")
            return ("ok" if name in [c["name"] for c in listed] else "not_found"), str(listed)
        table, _ = client.predict(name, api_name="/choose_collection")
        rows = [row[0] for row in table["data"]]
        if op == "documents":
            own = [m.BY_NAME[name].document] if name in m.BY_NAME else []
            assert rows in ([], own), rows  # its own document, or nothing
            return ("ok" if rows else "refused"), str(table)
        if op == "upload":
            status, table = client.predict([handle_file(world.setup.upload)], api_name="/add_documents")
            if status.startswith("Added"):
                world.assistant.remove(m.UPLOAD_NAME, collection=name)  # put back as it was
                return "ok", status
        else:  # remove: a document added for it, else (where the caller cannot add) its own
            target = m.BY_NAME[name].document if name in m.BY_NAME else "x.txt"
            if name in m.BY_NAME:
                world.assistant.index([world.setup.upload], collection=name)
                target = m.UPLOAD_NAME
            status, _, _ = client.predict(target, api_name="/remove_document")
            if name in m.BY_NAME and not status.startswith("Removed"):
                world.assistant.remove(m.UPLOAD_NAME, collection=name)
            if status.startswith("Removed"):
                return "ok", status
        if "read-only" in status:
            return "not_allowed", status
        return "refused", status
    except AppError as exc:
        return "refused", str(exc)


def test_chat_api_isolation_matrix(served_chat):
    world, chat_url = served_chat
    for who in m.USERS:  # the chat's callers are its logins; the service key is for the API
        client = _client(chat_url, who)
        missing = {op: _chat_attempt(client, world, m.MISSING, op) for op in m.OPERATIONS}
        for _, name, op in [cell for cell in m.cells() if cell[0] == who and cell[1] != m.MISSING]:
            outcome, shown = _chat_attempt(client, world, name, op)
            m.assert_no_leak(shown, who)
            want = m.expected(who, name, op)
            if want == "not_found":
                assert outcome in ("refused", "not_found"), (who, name, op, shown)
                _same_refusal((0, shown), name, (0, missing[op][1]))
            else:
                assert outcome == want, (who, name, op, shown)
        for c in m.COLLECTIONS:  # all put back
            assert world.assistant.documents(collection=c.name) == {c.document: 1}


def test_chat_refusals_say_what_happened(world, chat_url):
    client = _client(chat_url, "alice")
    client.predict("handbook", api_name="/choose_collection")
    status, _ = client.predict(
        [__import__("gradio_client").handle_file(world.setup.upload)], api_name="/add_documents"
    )
    assert status.startswith("Nothing was added: collection 'handbook' is shared read-only with you")
    status, _, _ = client.predict("handbook-vault.txt", api_name="/remove_document")
    assert status.startswith("Not removed: collection 'handbook' is shared read-only with you")
    assert world.assistant.documents(collection="handbook") == {"handbook-vault.txt": 1}
    client.predict("bob-private", api_name="/choose_collection")
    status, _ = client.predict(
        [__import__("gradio_client").handle_file(world.setup.upload)], api_name="/add_documents"
    )
    assert status.startswith("Nothing was added: no collection 'bob-private' you may use")


def test_the_chat_page_carries_no_collection_before_a_login_loads_its_own(world, chat_url):
    """The page's config is the same for every login: no collection name nor document in it."""
    import json

    for who in m.USERS:
        config = json.dumps(_client(chat_url, who).config)
        for c in m.COLLECTIONS:
            assert c.document not in config and c.marker not in config
        assert "alice-private" not in config and "bob-private" not in config


def test_a_qa_auth_login_is_that_user(world):
    """A QA_AUTH login (not in the store) is the user of that name: it reads what that user may."""
    app = serve(world.assistant, auth=[("alice", "another-password")])
    try:
        from gradio_client import Client

        client = Client(app.local_url, auth=("alice", "another-password"), verbose=False)
        assert [c["name"] for c in client.predict(api_name="/collections")] == m.readable("alice")
        also = Client(app.local_url, auth=("bob", m.PASSWORDS["bob"]), verbose=False)  # the store's
        assert [c["name"] for c in also.predict(api_name="/collections")] == m.readable("bob")
    finally:
        app.close()


def test_the_chat_without_any_login_is_the_operator(tmp_path):
    from gradio_client import Client

    assistant = Assistant.from_config(m.write_config(tmp_path))
    note = tmp_path / "note.txt"
    note.write_text(m.BY_NAME["bob-private"].text, encoding="utf-8")
    assistant.create_collection("team", owner=None)
    assistant.index([note], collection="team")
    assistant.index([note])  # the default collection too
    app = serve(assistant)
    try:
        client = Client(app.local_url, verbose=False)
        assert [c["name"] for c in client.predict(api_name="/collections")] == ["default", "team"]
        reply, details = client.predict(m.QUESTION, [], "team", api_name="/chat_collection")
        assert details["collection"] == "team" and m.MARKERS["bob-private"] in reply
    finally:
        app.close()


def test_callers_map_credentials(world):
    from ui.callers import Credentials

    credentials = Credentials(world.assistant, logins=[("carol", "pw-carol")], keys=[SERVICE_KEY])
    assert credentials.caller_of_key(SERVICE_KEY) == Caller.SERVICE
    assert credentials.caller_of_key(world.setup.keys["bob"]) == Caller.user("bob")
    assert credentials.caller_of_key("nope-nope-nope") is None and credentials.caller_of_key("") is None
    assert credentials.login("carol", "pw-carol") and credentials.login("alice", m.PASSWORDS["alice"])
    assert not credentials.login("alice", "pw-carol") and not credentials.login("carol", m.PASSWORDS["alice"])
    assert not credentials.login("", "") and not credentials.login(None, None)


# ---- the chat in a real browser -----------------------------------------------------------------


def _logged_in(browser: Any, url: str, who: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_label("username").fill(who)
    page.get_by_label("password").fill(m.PASSWORDS[who])
    page.get_by_role("button", name="Login").click()
    page.locator("#question textarea").wait_for()
    return page


def _options(page: Any) -> list[str]:
    """The collection picker's choices, as shown (opens it)."""
    page.locator("#collection input").click()
    options = page.locator("#collection").get_by_role("option")
    options.first.wait_for()
    return [o.split("\n")[-1].strip() for o in options.all_inner_texts()]


def _pick(page: Any, label: str) -> None:
    option = page.locator("#collection").get_by_role("option", name=label, exact=True)
    if not option.is_visible():
        page.locator("#collection input").click()
    option.click()


@pytest.mark.browser
def test_the_chat_in_a_browser_keeps_each_users_collections_apart(browser, served_chat):
    from playwright.sync_api import expect

    world, chat_url = served_chat

    page = _logged_in(browser, chat_url, "alice")
    try:
        picker = page.locator("#collection")
        expect(picker.locator("input")).to_have_value("default")
        assert _options(page) == ["default", "alice-private", "handbook (read-only)"]
        _pick(page, "alice-private")
        expect(page.locator("#documents")).to_contain_text("alice-vault.txt")
        box = page.locator("#question textarea")
        box.fill(m.QUESTION)
        box.press("Enter")
        chat = page.locator("#chat")
        expect(chat.locator("p.qa-collection").last).to_have_text("from collection alice-private")
        expect(chat).to_contain_text(m.MARKERS["alice-private"])
        # a follow-up in the same collection; then the handbook, read-only: an upload is refused
        box.fill(m.FOLLOWUP)
        box.press("Enter")
        expect(chat.locator("p.qa-collection")).to_have_count(2)
        # her own collection takes a document, and gives it back
        page.locator("#upload input[type=file]").set_input_files(str(world.setup.upload))
        expect(page.locator("#upload-status")).to_contain_text(f"Added {m.UPLOAD_NAME} (1 passage).")
        expect(page.locator("#documents")).to_contain_text(m.UPLOAD_NAME)
        page.get_by_label("Remove a document").click()
        page.get_by_role("option", name=m.UPLOAD_NAME).click()
        page.get_by_role("button", name="Remove", exact=True).click()
        expect(page.locator("#upload-status")).to_have_text(f"Removed {m.UPLOAD_NAME}.")
        assert world.assistant.documents(collection="alice-private") == {"alice-vault.txt": 1}
        _pick(page, "handbook (read-only)")
        expect(page.locator("#documents")).to_contain_text("handbook-vault.txt")
        page.locator("#upload input[type=file]").set_input_files(str(world.setup.upload))
        expect(page.locator("#upload-status")).to_contain_text("shared read-only with you")
        box.fill(m.QUESTION)
        box.press("Enter")
        expect(chat.locator("p.qa-collection")).to_have_count(3)
        expect(chat.locator("p.qa-collection").last).to_have_text("from collection handbook")
        m.assert_no_leak(page.content(), "alice")
    finally:
        page.context.close()

    page = _logged_in(browser, chat_url, "bob")
    try:
        assert _options(page) == ["default", "bob-private", "handbook (read-only)"]
        _pick(page, "default")
        box = page.locator("#question textarea")
        box.fill(m.QUESTION)
        box.press("Enter")
        expect(page.locator("#chat p.qa-collection").last).to_have_text("from collection default")
        html = page.content()
        m.assert_no_leak(html, "bob")
        assert "alice-private" not in html and "alice-vault.txt" not in html
    finally:
        page.context.close()
    assert world.assistant.documents(collection="handbook") == {"handbook-vault.txt": 1}


def test_the_chat_caller_is_the_login_else_the_key_else_the_operator_where_nothing_guards_it(world):
    from types import SimpleNamespace

    from qa import BadInputError
    from ui.app import ChatCallers
    from ui.callers import Credentials

    credentials = Credentials(world.assistant, keys=[SERVICE_KEY])

    def request(username: str | None = None, key: str = "") -> Any:
        return SimpleNamespace(username=username, headers={"authorization": f"Bearer {key}"} if key else {})

    guarded, open_ = ChatCallers(credentials, guarded=True), ChatCallers(credentials, guarded=False)
    assert guarded(request("bob")) == Caller.user("bob")
    assert guarded(request("alice.smith")) == Caller("alice.smith", "user")  # a QA_AUTH name, as it is
    assert guarded(request(key=world.setup.keys["alice"])) == Caller.user("alice")
    assert guarded(request(key=SERVICE_KEY)) == Caller.SERVICE
    with pytest.raises(BadInputError, match="log in"):
        guarded(request(key="not-a-key-at-all"))
    assert open_(request()) == Caller.LOCAL and open_(None) == Caller.LOCAL
