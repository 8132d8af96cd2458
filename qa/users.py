"""Users: names with argon2-hashed passwords, and API keys tied to them, kept in the records book
beside the index (INDEX_DIR/access.json for FAISS, a table for pgvector). Nothing is stored in plain
text: a password as its argon2id hash, a key as its SHA-256 (a key is 256 random bits, so a fast hash
is safe and a request's key is looked up at once)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Any

from qa.collections import COLLECTIONS, USERS, Shelf
from qa.errors import BadInputError, ConfigError
from qa.rights import Grant, check_user_name

KEYS = "keys"  # sha256(key) -> {"user", "created"}
KEY_PREFIX = "qa-"
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class Users:
    """The users of one index (`Assistant.users`)."""

    def __init__(self, shelf: Shelf) -> None:
        self._shelf = shelf
        self._hasher: Any = None
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def _argon(self) -> Any:
        if self._hasher is None:
            with self._lock:
                if self._hasher is None:
                    try:
                        from argon2 import PasswordHasher
                    except ImportError as exc:
                        raise ConfigError(f"users need argon2-cffi ({exc}); run `pip install -e .`") from exc
                    hasher = PasswordHasher()
                    self._dummy = hasher.hash(secrets.token_urlsafe(16))  # for unknown names
                    self._hasher = hasher
        return self._hasher

    @staticmethod
    def _password(password: Any) -> str:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise BadInputError(f"a password needs at least {MIN_PASSWORD} characters; choose a longer one")
        if len(password) > MAX_PASSWORD:
            raise BadInputError(f"a password has at most {MAX_PASSWORD} characters; choose a shorter one")
        return password

    def add(self, name: str, password: str) -> None:
        name = check_user_name(name)
        hashed = self._argon().hash(self._password(password))

        def add(records: dict) -> None:
            users = records.setdefault(USERS, {})
            if name in users:
                raise BadInputError(f"user {name!r} exists; `qa users remove {name}` first to replace it")
            users[name] = {"password": hashed, "created": _now()}

        self._shelf.book.update(add)

    def remove(self, name: str) -> None:
        """Remove user `name` and their keys; the collections they own stay, owned by the operator,
        and their shares go."""
        name = check_user_name(name)

        def remove(records: dict) -> None:
            if name not in records.get(USERS, {}):
                raise BadInputError(f"no user {name!r}; `qa users list` shows them")
            del records[USERS][name]
            keys = records.get(KEYS, {})
            for digest in [d for d, k in keys.items() if k.get("user") == name]:
                del keys[digest]
            for collection, record in records.get(COLLECTIONS, {}).items():
                grant = Grant.from_record(record)
                if grant.owner == name:
                    grant = Grant(None, grant.read, grant.write, grant.extra)
                records[COLLECTIONS][collection] = grant.unshared(name).record()

        self._shelf.book.update(remove)

    def list(self) -> list[str]:
        return sorted(self._shelf.book.read().get(USERS, {}))

    def verify(self, name: str, password: str) -> bool:
        """Whether `password` is `name`'s; as slow for an unknown name as for a known one."""
        hasher = self._argon()
        record = self._shelf.book.read().get(USERS, {}).get(name) if isinstance(name, str) else None
        hashed = record["password"] if record else self._dummy
        if not isinstance(password, str):
            password = ""
        try:
            ok = bool(hasher.verify(hashed, password))
        except Exception:  # argon2's VerifyMismatchError, InvalidHashError...
            ok = False
        return ok and record is not None

    def new_key(self, name: str) -> str:
        """A new API key for `name` (shown once: only its hash is kept)."""
        name = check_user_name(name)
        key = KEY_PREFIX + secrets.token_urlsafe(32)

        def add(records: dict) -> None:
            if name not in records.get(USERS, {}):
                raise BadInputError(f"no user {name!r}; add them first with `qa users add {name}`")
            records.setdefault(KEYS, {})[key_hash(key)] = {"user": name, "created": _now()}

        self._shelf.book.update(add)
        return key

    def user_of_key(self, key: str) -> str | None:
        """The user an API key belongs to, or None (not a user's key, or their user was removed)."""
        if not isinstance(key, str) or not key:
            return None
        records = self._shelf.book.read()
        found = records.get(KEYS, {}).get(key_hash(key))
        user = found.get("user") if found else None
        return user if user in records.get(USERS, {}) else None


__all__ = ["KEYS", "Users", "key_hash"]
