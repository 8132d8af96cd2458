"""The isolation matrix as data, for every interface's tests (Python, CLI, REST, OpenAI, MCP, chat).

Two users (alice, bob) and a service key (a bare QA_API_KEYS key). Each user owns a private collection
holding a document with a marker word nobody else may ever see; the operator's `handbook` is shared
read-only with everyone; `default` is today's index, shared read-write with everyone. Each collection's
QUESTION is answered by its marker; the same question is asked of every collection, so a leak would
show as another collection's marker in a reply.

    setup = build(assistant, tmp_path)          # users, keys, collections, documents (as the operator)
    for caller, collection, op in cells():
        outcome = expected(caller, collection, op)  # "ok" | "not_allowed" | "not_found"
        ...
        assert_no_leak(reply_text, caller)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

CALLERS = ("alice", "bob", "service")
USERS = ("alice", "bob")
PASSWORDS = {"alice": "alice-secret-1", "bob": "bob-secret-22"}
QUESTION = "What is the vault code word?"
FOLLOWUP_HISTORY = [
    {"role": "user", "content": "Tell me about the vault."},
    {"role": "assistant", "content": "The vault is in the cellar."},
]
FOLLOWUP = "What is its code word?"  # with FOLLOWUP_HISTORY: "its" is the vault
MISSING = "no-such-collection"


@dataclass(frozen=True)
class Collection:
    name: str
    owner: str | None  # None: the operator
    document: str  # the file name of its one document
    marker: str  # a word only in that document
    text: str
    read: tuple[str, ...] = ()  # shared read-only with these (user names or "everyone")
    write: tuple[str, ...] = ()  # shared read-write with these


COLLECTIONS = (
    Collection(
        "alice-private", "alice", "alice-vault.txt", "zorbulon",
        "The vault code word is zorbulon. Alice changed the vault code word last spring.",
    ),
    Collection(
        "bob-private", "bob", "bob-vault.txt", "quintaflex",
        "The vault code word is quintaflex. Bob wrote the vault code word on a card.",
    ),
    Collection(
        "handbook", None, "handbook-vault.txt", "marmalite",
        "The vault code word is marmalite. The handbook gives the vault code word to every member.",
        read=("everyone",),
    ),
    Collection(
        "default", None, "default-vault.txt", "plinthwood",
        "The vault code word is plinthwood. The lobby sign shows the vault code word.",
        write=("everyone",),  # as the default collection is out of the box
    ),
)  # fmt: skip
BY_NAME = {c.name: c for c in COLLECTIONS}
MARKERS = {c.name: c.marker for c in COLLECTIONS}
# a file each caller tries to upload, and the document each tries to remove (its collection's own)
UPLOAD_NAME = "upload-note.txt"
UPLOAD_TEXT = "The upload note says the lift is out of order on Tuesdays."

Level = Literal["none", "read", "write"]
Operation = Literal["ask", "followup", "documents", "list", "upload", "remove"]
OPERATIONS: tuple[Operation, ...] = ("ask", "followup", "documents", "list", "upload", "remove")
Outcome = Literal["ok", "not_allowed", "not_found"]

# what each caller may do to each collection: the rights table the tests assert
RIGHTS: dict[tuple[str, str], Level] = {
    ("alice", "alice-private"): "write",
    ("alice", "bob-private"): "none",
    ("alice", "handbook"): "read",
    ("alice", "default"): "write",
    ("bob", "alice-private"): "none",
    ("bob", "bob-private"): "write",
    ("bob", "handbook"): "read",
    ("bob", "default"): "write",
    ("service", "alice-private"): "none",
    ("service", "bob-private"): "none",
    ("service", "handbook"): "read",
    ("service", "default"): "write",
}


def level(caller: str, collection: str) -> Level:
    return RIGHTS.get((caller, collection), "none")


def expected(caller: str, collection: str, op: Operation) -> Outcome:
    """What `op` on `collection` by `caller` must give: done, refused as not allowed (a write to a
    collection shared read-only), or refused exactly as a missing collection."""
    have = level(caller, collection)
    if have == "none":
        return "not_found"
    if op in ("upload", "remove") and have == "read":
        return "not_allowed"
    return "ok"


def readable(caller: str) -> list[str]:
    """The collections `caller` must see listed (the default first, then by name)."""
    names = [c.name for c in COLLECTIONS if level(caller, c.name) != "none"]
    return sorted(names, key=lambda n: (n != "default", n))


def forbidden_markers(caller: str) -> list[str]:
    """The marker words `caller` must never see, in any reply or error."""
    return [c.marker for c in COLLECTIONS if level(caller, c.name) == "none"]


def assert_no_leak(text: Any, caller: str) -> None:
    """No marker of a collection `caller` may not read in `text` (any object: it is made text)."""
    shown = str(text).lower()
    for marker in forbidden_markers(caller):
        assert marker not in shown, f"{caller} saw {marker!r}: {shown[:300]}"


def cells() -> list[tuple[str, str, Operation]]:
    """Every (caller, collection, operation), the missing collection included."""
    names = [*(c.name for c in COLLECTIONS), MISSING]
    return [(caller, name, op) for caller in CALLERS for name in names for op in OPERATIONS]


@dataclass
class Setup:
    """What `build` made: the users' API keys, the documents' folder, an upload file."""

    keys: dict[str, str] = field(default_factory=dict)
    documents: Path = Path()
    upload: Path = Path()


def write_config(folder: Path, **settings: Any) -> Path:
    """Settings for the matrix with the fast fake models (hash embedder, word-overlap reader)."""
    import yaml

    values = {
        "embedding_model": "hash", "reader": "offline", "offline_model": "overlap",
        "index_dir": str(folder / "index"), "seeds_dir": str(folder / "no-seeds"), **settings,
    }  # fmt: skip
    path = folder / "matrix.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def build(assistant: Any, folder: Path) -> Setup:
    """Users, keys, collections and their documents, made through `assistant` as the operator (the
    same for FAISS and pgvector: only the assistant's settings differ)."""
    docs = folder / "matrix-documents"
    docs.mkdir(parents=True, exist_ok=True)
    setup = Setup(documents=docs, upload=docs / "upload" / UPLOAD_NAME)
    setup.upload.parent.mkdir(exist_ok=True)
    setup.upload.write_text(UPLOAD_TEXT, encoding="utf-8")
    for user in USERS:
        assistant.users.add(user, PASSWORDS[user])
        setup.keys[user] = assistant.users.new_key(user)
    for c in COLLECTIONS:
        if c.name != "default":
            assistant.create_collection(c.name, owner=c.owner)
        path = docs / c.name / c.document
        path.parent.mkdir(exist_ok=True)
        path.write_text(c.text, encoding="utf-8")
        assistant.index([path], collection=c.name)
        for who in c.read:
            assistant.share_collection(c.name, who)
    return setup


def callers() -> dict[str, Any]:
    from qa import Caller

    return {"alice": Caller.user("alice"), "bob": Caller.user("bob"), "service": Caller.SERVICE}
