"""Who may use a served chat: loopback by default; a login (QA_AUTH) before it listens on a network.

`QA_AUTH="alice:secret,bob:other"` lists the users that may log in. Serving on a non-loopback address
without one is refused unless the operator waives it explicitly (`qa chat --no-login`), since anyone
who can reach the port could otherwise read every document and remove them.
"""

from __future__ import annotations

import ipaddress
import logging

from qa import BadInputError

logger = logging.getLogger(__name__)

AUTH_VAR = "QA_AUTH"
API_KEYS_VAR = "QA_API_KEYS"


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
