"""The assistant as an OpenAI-compatible chat model, `qa`: `GET /v1/models`, `GET /v1/models/qa`,
`POST /v1/chat/completions` (streaming included), with the request and answer models of
`fastapi-openai-compat` (the library under hayhooks' OpenAI router).

The last user message is the question; the user and assistant messages before it are the conversation,
for follow-ups. The reply's `content` is `ui.render.markdown_reply`: a "not sure" reply opens with the
hedge ("I'm not sure. The closest the documents come is: “...”"), never with the bare candidate, so a
client that reads only `content` cannot take it for a sure answer. A streamed answer opens at once
(the assistant's role), sends the answer line (or the hedge) as soon as it is known, then its source
passage (or the closest sentence), then `data: [DONE]`, as OpenAI clients and proxies expect.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi_openai_compat.chat_completions import (
    ChatCompletion,
    ChatRequest,
    ModelObject,
    ModelsResponse,
    chat_completion_response,
    create_sse_data_msg,
)

from qa import Assistant, BadInputError
from ui.history import clean_history
from ui.http_errors import public_error
from ui.render import markdown_reply

MODEL = "qa"  # the model name OpenAI-compatible clients ask for
DONE = "data: [DONE]\n\n"


def conversation(messages: Any) -> tuple[str, list[dict]]:
    """(question, history) from OpenAI chat messages: the last user message is the question; the
    user and assistant messages before it are the conversation (system messages are left out)."""
    history = clean_history(messages)
    if not history or history[-1]["role"] != "user":
        raise BadInputError("the last message must be the user's question (role 'user', text content)")
    return history[-1]["content"], history[:-1]


def _model(name: str) -> ModelObject:
    if name != MODEL:
        raise HTTPException(404, f"unknown model {name[:100]!r}; this server serves one model, {MODEL!r}")
    return ModelObject(id=MODEL, name=MODEL, object="model", created=int(time.time()), owned_by="doc-qa")


def openai_router(assistant: Assistant) -> APIRouter:
    router = APIRouter(tags=["openai"])

    @router.get("/v1/models", response_model=ModelsResponse)
    def models() -> ModelsResponse:
        """The one model this server serves, `qa`."""
        return ModelsResponse(data=[_model(MODEL)], object="list")

    @router.get("/v1/models/{model}", response_model=ModelObject)
    def model(model: str) -> ModelObject:
        return _model(model)

    @router.post("/v1/chat/completions", response_model=ChatCompletion)
    async def chat_completions(request: ChatRequest) -> Any:
        """Answer the last user message from the documents (`model: "qa"`); `stream: true` sends
        server-sent events: the answer line, then its source, then `data: [DONE]`."""
        _model(request.model)
        question, history = conversation(request.messages)
        question = assistant.check_question(question)  # refused before a stream starts
        reply_id = f"{MODEL}-{uuid.uuid4()}"
        if not request.stream:
            answer = await run_in_threadpool(assistant.ask, question, history)
            return chat_completion_response(markdown_reply(answer), reply_id, MODEL)
        events = _stream(assistant, question, history, reply_id)
        return StreamingResponse(events, media_type="text/event-stream")

    return router


async def _stream(
    assistant: Assistant, question: str, history: list[dict], reply_id: str
) -> AsyncIterator[str]:
    created = int(time.time())
    yield create_sse_data_msg(reply_id, MODEL, "", created=created)  # the stream is open: the role
    try:
        answer = await run_in_threadpool(assistant.ask, question, history)
    except Exception as exc:  # the headers are sent: the error goes in the stream, as OpenAI's do
        status, message = public_error(exc)
        error = {"message": message, "type": "server_error", "code": status}
        yield f"data: {json.dumps({'error': error})}\n\n"
        yield DONE
        return
    for line in markdown_reply(answer).splitlines(keepends=True):  # the answer line first, then its source
        yield create_sse_data_msg(reply_id, MODEL, line, created=created)
    yield create_sse_data_msg(reply_id, MODEL, "", finish_reason="stop", created=created)
    yield DONE
