"""The assistant as MCP tools, `ask_documents(question, collection?)` and `list_collections()`, over
streamable HTTP (`/mcp`) and SSE (`/sse`), on the MCP SDK's low-level server.

Each call is the caller of the HTTP request that carried it (its API key, noted by the server:
`ui.callers`): it asks in, and lists, only the collections that caller may read, and a collection it
may not read is answered as a missing one.

Built on the SDK directly (not hayhooks' MCP app) for two things hayhooks does not offer: the SDK's
own DNS rebinding protection (`TransportSecuritySettings`: Host and Origin checked against the served
host names), and tool errors that are the assistant's one line ("the question is empty; ...")
instead of "General unhandled error in call_tool ..." with Python's internals.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Message, Receive, Scope, Send

from qa import Answer, Assistant, Caller
from qa.answer import NONE
from ui.access import client_address
from ui.callers import caller_in
from ui.http_errors import public_error
from ui.render import markdown_reply, markdown_text

logger = logging.getLogger(__name__)

TOOL = "ask_documents"
LIST_TOOL = "list_collections"
DESCRIPTION = (
    "Answer a question from the indexed documents. The result's `band` says which kind of reply it is: "
    '"sure": a short exact answer, then the passage it came from (the answer in bold) and the '
    'document\'s name; "unsure": "I\'m not sure. The closest the documents come is:" with the '
    "candidate, then the closest sentence (the candidate in bold) and its document, for a person to "
    'judge; "none": "The document doesn\'t say." with the closest passages.'
)
ASK = types.Tool(
    name=TOOL,
    description=DESCRIPTION,
    inputSchema={
        "type": "object",
        "properties": {
            "question": {"type": "string", "description": "The question, in plain words."},
            "collection": {
                "type": "string",
                "description": f"The collection to answer from (default: `default`); {LIST_TOOL} "
                "names those you may use.",
            },
        },
        "required": ["question"],
        "additionalProperties": False,
    },
    outputSchema={
        "type": "object",
        "properties": {
            "band": {"type": "string", "enum": ["sure", "unsure", "none"]},
            "answer": {"type": ["string", "null"], "description": "The answer or candidate; null for none."},
            "document": {"type": ["string", "null"], "description": "The document holding it."},
            "sentence": {"type": ["string", "null"], "description": "Its sentence in that document."},
            "score": {"type": "number", "description": "The probability that the answer is right."},
            "collection": {"type": "string", "description": "The collection that answered (when named)."},
        },
        "required": ["band", "answer", "document", "sentence", "score"],
    },
)
LIST = types.Tool(
    name=LIST_TOOL,
    description=f"The document collections you may ask in ({TOOL}'s `collection`): each one's name, "
    "its owner, whether you may add documents to it, and how many documents it holds.",
    inputSchema={"type": "object", "properties": {}, "additionalProperties": False},
    outputSchema={
        "type": "object",
        "properties": {
            "collections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "owner": {"type": ["string", "null"], "description": "null: the operator's."},
                        "access": {"type": "string", "enum": ["private", "read", "write"]},
                        "writable": {"type": "boolean"},
                        "documents": {"type": "integer"},
                    },
                    "required": ["name", "owner", "access", "writable", "documents"],
                },
            }
        },
        "required": ["collections"],
    },
)


def tool_result(answer: Answer, *, named: bool = False) -> tuple[list[types.TextContent], dict[str, Any]]:
    """The reply as Markdown (a "not sure" one worded as a hedge) and as structured content with its
    band (and the collection that answered, when the call `named` one), for agents that read either."""
    evidence = answer.evidence if answer.band != NONE else None
    structured = {
        "band": answer.band,
        "answer": answer.text,
        "document": evidence.document if evidence else None,
        "sentence": answer.evidence_sentence if evidence else None,
        "score": answer.score,
        "alternatives": [  # a "not sure" reply's runner-up, from another sentence
            {"answer": a.text, "document": a.document, "sentence": a.sentence, "score": a.score}
            for a in answer.alternatives
        ],
    }
    if named:
        structured["collection"] = answer.collection
    return [types.TextContent(type="text", text=markdown_reply(answer))], structured


def collections_result(
    assistant: Assistant, caller: Caller
) -> tuple[list[types.TextContent], dict[str, Any]]:
    """The collections `caller` may read, as a Markdown list and as structured content."""
    infos = assistant.collections(caller=caller)
    found = [
        {
            "name": c.name,
            "owner": c.owner,
            "access": c.access,
            "writable": c.writable,
            "documents": c.documents,
        }
        for c in infos
    ]
    lines = [
        f"- {markdown_text(c.name)}: {c.documents} document{'s' * (c.documents != 1)}"
        f"{'' if c.writable else ', read-only'}"
        for c in infos
    ]
    text = "\n".join(lines) if lines else "No collection you may use."
    return [types.TextContent(type="text", text=text)], {"collections": found}


def security(allowed: list[str] | None) -> TransportSecuritySettings:
    """The SDK's rebinding protection for the served host names, on any port (None: off, as when
    QA_ALLOWED_HOSTS is `*`)."""
    if allowed is None:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = [f"[{name}]" if ":" in name else name for name in allowed]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*hosts, *(f"{h}:*" for h in hosts)],
        allowed_origins=[f"{s}://{h}{p}" for s in ("http", "https") for h in hosts for p in ("", ":*")],
    )


def _tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], isError=True)


def _caller(server: Server) -> Caller:
    """The caller of the HTTP request that carried this call (noted by the server in its scope)."""
    try:
        request = server.request_context.request
    except LookupError:  # not within a request (never, through the served endpoints)
        return Caller.LOCAL
    return caller_in(getattr(request, "scope", None))


def mcp_server(assistant: Assistant) -> Server:
    server: Server = Server("doc-qa")

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return [ASK, LIST]

    @server.call_tool()
    async def call_tool(name: str, arguments: dict[str, Any]) -> Any:
        if name not in (TOOL, LIST_TOOL):
            return _tool_error(
                f"unknown tool {name[:100]!r}; this server has two tools, {TOOL}(question, collection) "
                f"and {LIST_TOOL}()"
            )
        caller = _caller(server)
        try:
            if name == LIST_TOOL:
                return await anyio.to_thread.run_sync(lambda: collections_result(assistant, caller))
            question: Any = arguments.get("question")  # checked by the assistant: a str
            collection: Any = arguments.get("collection")
            answer = await anyio.to_thread.run_sync(
                lambda: assistant.ask(question, collection=collection, caller=caller)
            )
        except Exception as exc:
            return _tool_error(public_error(exc)[1])
        return tool_result(answer, named=collection is not None)

    return server


def mcp_app(assistant: Assistant, allowed_hosts: list[str] | None) -> Starlette:
    """The MCP endpoints as an app to mount at `/` (its routes: /mcp, /sse, /messages/); run its
    `router.lifespan_context` for the streamable HTTP sessions."""
    server = mcp_server(assistant)
    settings = security(allowed_hosts)
    sessions = StreamableHTTPSessionManager(app=server, stateless=True, security_settings=settings)
    sse = SseServerTransport("/messages/", security_settings=settings)

    async def streamable_http(scope: Scope, receive: Receive, send: Send) -> None:
        await sessions.handle_request(scope, receive, send)

    class SseStream:
        """A plain ASGI app: the stream is the whole response, so nothing is sent once it closes (an
        endpoint returning a Response() after it logged an AssertionError per closed stream)."""

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async with sse.connect_sse(scope, receive, send) as (read, write):
                await server.run(read, write, server.create_initialization_options())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with sessions.run():
            yield

    return Starlette(
        routes=[
            Route("/sse", endpoint=SseStream(), methods=["GET"]),
            Mount("/messages/", app=sse.handle_post_message),
            Mount("/mcp", app=streamable_http),
        ],
        middleware=[Middleware(JsonRpcGuard)],
        lifespan=lifespan,
    )


# ---- messages the SDK would answer with a 500 and a traceback, or with pydantic's internals -----------

MAX_DEPTH = 64  # nesting of a message's JSON; an MCP call needs a handful
MAX_ID_CHARS = 200
INVALID = (
    'not a JSON-RPC 2.0 message: send one object with jsonrpc "2.0", an id (a string or an integer '
    f"of at most {MAX_ID_CHARS} characters), a method and params as an object"
)


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def check_message(body: bytes) -> tuple[int, str] | None:
    """(JSON-RPC error code, one line) for a body the MCP endpoints should not try to read, else None:
    not JSON, a number past Python's 4,300 digits, nesting past MAX_DEPTH, not a JSON-RPC message."""
    try:
        message = json.loads(body)
    except RecursionError:
        return -32700, f"the JSON nests too deep; at most {MAX_DEPTH} levels"
    except ValueError:
        return -32700, "not JSON (or a number over 4,300 digits); send a JSON-RPC 2.0 message"
    if _too_deep(message):
        return -32600, f"the message nests too deep; at most {MAX_DEPTH} levels"
    if isinstance(message, dict):
        ident = message.get("id", "")
        if not isinstance(ident, int | str) or isinstance(ident, bool) or len(str(ident)) > MAX_ID_CHARS:
            return -32600, INVALID
    try:
        types.JSONRPCMessage.model_validate(message)
    except ValidationError:
        return -32600, INVALID
    return None


class JsonRpcGuard:
    """ASGI middleware for the MCP endpoints: a POST body the SDK would fail on (a traceback and a
    500) or answer with pydantic's internals gets a 400 JSON-RPC error of one line, and one log line."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:  # bounded: the server's BodyLimit stands in front
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        problem = check_message(body)
        if problem is not None:
            code, text = problem
            logger.warning("refused an MCP message from %s: %s", client_address(scope), text)
            payload = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": text}})
            response = Response(payload, status_code=400, media_type="application/json")
            await response(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
