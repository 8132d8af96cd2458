"""The assistant as OpenAI-compatible chat models: `GET /v1/models`, `GET /v1/models/{model}`,
`POST /v1/chat/completions` (streaming included), with the request and answer models of
`fastapi-openai-compat` (the library under hayhooks' OpenAI router).

Each model is a collection: `qa` is the default collection (as before collections existed), any other
name the collection of that name. `GET /v1/models` lists those the caller may read (the assistant
says which); a model the caller may not read is answered as a missing one (404, the same body).

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
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
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

from qa import Assistant, BadInputError, Caller, CollectionNotFoundError
from qa.rights import check_name
from ui.callers import caller_in
from ui.history import clean_history
from ui.http_errors import public_error
from ui.render import markdown_reply

MODEL = "qa"  # the model name OpenAI-compatible clients ask for: the default collection
DONE = "data: [DONE]\n\n"


def conversation(messages: Any) -> tuple[str, list[dict]]:
    """(question, history) from OpenAI chat messages: the last user message is the question; the
    user and assistant messages before it are the conversation (system messages are left out)."""
    history = clean_history(messages)
    if not history or history[-1]["role"] != "user":
        raise BadInputError("the last message must be the user's question (role 'user', text content)")
    return history[-1]["content"], history[:-1]


def collection_of(assistant: Assistant, model: str) -> str:
    """The collection a model names: `qa` is the assistant's default collection, any other name itself."""
    return assistant.collection if model == MODEL else model


def _object(model: str) -> ModelObject:
    return ModelObject(id=model, name=model, object="model", created=int(time.time()), owned_by="doc-qa")


def model_names(assistant: Assistant, caller: Caller) -> list[str]:
    """The models `caller` may use: `qa` when it may read the default collection, then each other
    collection it may read, by name (the assistant lists only those)."""
    readable = [info.name for info in assistant.collections(caller=caller)]
    first = [MODEL] if assistant.collection in readable else []
    return first + sorted(n for n in readable if n not in (assistant.collection, MODEL))


def _model(assistant: Assistant, caller: Caller, model: Any) -> str:
    """The collection `model` names, when `caller` may read it; else the assistant's answer for a
    collection that is missing, whether it is or is only not the caller's to read."""
    if not isinstance(model, str):
        raise BadInputError("model must be a string: `qa`, or a collection's name (GET /v1/models)")
    collection = collection_of(assistant, model)
    names = model_names(assistant, caller)
    if model in names or (model != MODEL and collection == assistant.collection and MODEL in names):
        return collection
    raise unknown_model(assistant, caller, model, names)


def unknown_model(
    assistant: Assistant, caller: Caller, model: str, names: list[str] | None = None
) -> CollectionNotFoundError:
    """The refusal of a model `caller` may not use: the same whether its collection is missing or
    only not the caller's to read (it depends on the caller's own models only)."""
    names = model_names(assistant, caller) if names is None else names
    shown = model[:100]
    if names == [MODEL]:
        return CollectionNotFoundError(f"unknown model {shown!r}; this server serves one model, {MODEL!r}")
    return CollectionNotFoundError(f"unknown model {shown!r}; GET /v1/models lists the models you may use")


def _named(assistant: Assistant, caller: Caller, model: str) -> str:
    """The collection `model` names, if that can be a collection's name (else the refusal)."""
    collection = collection_of(assistant, model)
    try:
        return check_name(collection)
    except BadInputError:
        raise unknown_model(assistant, caller, model) from None


def openai_router(assistant: Assistant) -> APIRouter:
    router = APIRouter(tags=["openai"])

    @router.get("/v1/models", response_model=ModelsResponse)
    def models(request: Request) -> ModelsResponse:
        """The models you may use: `qa` (the default collection) and each other collection you may
        read, by its name."""
        names = model_names(assistant, caller_in(request.scope))
        return ModelsResponse(data=[_object(name) for name in names], object="list")

    @router.get("/v1/models/{model}", response_model=ModelObject)
    def model(model: str, request: Request) -> ModelObject:
        _model(assistant, caller_in(request.scope), model)
        return _object(model)

    @router.post("/v1/chat/completions", response_model=ChatCompletion)
    async def chat_completions(body: ChatRequest, request: Request) -> Any:
        """Answer the last user message from the documents of the collection `model` names (`qa`:
        the default one); `stream: true` sends server-sent events: the answer line, then its source,
        then `data: [DONE]`."""
        caller = caller_in(request.scope)
        collection = await run_in_threadpool(_named, assistant, caller, body.model)
        question, history = conversation(body.messages)
        question = assistant.check_question(question)  # refused before a stream starts
        reply_id = f"{MODEL}-{uuid.uuid4()}"

        def ask() -> Any:
            try:
                return assistant.ask(question, history, collection=collection, caller=caller)
            except CollectionNotFoundError:
                raise unknown_model(assistant, caller, body.model) from None

        if not body.stream:
            answer = await run_in_threadpool(ask)
            return chat_completion_response(markdown_reply(answer), reply_id, body.model)
        # a model the caller may not use is refused before the stream opens (a 404, not an event)
        await run_in_threadpool(_model, assistant, caller, body.model)
        events = _stream(ask, body.model, reply_id)
        return StreamingResponse(events, media_type="text/event-stream")

    return router


async def _stream(ask: Callable[[], Any], model: str, reply_id: str) -> AsyncIterator[str]:
    created = int(time.time())
    yield create_sse_data_msg(reply_id, model, "", created=created)  # the stream is open: the role
    try:
        answer = await run_in_threadpool(ask)
    except Exception as exc:  # the headers are sent: the error goes in the stream, as OpenAI's do
        status, message = public_error(exc)
        error = {"message": message, "type": "server_error", "code": status}
        yield f"data: {json.dumps({'error': error})}\n\n"
        yield DONE
        return
    for line in markdown_reply(answer).splitlines(keepends=True):  # the answer line first, then its source
        yield create_sse_data_msg(reply_id, model, line, created=created)
    yield create_sse_data_msg(reply_id, model, "", finish_reason="stop", created=created)
    yield DONE
