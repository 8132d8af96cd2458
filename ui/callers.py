"""Who is asking, as the `qa.Caller` the assistant decides rights for: the one place where the served
interfaces turn a credential into a caller. What each caller may read and write is decided by the
assistant (`qa.Assistant`), never here.

- a login to the chat: a QA_AUTH user, or a user of the assistant's user store (`qa users add`)
  checked with `assistant.users.verify` -> `Caller.user(name)`;
- an API key (`Authorization: Bearer KEY`): a user's key (`qa users key NAME`) -> that user; a bare
  QA_API_KEYS key -> `Caller.SERVICE` (it reads what is shared with everyone);
- nothing configured (no QA_AUTH, no QA_API_KEYS, no users) -> `Caller.LOCAL`, the machine's operator,
  as before collections and users existed (loopback only, unless `--no-login` waived it).

The served apps note the caller of each request in its ASGI scope (`SCOPE_KEY`) once its credential
is checked, so the routes, the OpenAI router and the MCP tools read the same one.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from qa import Assistant, Caller
from ui.access import key_matches

logger = logging.getLogger(__name__)

SCOPE_KEY = "qa.caller"  # the request's Caller, in its ASGI scope


class Credentials:
    """The credentials a served assistant accepts: `logins` (QA_AUTH pairs), `keys` (QA_API_KEYS)
    and the assistant's user store (its users' passwords and keys)."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        logins: list[tuple[str, str]] | None = None,
        keys: list[str] | None = None,
    ) -> None:
        self.assistant = assistant
        self.logins = list(logins or ())
        self.keys = list(keys or ())

    def has_users(self) -> bool:
        """Whether the user store holds anyone (read each time: `qa users add` may run meanwhile)."""
        return bool(self.assistant.users.list())

    def configured(self) -> bool:
        """Whether any credential is configured: then no request is the operator's."""
        return bool(self.logins or self.keys or self.has_users())

    def login(self, name: Any, password: Any) -> bool:
        """Whether `name` / `password` is a QA_AUTH login or a user of the store (Gradio's `auth`)."""
        if not isinstance(name, str) or not isinstance(password, str) or not name:
            return False
        given = password.encode("utf-8", "surrogatepass")
        matched = False
        for user, secret in self.logins:  # every pair compared: the time says nothing
            same = hmac.compare_digest(given, secret.encode("utf-8", "surrogatepass"))
            matched |= same and hmac.compare_digest(name.encode("utf-8", "surrogatepass"), user.encode())
        if matched:
            return True
        try:
            return bool(self.assistant.users.verify(name, password))
        except Exception:  # a name the store refuses (bad characters), a store that is down
            logger.warning("checking a login failed", exc_info=True)
            return False

    def chat_login(self) -> Callable[[str, str], bool] | None:
        """Gradio's `auth` for the chat: None (no login) when no QA_AUTH is set and the store has no
        users, else the check of both."""
        if not self.logins and not self.has_users():
            return None
        return self.login

    def caller_of_key(self, key: str) -> Caller | None:
        """The caller an API key stands for: a QA_API_KEYS key -> SERVICE, a user's key -> that user;
        None for a key that is neither."""
        if not key:
            return None
        if self.keys and key_matches(key, self.keys):
            return Caller.SERVICE
        user = self.assistant.users.user_of_key(key)
        return Caller.user(user) if user else None


def bearer(headers: Any) -> str:
    """The key of an `Authorization: Bearer KEY` header ('' without one)."""
    scheme, _, key = str(headers.get("authorization", "") or "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def caller_in(scope: Any) -> Caller:
    """The caller the server noted for this request (`Caller.LOCAL` for an app used without the
    server in front, as tests do)."""
    caller = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
    return caller if isinstance(caller, Caller) else Caller.LOCAL


__all__ = ["SCOPE_KEY", "Credentials", "bearer", "caller_in"]
