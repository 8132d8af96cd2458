"""What the chat holds in Gradio's upload folder: nothing on a read-only chat, a bounded amount
otherwise, and nothing left once it stops.

Gradio writes each uploaded file to `<upload folder>/<sha256>/<name>` before any handler runs, and
keeps it until its hourly clean-up, so the files a client uploads without adding them would pile
up. `UploadGuard` stands in front of Gradio's upload route, on both ways the chat is served.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

UPLOAD_ROUTE = "/gradio_api/upload"
MAX_HELD_BYTES = 512 * 1024 * 1024  # uploaded and not yet added or removed, all clients together
MAX_HELD_FILES = 5_000
_UPLOAD_DIR = re.compile(r"[0-9a-f]{64}")  # Gradio's folder per uploaded content


async def _refuse(send: Any, status: int, message: str, retry_after: int | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class UploadGuard:
    """ASGI middleware for Gradio's upload route: 403 on a read-only chat; 413 for a request over
    `max_request_bytes` (declared or streamed); 503 (retry in a minute) while the files the chat has
    received and not yet let go (`received`, Gradio's `upload_file_set`) and the uploads in flight
    would pass `max_held_bytes` or `max_held_files`. Every path it hands out is noted in `seen`, so
    that a stop can delete what Gradio's own clean-up forgets (the folder of each upload)."""

    def __init__(
        self,
        app: Any,
        *,
        received: Collection[str],
        seen: set[str],
        read_only: bool,
        max_request_bytes: int,
        max_held_bytes: int | None = None,
        max_held_files: int | None = None,
    ) -> None:
        self.app, self.received, self.seen, self.read_only = app, received, seen, read_only
        self.max_request_bytes = max_request_bytes
        self.max_held_bytes = MAX_HELD_BYTES if max_held_bytes is None else max_held_bytes
        self.max_held_files = MAX_HELD_FILES if max_held_files is None else max_held_files
        self.in_flight = 0  # bytes of uploads being received now (one event loop: no lock needed)

    def held(self) -> tuple[int, int]:
        """(bytes, files) of the received uploads still on disk."""
        size = count = 0
        for path in list(self.received):
            with contextlib.suppress(OSError):
                size += os.stat(path).st_size
                count += 1
        return size, count

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(UPLOAD_ROUTE):
            await self.app(scope, receive, send)
            return
        if self.read_only:
            await _refuse(send, 403, "this chat is read-only: it takes no uploads")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        megabytes = self.max_request_bytes // 2**20
        too_big = f"an upload may send at most {megabytes} MB; send fewer or smaller files at a time"
        if declared.isdigit() and int(declared) > self.max_request_bytes:
            await _refuse(send, 413, too_big)
            return
        wanted = int(declared) if declared.isdigit() else self.max_request_bytes
        size, count = self.held()
        if count >= self.max_held_files or size + self.in_flight + wanted > self.max_held_bytes:
            await _refuse(
                send, 503, f"too many uploads are waiting to be added ({count} files, "
                f"{(size + self.in_flight) / 1e6:.1f} MB); try again in a minute", retry_after=60,
            )  # fmt: skip
            return
        self.in_flight += wanted
        seen: dict[str, Any] = {"bytes": 0, "over": False, "answered": False, "body": b"", "ok": False}

        async def counted() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > self.max_request_bytes:
                    seen["over"] = True
                    return {"type": "http.disconnect"}  # Gradio stops reading
            return message

        async def guarded(message: dict) -> None:
            if message["type"] == "http.response.start":
                seen["ok"] = message["status"] == 200
            elif seen["ok"] and len(seen["body"]) < 1_000_000:
                seen["body"] += message.get("body", b"")
            if not seen["over"]:
                await send(message)
                seen["answered"] = seen["answered"] or message["type"] == "http.response.start"

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not seen["over"]:
                raise
        finally:
            self.in_flight -= wanted
        if seen["over"] and not seen["answered"]:
            await _refuse(send, 413, too_big)
        elif seen["ok"]:
            self._note(seen["body"])

    def _note(self, body: bytes) -> None:
        """Note the paths of an upload route's answer (a JSON list of paths) in `seen`."""
        with contextlib.suppress(ValueError):
            paths = json.loads(body)
            if isinstance(paths, list):
                self.seen.update(p for p in paths if isinstance(p, str))
        if len(self.seen) > 2 * self.max_held_files:  # forget the uploads whose folder has gone
            for path in [p for p in self.seen if not os.path.lexists(os.path.dirname(p))]:
                self.seen.discard(path)


def clean_uploads(
    seen: Iterable[str], received: Iterable[str], folder: str | Path, min_age_s: float = 600
) -> None:
    """Delete the uploads this chat received (`seen`, `received`) and their folders, and every empty
    per-upload folder left in `folder` older than `min_age_s` (other chats' leftovers; younger ones
    may be in use)."""
    root = Path(os.path.realpath(folder))
    for raw in {*seen, *received}:
        path = Path(os.path.abspath(raw))
        if not Path(os.path.realpath(path)).is_relative_to(root):
            continue
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        if path.parent != root:
            with contextlib.suppress(OSError):  # not empty: someone else's upload of the same content
                path.parent.rmdir()
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        now = time.time()
        for entry in entries:
            if _UPLOAD_DIR.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if now - entry.stat(follow_symlinks=False).st_mtime > min_age_s:
                        os.rmdir(entry.path)


def cleaning_lifespan(
    seen: Iterable[str], received: Iterable[str], folder: str | Path
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan for Gradio's app that runs `clean_uploads` when the server stops (Gradio enters
    it launched or mounted; uvicorn ends it on Ctrl-C or SIGTERM before exiting)."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            clean_uploads(seen, received, folder)

    return lifespan
