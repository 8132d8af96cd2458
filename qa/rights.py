"""Who may do what to which collection: decided here, once, before any store is touched.

A collection has an owner (a user, or None: the machine's operator) and two lists of readers and
writers (user names, or "everyone"). The rules:

- the operator (`Caller.LOCAL`: the CLI and Python without a caller) may do everything;
- a user reads a collection they own, or one shared with them or with everyone (read or write), and
  writes to one they own or one shared read-write with them or with everyone;
- a service key (`Caller.SERVICE`: a bare QA_API_KEYS key) reads what is shared with everyone and
  writes what is shared read-write with everyone;
- only the owner (or the operator) shares or deletes a collection.

A collection the caller may not read is answered exactly as one that does not exist
(`not_found`): the same exception, the same message, the same path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from qa.errors import BadInputError, CollectionNotFoundError, NotAllowedError

DEFAULT_COLLECTION = "default"
EVERYONE = "everyone"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

CallerKind = Literal["local", "user", "service"]
Access = Literal["private", "read", "write"]
Need = Literal["read", "write", "manage"]


def check_name(name: Any, what: str = "collection") -> str:
    """`name` if it is a valid collection (or user) name, else BadInputError saying the rule."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = name if isinstance(name, str) else type(name).__name__
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise BadInputError(
            f"{what} names are letters, digits, - and _, at most 64 characters; got {shown!r}"
        )
    return name


def check_user_name(name: Any) -> str:
    name = check_name(name, "user")
    if name == EVERYONE:
        raise BadInputError(f"'{EVERYONE}' means all users and cannot be a user's name; pick another")
    return name


@dataclass(frozen=True)
class Caller:
    """Who asks: the operator on the machine, a user (by name), or a shared service key."""

    name: str | None
    kind: CallerKind

    LOCAL: ClassVar[Caller]
    SERVICE: ClassVar[Caller]

    @classmethod
    def user(cls, name: str) -> Caller:
        return cls(check_user_name(name), "user")

    def __str__(self) -> str:
        return self.name if self.kind == "user" and self.name else self.kind


Caller.LOCAL = Caller(None, "local")
Caller.SERVICE = Caller(None, "service")


def caller_or_local(caller: Caller | None) -> Caller:
    if caller is None:
        return Caller.LOCAL
    if not isinstance(caller, Caller):
        raise BadInputError(f"caller must be a qa.Caller, got {type(caller).__name__}")
    return caller


@dataclass(frozen=True)
class CollectionInfo:
    """A collection as one caller sees it (`Assistant.collections()`)."""

    name: str
    owner: str | None
    access: Access  # private: the owner only; read / write: shared read-only / read-write with someone
    shared_with: tuple[str, ...]  # user names, or "everyone"
    writable: bool  # for this caller
    documents: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "access": self.access,
            "shared_with": list(self.shared_with),
            "writable": self.writable,
            "documents": self.documents,
        }


@dataclass(frozen=True)
class Grant:
    """A collection's owner and shares, as stored beside the index."""

    owner: str | None = None
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Grant:
        return cls(
            owner=record.get("owner"),
            read=tuple(record.get("read", ())),
            write=tuple(record.get("write", ())),
            extra={k: v for k, v in record.items() if k not in ("owner", "read", "write")},
        )

    def record(self) -> dict[str, Any]:
        return {**self.extra, "owner": self.owner, "read": list(self.read), "write": list(self.write)}

    @property
    def access(self) -> Access:
        return "write" if self.write else "read" if self.read else "private"

    @property
    def shared_with(self) -> tuple[str, ...]:
        names = set(self.read) | set(self.write)
        return tuple(sorted(names, key=lambda n: (n != EVERYONE, n)))

    def shared(self, who: str, *, write: bool) -> Grant:
        """This grant with `who` reading (and writing, if `write`); `write=False` takes writing away."""
        read = tuple(n for n in self.read if n != who)
        writers = tuple(n for n in self.write if n != who)
        if write:
            writers += (who,)
        else:
            read += (who,)
        return Grant(self.owner, read, writers, self.extra)

    def unshared(self, who: str) -> Grant:
        return Grant(
            self.owner, tuple(n for n in self.read if n != who), tuple(n for n in self.write if n != who),
            self.extra,
        )  # fmt: skip


# The default collection before anyone changed it: today's index, read and written by everyone.
DEFAULT_GRANT = Grant(owner=None, read=(), write=(EVERYONE,))


def may_read(caller: Caller, grant: Grant | None) -> bool:
    if grant is None:
        return False
    if caller.kind == "local":
        return True
    readers = set(grant.read) | set(grant.write)
    if caller.kind == "service":
        return EVERYONE in readers
    return caller.name == grant.owner or EVERYONE in readers or caller.name in readers


def may_write(caller: Caller, grant: Grant) -> bool:
    if caller.kind == "local":
        return True
    if caller.kind == "service":
        return EVERYONE in grant.write
    return caller.name == grant.owner or EVERYONE in grant.write or caller.name in grant.write


def may_manage(caller: Caller, grant: Grant) -> bool:
    return caller.kind == "local" or (caller.kind == "user" and caller.name == grant.owner)


def not_found(name: str) -> CollectionNotFoundError:
    """The one answer for a collection that is missing or that the caller may not read."""
    return CollectionNotFoundError(f"no collection {name!r} you may use; `qa collections list` shows yours")


def _owner_words(grant: Grant) -> str:
    return grant.owner if grant.owner else "the operator, with the qa command"


def check(caller: Caller, name: str, grant: Grant | None, need: Need) -> Grant:
    """The grant if `caller` may do `need` to collection `name`, else the error to raise. Reading
    comes first: without it, the answer is `not_found`, whatever was asked."""
    if grant is None or not may_read(caller, grant):
        raise not_found(name)
    if need == "write" and not may_write(caller, grant):
        raise NotAllowedError(
            f"collection {name!r} is shared read-only with you; ask its owner ({_owner_words(grant)}) "
            "for write access"
        )
    if need == "manage" and not may_manage(caller, grant):
        raise NotAllowedError(
            f"only the owner of collection {name!r} ({_owner_words(grant)}) may share or delete it"
        )
    return grant


def info(name: str, grant: Grant, caller: Caller, documents: int) -> CollectionInfo:
    return CollectionInfo(
        name=name, owner=grant.owner, access=grant.access, shared_with=grant.shared_with,
        writable=may_write(caller, grant), documents=documents,
    )  # fmt: skip


__all__ = [
    "DEFAULT_COLLECTION",
    "DEFAULT_GRANT",
    "EVERYONE",
    "Caller",
    "CollectionInfo",
    "Grant",
    "caller_or_local",
    "check",
    "check_name",
    "check_user_name",
    "info",
    "may_manage",
    "may_read",
    "may_write",
    "not_found",
]
