"""`qa serve`: the assistant for other programs, the way the Haystack ecosystem serves pipelines.

One FastAPI app, one `Assistant` (models loaded once), deployed as hayhooks pipeline wrappers:

- REST: `POST /ask` (the `qa ask --json` object), `GET /documents`, `GET /health`; OpenAPI at `/docs`.
- OpenAI-compatible: `GET /v1/models` lists `qa`; `POST /v1/chat/completions` with `model: "qa"` answers
  the last user message, the earlier ones being the conversation (hayhooks' OpenAI router, streaming
  included).
- MCP: the tool `ask_documents(question)` (hayhooks' MCP server), over streamable HTTP at `/mcp` and
  SSE at `/sse`.
- Optionally the chat UI at `/chat` (`qa serve --chat`), so a deployment runs one process.

Only these wrappers are served: hayhooks' deploy and undeploy endpoints (which run uploaded Python) and
its MCP deploy tools are left out. Bad input is a 4xx with `{"error": "..."}`, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from hayhooks import BasePipelineWrapper
from hayhooks.server.pipelines.models import create_pipeline_metadata
from hayhooks.server.pipelines.registry import ImmutablePipelineRegistry, PipelineRegistration
from hayhooks.server.routers import create_openai_router
from hayhooks.server.utils.module_loader import create_pipeline_wrapper_instance
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from qa import Assistant, BadInputError
from qa.errors import QAError
from ui.history import clean_history
from ui.limits import BodyLimit
from ui.render import markdown_reply

logger = logging.getLogger(__name__)

MODEL = "qa"  # the model name OpenAI-compatible clients ask for
TOOL = "ask_documents"  # the MCP tool
MAX_TOP_K = 50
# of hayhooks' OpenAI routes, the ones the assistant implements (not /files, which would accept and
# drop uploads, nor /responses)
OPENAI_PATHS = ("/v1/models", "/v1/models/{model}", "/v1/chat/completions")


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The question, at most `max_question_chars` characters.")
    history: list[Message] | None = Field(
        default=None, description="The conversation so far, oldest first, for follow-up questions."
    )
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K, description="Passages to read.")


class SourceOut(BaseModel):
    document: str
    text: str
    score: float
    answer_start: int | None = Field(description="Offset of the answer in `text`, when it holds it.")
    answer_end: int | None


class AskResponse(BaseModel):
    """The `qa ask --json` object."""

    question: str
    answer: str | None = Field(description="The answer, or null when the documents don't say.")
    no_answer: bool
    score: float = Field(description="The probability that the answer is right.")
    sources: list[SourceOut]
    reader: str
    timings_ms: dict[str, float]


class ErrorOut(BaseModel):
    error: str = Field(description="What was wrong with the request, and what to do.")


class DocumentOut(BaseModel):
    name: str
    passages: int


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class HealthOut(BaseModel):
    status: Literal["ok"]
    documents: int
    reader: str


def conversation(messages: Any) -> tuple[str, list[dict]]:
    """(question, history) from OpenAI chat messages: the last user message is the question; the
    user and assistant messages before it are the conversation (system messages are left out)."""
    history = clean_history(messages)
    if not history or history[-1]["role"] != "user":
        raise BadInputError("the last message must be the user's question (role 'user', text content)")
    return history[-1]["content"], history[:-1]


class ChatPipeline(BasePipelineWrapper):
    """The assistant as an OpenAI-compatible chat model (`model: "qa"`)."""

    skip_mcp = True

    def __init__(self, assistant: Assistant) -> None:
        super().__init__()
        self.assistant = assistant

    def setup(self) -> None:
        self.assistant.warm_up()

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> str | Generator[str]:
        try:
            question, history = conversation(messages)
            reply = markdown_reply(self.assistant.ask(question, history))
        except BadInputError as exc:  # hayhooks answers other exceptions with a 500
            raise HTTPException(400, str(exc)) from exc
        if body.get("stream"):  # the answer line first, then its source (a generator, as hayhooks expects)
            return (line for line in reply.splitlines(keepends=True))
        return reply


class AskDocuments(BasePipelineWrapper):
    """The assistant as an MCP tool."""

    def __init__(self, assistant: Assistant) -> None:
        super().__init__()
        self.assistant = assistant

    def setup(self) -> None:
        self.assistant.warm_up()

    def run_api(self, question: str) -> str:
        """Answer a question from the indexed documents: a short exact answer, then the passage it
        came from (the answer in bold) and the document's name; or "The document doesn't say." with
        the closest passages.

        Args:
            question: The question, in plain words.
        """
        return markdown_reply(self.assistant.ask(question))


def _deployed(wrapper: BasePipelineWrapper) -> BasePipelineWrapper:
    """The wrapper set up and flagged by hayhooks, as a deployment from a pipelines folder is."""
    return create_pipeline_wrapper_instance(SimpleNamespace(PipelineWrapper=lambda: wrapper))  # type: ignore[arg-type]


def _registry(name: str, wrapper: BasePipelineWrapper) -> ImmutablePipelineRegistry:
    deployed = _deployed(wrapper)
    return ImmutablePipelineRegistry(
        [PipelineRegistration(name, deployed, create_pipeline_metadata(name, deployed))]
    )


def _trim(routes: list[Any], paths: set[str]) -> None:
    """Keep in `routes` only those that serve one of `paths`. An included router (FastAPI keeps them
    as such) is trimmed the same way, and stays if any of its routes is left."""
    kept = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            _trim(inner.routes, paths)
            if inner.routes:
                kept.append(route)
        elif getattr(route, "path", None) in paths:
            kept.append(route)
    routes[:] = kept


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    """One line from pydantic's errors: where, and what was expected."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "the body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) + " (see /docs for the request format)"


def create_app(assistant: Assistant, *, chat: bool = False, auth: list[tuple[str, str]] | None = None,
               api_keys: list[str] | None = None) -> FastAPI:  # fmt: skip
    """The server's app; `chat` mounts the Gradio chat at /chat (with `auth` logins); `api_keys`
    makes every API request but /health carry `Authorization: Bearer <key>`."""
    chat_wrapper = ChatPipeline(assistant)
    chat_registry = _registry(MODEL, chat_wrapper)
    tool_registry = _registry(TOOL, AskDocuments(assistant))

    from hayhooks.server.utils.mcp_utils import create_mcp_server, create_starlette_app

    mcp_app = create_starlette_app(create_mcp_server("doc-qa", registry=tool_registry))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp_app.router.lifespan_context(mcp_app):
            yield

    app = FastAPI(
        title="Document question answering",
        description="Exact answers from your documents, with the passage they came from. "
        "REST (/ask), OpenAI-compatible chat (/v1/chat/completions, model 'qa') and MCP (/mcp).",
        lifespan=lifespan,
        middleware=[Middleware(BodyLimit, exempt=("/chat/gradio_api/upload", "/chat/upload"))],
        responses={422: {"model": ErrorOut}, 413: {"model": ErrorOut}},
    )
    keys = set(api_keys or ())

    @app.middleware("http")
    async def require_key(request: Request, call_next: Any) -> Any:
        path = request.url.path
        if keys and path != "/health" and not (chat and path.startswith("/chat/")):
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or key not in keys:
                return _error(
                    401, "send an API key from the server's QA_API_KEYS as 'Authorization: Bearer KEY'"
                )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc))

    @app.exception_handler(QAError)
    async def refused(request: Request, exc: QAError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.post("/ask", response_model=AskResponse, responses={400: {"model": ErrorOut}}, tags=["qa"])
    def ask(request: AskRequest) -> dict:
        """Answer a question from the indexed documents, as `qa ask --json` does."""
        history = [m.model_dump() for m in request.history or []]
        return assistant.ask(request.question, history, top_k=request.top_k).to_dict()

    @app.get("/documents", response_model=DocumentsOut, tags=["qa"])
    def documents() -> dict:
        """The indexed documents and how many passages each has."""
        found = assistant.documents()
        return {"documents": [{"name": n, "passages": c} for n, c in sorted(found.items())]}

    @app.get("/health", response_model=HealthOut, tags=["qa"])
    def health() -> dict:
        """200 once the models are loaded: for load balancers."""
        return {"status": "ok", "documents": len(assistant.documents()), "reader": assistant.reader}

    openai = create_openai_router(chat_registry)
    _trim(openai.routes, set(OPENAI_PATHS))
    app.include_router(openai)
    if chat:
        import gradio as gr

        from ui.app import build_app

        gr.mount_gradio_app(app, build_app(assistant), path="/chat", auth=auth)
    app.mount("/", mcp_app)  # last: its /mcp and /sse routes; everything else above wins
    return app


def serve(app: FastAPI, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning")
