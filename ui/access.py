"""Who may use a served chat: loopback by default; a login (QA_AUTH) before it listens on a network.

`QA_AUTH="alice:secret,bob:other"` lists the users that may log in. Serving on a non-loopback address
without one is refused unless the operator waives it explicitly (`qa chat --no-login`), since anyone
who can reach the port could otherwise read every document and remove them.

Two guards stand in front of every way the assistant is served (`qa chat`, `qa serve`, `--chat`):
- `HostCheck`: a request whose `Host` is not a name this server is served under (loopback names, the
  `--host` address, `QA_ALLOWED_HOSTS`) is refused, so a web page cannot reach a loopback server by
  DNS rebinding (its requests carry the attacker's host name).
- `Failures` / `LoginThrottle`: after a few failed logins (or API keys) from one client address, each
  further try must wait, twice as long each time, up to five minutes (429 with Retry-After).

The client address is the connection's, never what a request writes in `X-Forwarded-For`, unless the
connection comes from a proxy the operator names in QA_TRUSTED_PROXIES (`trusted_proxies`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from qa import BadInputError

logger = logging.getLogger(__name__)

AUTH_VAR = "QA_AUTH"
API_KEYS_VAR = "QA_API_KEYS"
ALLOWED_HOSTS_VAR = "QA_ALLOWED_HOSTS"
TRUSTED_PROXIES_VAR = "QA_TRUSTED_PROXIES"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
FREE_FAILURES = 5  # failed logins from one address before it has to wait
MAX_WAIT_S = 300.0


def logins(value: str | None) -> list[tuple[str, str]] | None:
    """(user, password) pairs from `user:password[,user:password...]`; None when unset or blank."""
    if value is None or not value.strip():
        return None
    pairs = []
    for item in value.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise BadInputError(
                f"{AUTH_VAR} must be user:password[,user:password...]; fix the entry {user!r}"
            )
        pairs.append((user, password))
    return pairs


def api_keys(value: str | None) -> list[str] | None:
    """The keys of `key[,key...]` (`qa serve`'s QA_API_KEYS); None when unset or blank."""
    if value is None or not value.strip():
        return None
    keys = [k.strip() for k in value.split(",")]
    if any(len(k) < 8 or " " in k for k in keys):
        raise BadInputError(f"{API_KEYS_VAR} must be key[,key...], each 8 or more characters with no spaces")
    return keys


def key_matches(key: str, keys: list[str]) -> bool:
    """Whether `key` is one of `keys`, compared in constant time (every key is compared, so the time
    taken tells a guesser nothing about how much of a key was right)."""
    given = key.encode("utf-8", "surrogatepass")
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(given, candidate.encode("utf-8", "surrogatepass"))
    return found


def trusted_proxies(value: str | None = None) -> list[str]:
    """The proxies whose `X-Forwarded-For` names the client (QA_TRUSTED_PROXIES, or `value`): addresses
    or networks, comma-separated; none by default, so a client cannot pick the address the login
    brake counts by writing a header."""
    value = os.environ.get(TRUSTED_PROXIES_VAR, "") if value is None else value
    proxies = [item.strip() for item in value.split(",") if item.strip()]
    for item in proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise BadInputError(
                f"{TRUSTED_PROXIES_VAR} must be the addresses of your proxies (e.g. 10.0.0.2,10.1.0.0/16); "
                f"fix {item[:100]!r}"
            ) from None
    return proxies


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def check_exposure(
    host: str, auth: list | None, *, no_login: bool, setting: str = f"{AUTH_VAR}=user:password"
) -> None:
    """BadInputError when `host` serves a network without a login (`auth`: the logins or keys that
    `setting` names) and that was not waived."""
    if auth is not None or is_loopback(host):
        return
    if not no_login:
        raise BadInputError(
            f"--host {host} serves to the network with no login: set {setting} "
            "(or pass --no-login to serve it open on purpose)"
        )
    logger.warning("serving on %s with no login: anyone who can reach it can read and change documents", host)


# ---- DNS rebinding: the Host header -----------------------------------------------------------------


def served_hosts(host: str, value: str | None = None) -> list[str] | None:
    """The host names a request's `Host` may carry: the loopback names, `host` (the address listened
    on, unless it is every interface) and QA_ALLOWED_HOSTS's (`value` when given); None when that is
    `*` (no check: a proxy in front checks it)."""
    value = os.environ.get(ALLOWED_HOSTS_VAR, "") if value is None else value
    names = [n.strip().lower().strip("[]").rstrip(".") for n in value.split(",") if n.strip()]
    if "*" in names:
        return None
    for name in names:
        if "/" in name or (":" in name and not _is_ip(name)) or not name:
            raise BadInputError(
                f"{ALLOWED_HOSTS_VAR} must be host names or addresses, without scheme or port "
                f"(e.g. qa.example.com,10.0.0.5), or * for any; fix {name!r}"
            )
    served = {*LOOPBACK_NAMES, *names}
    if host not in WILDCARD_HOSTS:
        served.add(host.lower().strip("[]"))
    return sorted(served)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a Host header, without its port: `[::1]:80` -> `::1`, `Qa.org.:80` -> `qa.org`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    if header.count(":") == 1:
        header = header.split(":", 1)[0]
    return header.rstrip(".")


async def _send_json(send: Any, status: int, payload: dict, headers: tuple = ()) -> None:
    body = json.dumps(payload).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*start, *headers]})
    await send({"type": "http.response.body", "body": body})


class HostCheck:
    """ASGI middleware: 421 for a request whose Host header names a host this server is not served
    under (`allowed`; None lets every one through). A request with no Host (HTTP/1.0) cannot come
    from a browser's rebound page, so it passes."""

    def __init__(self, app: Any, allowed: list[str] | None) -> None:
        self.app, self.allowed = app, None if allowed is None else set(allowed)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self.allowed is not None:
            header = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            name = host_name(header)
            if header and name not in self.allowed:
                logger.warning("refused a request for host %r (not a served host name)", name[:100])
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                message = (
                    f"this server is not served as {name[:100]!r} (a guard against DNS rebinding); "
                    f"if that name is yours, add it to {ALLOWED_HOSTS_VAR}"
                )
                await _send_json(send, 421, {"error": message})
                return
        await self.app(scope, receive, send)


# ---- password guessing: failed logins and API keys per client ------------------------------------------


class Failures:
    """Failed logins (or API keys) per client address: after `free` failures, the next try must wait
    1 s after the last failure, then 2 s, 4 s ... at most `max_wait` seconds; a success forgets the
    client. Tries refused while waiting are not checked, so they neither count nor guess."""

    def __init__(
        self, free: int = FREE_FAILURES, max_wait: float = MAX_WAIT_S, *,
        clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000,
    ) -> None:  # fmt: skip
        self.free, self.max_wait, self.clock, self.max_clients = free, max_wait, clock, max_clients
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds `client` must still wait before its next try (0: it may try now)."""
        with self._lock:
            count, last = self._seen.get(client, (0, 0.0))
        if count < self.free:
            return 0.0
        return max(0.0, last + min(2.0 ** (count - self.free), self.max_wait) - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            count, _ = self._seen.pop(client, (0, 0.0))
            self._seen[client] = (count + 1, self.clock())
            while len(self._seen) > self.max_clients:  # many addresses: forget the oldest
                self._seen.popitem(last=False)
        if count + 1 >= self.free:
            logger.warning("%d failed logins or API keys from %s", count + 1, client)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._seen.pop(client, None)


def client_address(scope: Any) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def too_many(wait: float, what: str) -> tuple[dict, tuple]:
    """The 429's body and Retry-After header for a client that must wait `wait` seconds."""
    seconds = max(1, math.ceil(wait))
    message = f"too many failed {what} from your address; wait {seconds} s and try again"
    return {"error": message, "detail": message}, ((b"retry-after", str(seconds).encode()),)


class LoginThrottle:
    """ASGI middleware over a Gradio app with logins (`qa chat`, `qa serve --chat`): a client whose
    logins failed too often gets a 429 on `POST .../login` until its wait is over; each login
    answered 400 (wrong user or password) counts as a failure, a 200 forgets the earlier ones."""

    def __init__(self, app: Any, failures: Failures | None = None) -> None:
        self.app, self.failures = app, failures or Failures()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        login = scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/login")
        if scope["type"] != "http" or not login:
            await self.app(scope, receive, send)
            return
        client = client_address(scope)
        wait = self.failures.wait(client)
        if wait > 0:
            body, headers = too_many(wait, "logins")
            await _send_json(send, 429, body, headers)
            return

        async def watched(message: dict) -> None:
            if message["type"] == "http.response.start":
                if message["status"] in (400, 401):
                    self.failures.failed(client)
                elif message["status"] < 300:
                    self.failures.succeeded(client)
            await send(message)

        await self.app(scope, receive, watched)


class LoginRequired:
    """ASGI middleware over a Gradio app with logins: the routes Gradio itself leaves open to anyone
    (its heartbeat stream, whose end runs the session's unload events) need the login too: 401 with
    what to do."""

    OPEN_ROUTES = ("/gradio_api/heartbeat/",)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        gradio = scope.get("app")
        if (
            scope["type"] == "http"
            and any(route in scope.get("path", "") for route in self.OPEN_ROUTES)
            and getattr(gradio, "auth", None) is not None
            and not _logged_in(gradio, scope)
        ):
            await _send_json(
                send,
                401,
                {"error": "log in to the chat first (a user from QA_AUTH, or one added with `qa users add`)"},
            )
            return
        await self.app(scope, receive, send)


def _logged_in(gradio: Any, scope: dict) -> bool:
    """Whether the request carries the session cookie of a login to the Gradio app `gradio`."""
    return _logged_in_user(gradio, scope) is not None


def _logged_in_user(gradio: Any, scope: dict) -> str | None:
    """The user whose login to the Gradio app `gradio` the request's session cookie holds, if any."""
    from starlette.requests import HTTPConnection

    if gradio is None:
        return None
    cookies = HTTPConnection(scope).cookies
    suffix = getattr(gradio, "cookie_id", "")
    token = cookies.get(f"access-token-{suffix}") or cookies.get(f"access-token-unsecure-{suffix}")
    user = getattr(gradio, "tokens", {}).get(token) if token else None
    return str(user) if user is not None else None
