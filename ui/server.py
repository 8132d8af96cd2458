"""`qa serve`: the assistant for other programs, in one long-lived process.

One FastAPI app, one `Assistant` (models loaded once, before it listens):

- REST: `POST /ask` (the `qa ask --json` object; `collection` picks the collection),
  `GET /documents?collection=NAME`, `GET|HEAD /health`; OpenAPI at `/docs` (Swagger UI served from the
  package `fastapi-offline`: it works offline).
- OpenAI-compatible: `GET /v1/models` lists `qa` (the default collection) and the other collections
  the caller may read; `POST /v1/chat/completions` with `model: "qa"` (or a collection's name) answers
  the last user message, the earlier ones being the conversation, streamed on request
  (`ui/openai_chat.py`, on the models of `fastapi-openai-compat`, the library under hayhooks' router).
- MCP: the tools `ask_documents(question, collection?)` and `list_collections()` over streamable HTTP
  at `/mcp` and SSE at `/sse` (`ui/mcp_tool.py`, on the MCP SDK, its DNS rebinding protection on).
- Optionally the chat UI at `/chat/` (`qa serve --chat`), so a deployment runs one process; `GET /`
  then redirects there, else it answers a short JSON index of the routes.

Who asks is the request's API key (`ui/callers.py`): a user's key is that user, a QA_API_KEYS key
the shared service; with no credential configured, the operator on this machine. What each may read
is the assistant's to decide: a collection the caller may not read is answered as a missing one
(404, the same body), a write to one shared read-only is a 403.

Nothing that deploys or runs code sent over HTTP is served. In front of every route: the Host check
against DNS rebinding and the login / API key throttle (`ui/access.py`), the body cap (`ui/limits.py`).
Bad input is a 4xx with `{"error": "..."}` that says what to do, an unreachable database a 503, never
a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from qa import Assistant, Caller
from qa.errors import CollectionNotFoundError, QAError
from ui.access import Failures, HostCheck, LoginThrottle, client_address, served_hosts, too_many
from ui.callers import SCOPE_KEY, Credentials, bearer, caller_in
from ui.http_errors import error_response, public_error
from ui.limits import BodyLimit
from ui.mcp_tool import TOOL, mcp_app
from ui.openai_chat import MODEL, conversation, openai_router

logger = logging.getLogger(__name__)

__all__ = ["MODEL", "TOOL", "conversation", "create_app", "serve"]

MAX_TOP_K = 50
OPEN_PATHS = ("/health",)  # answered without an API key (load balancers)


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The question, at most `max_question_chars` characters.")
    history: list[Message] | None = Field(
        default=None, description="The conversation so far, oldest first, for follow-up questions."
    )
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K, description="Passages to read.")
    collection: str | None = Field(
        default=None,
        description="The collection to answer from (default: `default`); one you may not read is "
        "answered as a missing one, 404.",
    )


class SourceOut(BaseModel):
    document: str
    text: str
    score: float
    answer_start: int | None = Field(description="Offset of the answer in `text`, when it holds it.")
    answer_end: int | None
    location: str | None = Field(
        default=None, description="Where in the document: page 3, slide 2, sheet and row, chapter, section."
    )


class AlternativeOut(BaseModel):
    text: str = Field(description="The runner-up candidate.")
    sentence: str = Field(description="Its sentence, the evidence a person reads.")
    answer_start: int = Field(description="Offset of the candidate in `sentence`.")
    answer_end: int
    document: str
    score: float = Field(description="The probability that it is right.")
    location: str | None = None


class AskResponse(BaseModel):
    """The `qa ask --json` object."""

    question: str
    answer: str | None = Field(
        description="The answer (band sure), the best candidate (band unsure), or null (band none)."
    )
    no_answer: bool = Field(description="True only when the documents don't say (band none).")
    band: Literal["sure", "unsure", "none"] = Field(
        description='"sure": the answer, marked in its source; "unsure": not sure, the candidate marked '
        'in the closest passage for a person to judge; "none": the documents don\'t say.'
    )
    score: float = Field(description="The probability that the answer is right.")
    sources: list[SourceOut]
    reader: str
    timings_ms: dict[str, float]
    engine: str = Field("none", description="What ran the models: onnx | torch-bf16 | torch-fp32.")
    collection: str = Field("default", description="The collection that answered.")
    alternatives: list[AlternativeOut] = Field(
        default_factory=list,
        description="Band unsure only: the next candidate from another sentence, when at least a tenth "
        "as likely as `answer`, so that a person torn between two readings sees both.",
    )


class ErrorOut(BaseModel):
    error: str = Field(description="What was wrong with the request, and what to do.")


class DocumentOut(BaseModel):
    name: str
    passages: int


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class HealthOut(BaseModel):
    status: Literal["ok"]
    documents: int = Field(
        description="The default collection's documents when it is shared with everyone, else 0 "
        "(this route asks for no key: it tells no one about what they may not read)."
    )
    reader: str


class UnavailableOut(BaseModel):
    status: Literal["unavailable"]
    error: str = Field(description="What is down; the server answers again once it is back.")


def _validation_message(exc: RequestValidationError) -> str:
    """One line from pydantic's errors: where, and what was expected."""
    parts = []
    for err in exc.errors()[:3]:
        if err.get("type") == "json_invalid":
            return "the body is not valid JSON; send a JSON object (see /docs for the request format)"
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "the body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) + " (see /docs for the request format)"


def create_app(assistant: Assistant, *, chat: bool = False, auth: list[tuple[str, str]] | None = None,
               api_keys: list[str] | None = None, host: str = "127.0.0.1",
               open_chat: bool = False) -> FastAPI:  # fmt: skip
    """The server's app; `chat` mounts the Gradio chat at /chat/ (with `auth` logins, and the user
    store's); `api_keys` makes every API request but /health carry `Authorization: Bearer <key>`;
    `host` (the address listened on) is one of the host names requests may name, with the loopback
    ones and QA_ALLOWED_HOSTS's.

    Whenever a credential is configured (`api_keys`, `auth`, or users in the assistant's user store),
    every route needs one: the chat's routes a login, else an API key, unless `open_chat`
    (`--no-login`) serves the chat open on purpose; the API's routes an API key, a QA_API_KEYS one or
    a user's (with logins only, the API is closed: logins are for people, in the chat)."""
    allowed = served_hosts(host)
    assistant.warm_up()  # the models and the index load once, before the server listens
    credentials = Credentials(assistant, logins=auth, keys=api_keys)
    mcp = mcp_app(assistant, allowed)
    failures = Failures()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.router.lifespan_context(mcp):
            yield

    uploads = ("/chat/gradio_api/upload", "/chat/upload")
    app = FastAPIOffline(
        title="Document question answering",
        description="Exact answers from your documents, with the passage they came from. "
        "REST (/ask), OpenAI-compatible chat (/v1/chat/completions, model 'qa') and MCP (/mcp).",
        lifespan=lifespan,
        # the outermost first: a request for another host name is refused before anything is read
        middleware=[
            Middleware(HostCheck, allowed=allowed),
            Middleware(LoginThrottle, failures=failures),
            Middleware(BodyLimit, exempt=uploads),
        ],
        responses={422: {"model": ErrorOut}, 413: {"model": ErrorOut}},
    )
    keys = list(api_keys or ())
    redirects = ("/", "/chat") if chat else ()
    chat_login = credentials.chat_login() if chat else None  # QA_AUTH or the store's users

    def needs_key(path: str) -> bool:
        if path in OPEN_PATHS or path in redirects:
            return False
        if chat and path.startswith("/chat/"):  # Gradio asks for the login itself
            return bool(keys) and chat_login is None and not open_chat
        return bool(keys or auth) or credentials.has_users()

    @app.middleware("http")
    async def require_key(request: Request, call_next: Any) -> Any:
        """Who asks, noted in the request's scope for every route (`ui.callers`): the caller of its
        API key, or the operator where no credential is configured."""
        try:
            needed = needs_key(request.url.path)
        except QAError as exc:  # the user store is unreachable
            return error_response(*public_error(exc))
        if not needed:
            request.scope[SCOPE_KEY] = Caller.LOCAL
            return await call_next(request)
        if not keys and not credentials.has_users():
            return error_response(
                401, "this server's API needs an API key: its operator sets QA_API_KEYS or gives users "
                "keys (`qa users key NAME`), and you send 'Authorization: Bearer KEY' (its logins are "
                "for the chat at /chat/)",
            )  # fmt: skip
        client = client_address(request.scope)
        wait = failures.wait(client)
        if wait > 0:
            body, headers = too_many(wait, "API keys")
            return JSONResponse(body, 429, headers={k.decode(): v.decode() for k, v in headers})
        try:
            caller = credentials.caller_of_key(bearer(request.headers))
        except QAError as exc:
            return error_response(*public_error(exc))
        if caller is None:
            failures.failed(client)
            return error_response(
                401, "send an API key (your own from `qa users key NAME`, or one of the server's "
                "QA_API_KEYS) as 'Authorization: Bearer KEY'",
            )  # fmt: skip
        failures.succeeded(client)
        request.scope[SCOPE_KEY] = caller
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(QAError)
    async def refused(request: Request, exc: QAError) -> JSONResponse:
        return error_response(*public_error(exc))  # 400, or 503 while the database is unreachable

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers with this, then re-raises for the server's log: a bug, with its traceback
        return error_response(*public_error(exc))

    errors: dict[int | str, dict[str, Any]] = {status: {"model": ErrorOut} for status in (400, 404, 503)}

    @app.post("/ask", response_model=AskResponse, tags=["qa"], responses=errors)
    def ask(body: AskRequest, request: Request) -> dict:
        """Answer a question from the indexed documents of a collection (`default` unless `collection`
        names another), as `qa ask --json` does."""
        history = [m.model_dump() for m in body.history or []]
        answer = assistant.ask(
            body.question,
            history,
            top_k=body.top_k,
            collection=body.collection,
            caller=caller_in(request.scope),
        )
        return answer.to_dict()

    @app.get("/documents", response_model=DocumentsOut, tags=["qa"],
             responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}})  # fmt: skip
    def documents(
        request: Request,
        collection: str | None = Query(None, description="The collection to list (default: `default`)."),
    ) -> dict:
        """The documents of a collection and how many passages each has."""
        found = assistant.documents(collection=collection, caller=caller_in(request.scope))
        return {"documents": [{"name": n, "passages": c} for n, c in sorted(found.items())]}

    @app.head("/health", include_in_schema=False)
    @app.get("/health", response_model=HealthOut, tags=["qa"], responses={503: {"model": UnavailableOut}})
    def health() -> Any:
        """200 once the models are loaded and the documents can be read; 503 while the database is
        unreachable: for load balancers (GET or HEAD)."""
        try:
            count = len(assistant.documents(caller=Caller.SERVICE))  # what anyone may know
        except CollectionNotFoundError:
            count = 0
        except Exception as exc:
            status, message = public_error(exc)
            return JSONResponse({"status": "unavailable", "error": message}, status_code=max(status, 503))
        return {"status": "ok", "documents": count, "reader": assistant.reader}

    @app.get("/", include_in_schema=False)
    def index() -> Any:
        """The chat when it is served here; else what is served, for a person who opens the address."""
        if chat:
            return RedirectResponse("/chat/")
        return {
            "service": "document question answering",
            "docs": "/docs",
            "ask": "POST /ask",
            "openai": "POST /v1/chat/completions (model 'qa', or a collection's name; GET /v1/models)",
            "mcp": "/mcp (tools ask_documents, list_collections)",
            "health": "/health",
        }

    app.include_router(openai_router(assistant))
    if chat:
        from ui.app import mount_chat

        @app.get("/chat", include_in_schema=False)
        def chat_page() -> RedirectResponse:
            return RedirectResponse("/chat/")

        # with the chat's bounds on uploads; its callers: the login, else the API key, else the operator
        guarded = chat_login is not None or (bool(keys) and not open_chat)
        mount_chat(app, assistant, path="/chat", auth=chat_login, credentials=credentials, guarded=guarded)
    app.mount("/", mcp)  # last: its /mcp and /sse routes; everything else above wins
    return app


def server_config(app: FastAPI, host: str, port: int, trusted: list[str] | None = None) -> Any:
    """uvicorn's settings for `app`: `X-Forwarded-For` is believed only from the `trusted` proxies
    (QA_TRUSTED_PROXIES), never by default (uvicorn's default believes it from 127.0.0.1, so a client
    on this machine, or a proxy that passes the header on, could pick the address the login brake
    counts)."""
    import uvicorn

    return uvicorn.Config(
        app, host=host, port=port, log_level="warning",
        proxy_headers=bool(trusted), forwarded_allow_ips=list(trusted or []),
    )  # fmt: skip


def serve(app: FastAPI, host: str, port: int, trusted: list[str] | None = None) -> None:
    import uvicorn

    uvicorn.Server(server_config(app, host, port, trusted)).run()
