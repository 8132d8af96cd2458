"""The assistant as one MCP tool, `ask_documents(question)`, over streamable HTTP (`/mcp`) and SSE
(`/sse`), on the MCP SDK's low-level server.

Built on the SDK directly (not hayhooks' MCP app) for two things hayhooks does not offer: the SDK's
own DNS rebinding protection (`TransportSecuritySettings`: Host and Origin checked against the served
host names), and tool errors that are the assistant's one line ("the question is empty; ...")
instead of "General unhandled error in call_tool ..." with Python's internals.
"""

from __future__ import annotations

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
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from qa import Assistant
from ui.http_errors import public_error
from ui.render import markdown_reply

logger = logging.getLogger(__name__)

TOOL = "ask_documents"
DESCRIPTION = (
    "Answer a question from the indexed documents: a short exact answer, then the passage it came "
    "from (the answer in bold) and the document's name; or \"The document doesn't say.\" with the "
    "closest passages."
)
ASK = types.Tool(
    name=TOOL,
    description=DESCRIPTION,
    inputSchema={
        "type": "object",
        "properties": {"question": {"type": "string", "description": "The question, in plain words."}},
        "required": ["question"],
        "additionalProperties": False,
    },
)


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


def mcp_server(assistant: Assistant) -> Server:
    server: Server = Server("doc-qa")

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return [ASK]

    @server.call_tool()
    async def call_tool(name: str, arguments: dict[str, Any]) -> Any:
        if name != TOOL:
            return _tool_error(f"unknown tool {name!r}; this server has one tool, {TOOL}(question)")
        try:
            question: Any = arguments.get("question")  # checked by the assistant: a str
            answer = await anyio.to_thread.run_sync(lambda: assistant.ask(question))
        except Exception as exc:
            return _tool_error(public_error(exc)[1])
        return [types.TextContent(type="text", text=markdown_reply(answer))]

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

    async def handle_sse(request: Request) -> Response:
        async with sse.connect_sse(request.scope, request.receive, request._send) as (read, write):
            await server.run(read, write, server.create_initialization_options())
        return Response()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with sessions.run():
            yield

    return Starlette(
        routes=[
            Route("/sse", endpoint=handle_sse),
            Mount("/messages/", app=sse.handle_post_message),
            Mount("/mcp", app=streamable_http),
        ],
        lifespan=lifespan,
    )
