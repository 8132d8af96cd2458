"""A cap on request bodies, so no request can make the server read (and parse) without bound.

Gradio bounds uploads itself (`max_file_size`, streamed to disk); every other request (a question, a
history, a queue message) is JSON that is read into memory whole, so it gets this cap: a body over
`max_bytes`, declared or streamed, is answered 413 with a JSON error saying what to do.
"""

from __future__ import annotations

import json
from typing import Any

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


def gradio_app_kwargs(middleware: list[Any] | None = None) -> dict[str, Any]:
    """`app_kwargs` for Gradio's app, launched (`qa chat`) or mounted (`qa serve --chat`): the
    `middleware` and the handlers that turn its endpoint-lookup errors into 404s."""
    from gradio.route_utils import FnIndexInferError

    handlers = {FnIndexInferError: _unknown_endpoint, KeyError: _unknown_endpoint}
    return {"middleware": middleware or [], "exception_handlers": handlers}
