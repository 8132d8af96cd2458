"""What a client of `qa serve` is told when a request fails: a status and one line that says what to do,
never a traceback or the server's internals (those go to the server log)."""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from qa.errors import CollectionNotFoundError, NotAllowedError, QAError, StoreUnavailableError

logger = logging.getLogger(__name__)

UNAVAILABLE = "the database is unavailable right now; try again once it is back (the server log says why)"
FAILED = "answering failed on the server; try again, and if it keeps failing the server log says why"
RETRY_AFTER_S = 5


def public_error(exc: BaseException) -> tuple[int, str]:
    """(HTTP status, one line) for `exc`: the assistant's refusals are the client's to fix (400; a
    collection the caller may not read, or that does not exist, 404 with the same line for both; a
    write to one shared read-only, 403), an unreachable database is the server's and passes (503),
    anything else is logged (500)."""
    if isinstance(exc, StoreUnavailableError):
        logger.warning("%s", exc)
        return 503, UNAVAILABLE
    if isinstance(exc, QAError):
        message = " ".join(str(exc).split())
        if isinstance(exc, CollectionNotFoundError):
            return 404, message
        return (403 if isinstance(exc, NotAllowedError) else 400), message
    logger.error("request failed", exc_info=exc)
    return 500, FAILED


def error_response(status: int, message: str) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)
