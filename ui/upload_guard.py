"""What the chat holds in Gradio's upload folder: nothing on a read-only chat, a bounded amount
otherwise, and nothing left once it stops.

Gradio writes each uploaded file to `<upload folder>/<sha256>/<name>` before any handler runs, and
keeps it until its hourly clean-up, so the files a client uploads without adding them would pile
up. `UploadGuard` stands in front of Gradio's upload route, on both ways the chat is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

UPLOAD_ROUTE = "/gradio_api/upload"
MAX_HELD_BYTES = 512 * 1024 * 1024  # uploaded and not yet added or removed, all clients together
MAX_HELD_FILES = 5_000
MAX_HELD_AGE_S = 3600  # an upload not added after an hour is dropped (Gradio's `delete_cache` age)
STALL_S = 30.0  # an upload that sends nothing for this long is dropped
STALE_TEMPORARY_S = 2 * STALL_S
MAX_UPLOADS_PER_CLIENT = 2  # uploads one client address may have in flight at once
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
    `max_request_bytes` (declared or streamed); 503 (retry in a minute) while what the upload folder
    holds (uploads received and not yet let go, any other chat's, leftovers of a killed one) and the
    bytes in flight would pass `max_held_bytes` or `max_held_files`. An upload in flight counts the
    bytes it has sent, not the ones it declares, so a slow client reserves nothing it has not sent;
    one that sends nothing for `stall_s` seconds is dropped (408); one client address may have
    `per_client` uploads in flight (429). Every path it hands out is noted in `seen`, with its owner
    (the login and address that uploaded it) in `owners`, so that a stop can delete what Gradio's own
    clean-up forgets and no other client can add it; so are Gradio's temporary files while an upload
    is being received (deleted when it fails, and at a stop)."""

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
        folder: str | Path | None = None,
        owners: dict[str, str] | None = None,
        stall_s: float | None = None,
        per_client: int | None = None,
    ) -> None:
        from gradio.utils import get_upload_folder

        self.app, self.received, self.seen, self.read_only = app, received, seen, read_only
        self.max_request_bytes = max_request_bytes
        self.max_held_bytes = MAX_HELD_BYTES if max_held_bytes is None else max_held_bytes
        self.max_held_files = MAX_HELD_FILES if max_held_files is None else max_held_files
        self.folder = Path(get_upload_folder() if folder is None else folder)
        self.owners = {} if owners is None else owners
        self.stall_s = STALL_S if stall_s is None else stall_s
        self.per_client = MAX_UPLOADS_PER_CLIENT if per_client is None else per_client
        self.in_flight = 0  # bytes received by uploads in flight (one event loop: no lock needed)
        self.clients: dict[str, int] = {}  # uploads in flight per client address
        self.temporary: set[str] = set()  # Gradio's temporary files of the uploads in flight
        _track_temporary_files()
        sweep(self.folder)  # what a killed chat left: gone before the first upload

    def held(self) -> tuple[int, int]:
        """(bytes, files) the upload folder holds, but for the uploads in flight here (counted as
        they arrive); stale leftovers are deleted on the way (`sweep`)."""
        return sweep(self.folder, keep=self.received, exclude=self.temporary)

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
        client = str(scope["client"][0]) if scope.get("client") else "unknown"
        if self.clients.get(client, 0) >= self.per_client:
            await _refuse(
                send, 429, f"your address is already sending {self.per_client} uploads; "
                "wait for them to finish, then try again", retry_after=10,
            )  # fmt: skip
            return
        size, count = self.held()
        full = (
            f"too many uploads are waiting to be added ({count} files, "
            f"{(size + self.in_flight) / 1e6:.1f} MB); try again in a minute"
        )
        wanted = int(declared) if declared.isdigit() else 0
        if count >= self.max_held_files or size + self.in_flight + wanted > self.max_held_bytes:
            await _refuse(send, 503, full, retry_after=60)
            return
        self.clients[client] = self.clients.get(client, 0) + 1
        seen: dict[str, Any] = {"bytes": 0, "over": None, "answered": False, "body": b"", "ok": False}
        created: set[str] = set()
        token = _CREATED.set((created, self.temporary, self.seen))

        async def counted() -> dict:
            try:
                message = await asyncio.wait_for(receive(), self.stall_s)
            except TimeoutError:
                stalled = f"the upload stalled (nothing arrived for {self.stall_s:.0f} s); send it again"
                seen["over"] = (408, stalled)
                return {"type": "http.disconnect"}  # Gradio stops reading
            if message["type"] == "http.request":
                received = len(message.get("body", b""))
                seen["bytes"] += received
                self.in_flight += received
                if seen["bytes"] > self.max_request_bytes:
                    seen["over"] = (413, too_big)
                elif size + self.in_flight > self.max_held_bytes:
                    seen["over"] = (503, full)
                if seen["over"]:
                    return {"type": "http.disconnect"}
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
            _CREATED.reset(token)
            self.in_flight -= seen["bytes"]
            self.clients[client] -= 1
            if not self.clients[client]:
                del self.clients[client]
            for path in created:  # what Gradio did not move into place: a failed or dropped upload
                with contextlib.suppress(OSError):
                    os.unlink(path)
                self.temporary.discard(path)
                self.seen.discard(path)
        if seen["over"] and not seen["answered"]:
            status, message = seen["over"]
            await _refuse(send, status, message, retry_after=60 if status == 503 else None)
        elif seen["ok"]:
            self._note(seen["body"], owner(scope))

    def _note(self, body: bytes, uploader: str) -> None:
        """Note the paths of an upload route's answer (a JSON list of paths) in `seen`, and who sent
        them in `owners`."""
        with contextlib.suppress(ValueError):
            paths = json.loads(body)
            if isinstance(paths, list):
                for path in (p for p in paths if isinstance(p, str)):
                    self.seen.add(path)
                    self.owners[os.path.abspath(path)] = uploader
        if len(self.seen) > 2 * self.max_held_files:  # forget the uploads whose folder has gone
            for path in [p for p in self.seen if not os.path.lexists(os.path.dirname(p))]:
                self.seen.discard(path)
                self.owners.pop(os.path.abspath(path), None)


def owner(scope: Any) -> str:
    """Who sent a request, as far as a chat can tell: its login (the Gradio session cookie) and its
    address. Gradio's upload route carries no session id, so this is what an upload belongs to."""
    from ui.access import _logged_in_user

    client = scope.get("client") if isinstance(scope, dict) else None
    return f"{_logged_in_user(scope.get('app'), scope) or ''}@{client[0] if client else 'unknown'}"


def uploads_of(request: Any, received: Iterable[str], owners: dict[str, str]) -> set[str]:
    """The received uploads that the client of `request` (a `gr.Request`) sent: same login, same
    address (as `owner` noted them)."""
    client = getattr(request, "client", None)
    me = f"{getattr(request, 'username', None) or ''}@{client.host if client else 'unknown'}"
    return {path for path in list(received) if owners.get(os.path.abspath(path)) == me}


# ---- Gradio's temporary files: known while an upload is received, swept once stale -------------------

_CREATED: ContextVar[tuple[set[str], ...] | None] = ContextVar("qa_upload_temporary", default=None)


def _track_temporary_files() -> None:
    """Note each temporary file Gradio's upload parser makes (in the request's `_CREATED` sets), so
    the guard can delete those of an upload that fails or is cut off, and a stop those in flight.
    Installed once, on Gradio's module."""
    from gradio import route_utils

    original = route_utils.NamedTemporaryFile
    if getattr(original, "qa_tracked", False):
        return

    def tracked(*args: Any, **kwargs: Any) -> Any:
        handle = original(*args, **kwargs)
        sets = _CREATED.get()
        if sets is not None:
            for found in sets:
                found.add(handle.name)
        return handle

    tracked.qa_tracked = True  # type: ignore[attr-defined]
    route_utils.NamedTemporaryFile = tracked


def sweep(
    folder: str | Path, keep: Collection[str] = (), exclude: Collection[str] = (), now: float | None = None
) -> tuple[int, int]:
    """(bytes, files) held in the upload `folder`: the per-upload folders' files and Gradio's
    temporary files, but those in `exclude` (counted elsewhere). Deletes, on the way, temporary files
    untouched for STALE_TEMPORARY_S (no upload in any chat is that quiet: it stalls out first) and
    uploads older than MAX_HELD_AGE_S (Gradio's own clean-up age) that are not in `keep` (held by
    this chat): what a chat killed mid-upload, or before it could clean up, left behind."""
    now = time.time() if now is None else now
    size = count = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.name.startswith("tmp") and entry.is_file(follow_symlinks=False):
                    files = [entry]
                    max_age = STALE_TEMPORARY_S
                elif _UPLOAD_DIR.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                    files = [f for f in os.scandir(entry.path) if f.is_file(follow_symlinks=False)]
                    max_age = MAX_HELD_AGE_S
                else:
                    continue
                for file in files:
                    if file.path in exclude:
                        continue
                    info = file.stat(follow_symlinks=False)
                    if now - info.st_mtime > max_age and file.path not in keep:
                        os.unlink(file.path)
                        continue
                    size += info.st_size
                    count += 1
    return size, count


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
