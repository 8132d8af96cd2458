"""A cap on request bodies, so no request can make the server read (and parse) without bound.

Gradio bounds uploads itself (`max_file_size`, streamed to disk); every other request (a question, a
history, a queue message) is JSON that is read into memory whole, so it gets this cap: a body over
`max_bytes`, declared or streamed, is answered 413 with a JSON error saying what to do.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

logger = logging.getLogger(__name__)

Scope = dict[str, Any]

MAX_REQUEST_BYTES = 1024 * 1024  # a question, 20 history messages of 2,000 characters: ~100 KB


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, except on the `exempt` path prefixes."""

    def __init__(self, app: Any, max_bytes: int = MAX_REQUEST_BYTES, exempt: tuple[str, ...] = ()) -> None:
        self.app, self.max_bytes, self.exempt = app, max_bytes, exempt

    async def _refuse(self, send: Any) -> None:
        body = json.dumps(
            {"error": f"the request is over {self.max_bytes // 1024} KB; send a shorter question and history"}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        state = {"seen": 0, "over": False, "answered": False}

        async def limited() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > self.max_bytes:
                    state["over"] = True
                    return {"type": "http.disconnect"}  # the app stops reading
            return message

        async def guarded(message: dict) -> None:
            if not state["over"]:
                await send(message)
                state["answered"] = state["answered"] or message["type"] == "http.response.start"

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["answered"]:
            await self._refuse(send)


# ---- the Gradio app's own routes ------------------------------------------------------------------


async def _unknown_endpoint(request: Any, exc: Exception) -> Any:
    """An unknown `fn_index` (queue/join) or API name (/call/<name>) is the client's mistake: 404
    with what to do, not Gradio's 500. Any other KeyError stays a 500, without internals."""
    from fastapi.responses import JSONResponse

    path = request.url.path
    if "/queue/join" in path or "/call/" in path:
        message = "no such endpoint in this chat; its API is listed at gradio_api/info"
        return JSONResponse({"error": message, "detail": message}, status_code=404)
    return JSONResponse({"error": "the request failed; the server log says why"}, status_code=500)


async def _invalid_request(request: Any, exc: Any) -> Any:
    """A request body Gradio's routes cannot read: 422 with where and what, without pydantic's
    internals (the input echoed back, its documentation URL)."""
    from fastapi.responses import JSONResponse

    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "the body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    message = "; ".join(parts) + "; this chat's API is listed at gradio_api/info"
    return JSONResponse({"error": message, "detail": message}, status_code=422)


def gradio_app_kwargs(middleware: list[Any] | None = None) -> dict[str, Any]:
    """`app_kwargs` for Gradio's app, launched (`qa chat`) or mounted (`qa serve --chat`): the
    `middleware` and the handlers that turn its endpoint-lookup errors into 404s and its request
    validation errors into one line."""
    from fastapi.exceptions import RequestValidationError
    from gradio.route_utils import FnIndexInferError

    handlers = {
        FnIndexInferError: _unknown_endpoint,
        KeyError: _unknown_endpoint,
        RequestValidationError: _invalid_request,
    }
    return {"middleware": middleware or [], "exception_handlers": handlers}


# ---- the chat's queue: bounded, and no client may fill it -----------------------------------------

MAX_QUEUED = 64  # questions and index changes waiting or running, all clients together
MAX_QUEUED_PER_SESSION = 4  # one browser tab or gradio_client Client
MAX_QUEUED_PER_ADDRESS = 32  # every session from one address (people behind one NAT share it)


def _address(request: Any) -> str:
    client = getattr(request, "client", None)
    return str(client.host) if client else "unknown"


def bound_queue(
    blocks: Any, *, max_size: int = MAX_QUEUED, per_session: int = MAX_QUEUED_PER_SESSION,
    per_address: int = MAX_QUEUED_PER_ADDRESS,
) -> None:  # fmt: skip
    """Give the Gradio Blocks `blocks` a queue of at most `max_size` events (Gradio refuses the rest
    with 503), of which one session may hold `per_session` and one address `per_address`: a client
    over its share gets 429 "too many requests ...; try again in N s" (N from the time answers take),
    so one client's flood never makes another person wait behind it."""
    from fastapi import HTTPException

    blocks.queue(max_size=max_size)
    queue = blocks._queue
    push = queue.push
    logged: dict[str, float] = {}

    async def limited_push(body: Any, request: Any, username: str | None) -> Any:
        events = [e for q in queue.event_queue_per_concurrency_id.values() for e in q.queue]
        events += [e for job in queue.active_jobs if job for e in job]
        session, address = body.session_hash, _address(request)
        from_session = sum(1 for e in events if session and e.session_hash == session)
        from_address = sum(1 for e in events if _address(e.request) == address)
        if from_session >= per_session or from_address >= per_address:
            times = [t.avg_time for t in queue.process_time_per_fn.values() if t.avg_time]
            wait = max(1, min(60, math.ceil(max(times, default=1.0) * max(from_session, 1))))
            who = "session" if from_session >= per_session else "address"
            if time.monotonic() - logged.get(address, -60.0) >= 60:  # a flood: one line a minute
                logged[address] = time.monotonic()
                logger.warning("refusing queued requests from %s: %d waiting from its %s", address,
                               max(from_session, from_address), who)  # fmt: skip
            cap = per_session if who == "session" else per_address
            message = f"too many requests from your {who} at once ({cap} waiting); try again in {wait} s"
            raise HTTPException(status_code=429, detail=message, headers={"Retry-After": str(wait)})
        return await push(body=body, request=request, username=username)

    queue.push = limited_push
