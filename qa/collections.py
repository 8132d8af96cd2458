"""Collections: named sets of documents, each in a store of its own, with an owner and shares.

`Shelf` is the room beneath `Assistant` that knows them: which store holds a collection (the stores
keep them apart; `index.stores.open_store(collection=...)`), its loaded view, its writers' turns, and
its owner and shares (the records book beside the index). Every operation asks `Shelf.decide` first,
which reads the rights (qa/rights.py) and only then opens the store, so a collection the caller may
not read is answered exactly as a missing one, before anything about it is touched.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.indexer import Indexer, IndexReport
from index.stores import IndexSpec, IndexView, PassageStore, RecordBook, Records, open_book, open_store
from qa.config import Settings
from qa.errors import BadInputError, NotAllowedError
from qa.rights import (
    DEFAULT_COLLECTION,
    DEFAULT_GRANT,
    EVERYONE,
    Access,
    Caller,
    CollectionInfo,
    Grant,
    Need,
    caller_or_local,
    check,
    check_name,
    check_user_name,
    info,
    may_read,
    not_found,
)

logger = logging.getLogger(__name__)

COLLECTIONS = "collections"  # the records' kind: name -> {"owner", "read", "write", "created"}
USERS = "users"


class Slot:
    """One collection's store and the view of it last loaded; its writers take turns."""

    def __init__(self, name: str, store: PassageStore) -> None:
        self.name, self.store = name, store
        self.view: IndexView | None = None
        self.write_lock = threading.Lock()
        self.load_lock = threading.Lock()

    def loaded(self, build: Callable[[], None] | None = None) -> IndexView | None:
        """The current view, loaded on first use and again when another process wrote a newer
        version; None when the collection holds nothing yet (`build` makes it: the default
        collection's seeds)."""
        store = self.store
        view = self.view
        if view is not None and (view.version is None or view.version == store.version()):
            return view
        with self.load_lock:
            current = store.version()
            if self.view is not None and self.view.version not in (None, current):
                logger.info("the index at %s has a newer version; loading it", store.where)
                # deleted by another process (and perhaps made again, still empty): nothing
                self.view = store.load() if current is not None or store.exists() else None
            if self.view is None:
                if store.exists():
                    self.view = store.load()
                elif build is not None:
                    build()
        return self.view

    def latest(self) -> IndexView:
        """The stored version now (a writer holds the lock): ours if no other process wrote since."""
        if self.view is not None and self.view.version == self.store.version():
            return self.view
        return self.store.load()

    def build(
        self, indexer: Indexer, paths: list, *, rebuild: bool = False, progress: Any = None
    ) -> IndexReport:
        """Add (or replace) the documents under `paths`: a new version, written and swapped in while
        this collection's writers wait (other collections' writers go on)."""
        store = self.store
        with self.write_lock, store.writing():
            existing = None if rebuild or not store.exists() else self.latest()
            change, report = indexer.build(paths, existing, progress=progress)
            self.view = new = store.commit(existing, change)
        report.passages = new.passage_count()
        return report

    def remove(self, name: str) -> IndexReport:
        with self.write_lock, self.store.writing():
            latest = self.latest()
            self.view = new = self.store.commit(latest, Indexer.without(latest, name))
        return IndexReport(removed=[name], passages=new.passage_count())


class Shelf:
    """The collections of one index: their stores, views and rights."""

    def __init__(self, settings: Settings, spec: IndexSpec) -> None:
        self.settings, self.spec = settings, spec
        self._slots: dict[str, Slot] = {}
        self._lock = threading.Lock()
        self._book: RecordBook | None = None

    @property
    def book(self) -> RecordBook:
        if self._book is None:
            s = self.settings
            self._book = open_book(s.store, index_dir=Path(s.index_dir), schema=s.db_schema)
        return self._book

    def slot(self, name: str) -> Slot:
        """The store of collection `name` (no rights asked: callers decide first)."""
        found = self._slots.get(name)
        if found is None:
            with self._lock:
                found = self._slots.get(name)
                if found is None:
                    s = self.settings
                    store = open_store(
                        s.store, self.spec, index_dir=Path(s.index_dir), index_type=s.index_type,
                        schema=s.db_schema, collection=None if name == DEFAULT_COLLECTION else name,
                    )  # fmt: skip
                    found = self._slots[name] = Slot(name, store)
        return found

    # ---- rights -------------------------------------------------------------------------------
    @staticmethod
    def grants(records: Records) -> dict[str, Grant]:
        found = {name: Grant.from_record(r) for name, r in records.get(COLLECTIONS, {}).items()}
        found.setdefault(DEFAULT_COLLECTION, DEFAULT_GRANT)
        return found

    def decide(self, name: Any, caller: Caller | None, need: Need, default: str = DEFAULT_COLLECTION) -> Slot:
        """The slot of collection `name` (None: `default`) if `caller` may do `need` to it; else
        CollectionNotFoundError (missing or not readable: one answer) or NotAllowedError. The operator
        writing to a missing collection creates it (private to the operator until shared)."""
        name = check_name(default if name is None else name)
        caller = caller_or_local(caller)
        grant = self.grants(self.book.read()).get(name)
        if grant is None and caller.kind == "local" and need == "write":
            with contextlib.suppress(BadInputError):  # made meanwhile (or taken in another case)
                self.create(name, caller=caller)
            grant = self.grants(self.book.read()).get(name)
        check(caller, name, grant, need)
        return self.slot(name)

    def documents_in(self, name: str) -> int:
        view = self.slot(name).loaded()
        return len(view.sources) if view is not None else 0

    def infos(self, caller: Caller | None) -> list[CollectionInfo]:
        caller = caller_or_local(caller)
        grants = self.grants(self.book.read())
        names = sorted(grants, key=lambda n: (n != DEFAULT_COLLECTION, n))
        return [
            info(name, grants[name], caller, self.documents_in(name))
            for name in names
            if may_read(caller, grants[name])
        ]

    # ---- changes to the collections -----------------------------------------------------------
    def create(
        self, name: Any, *, caller: Caller | None = None, access: Access = "private", owner: str | None = None
    ) -> CollectionInfo:
        name = check_name(name)
        caller = caller_or_local(caller)
        if access not in ("private", "read", "write"):
            raise BadInputError(f"access must be private, read or write (with everyone), got {access!r}")
        if caller.kind == "service":
            raise NotAllowedError(
                "a service key cannot create collections; use a user's key (`qa users key NAME`)"
            )
        if caller.kind == "user":
            if owner not in (None, caller.name):
                raise NotAllowedError("a user creates collections for themselves only; leave out the owner")
            owner = caller.name
        elif owner is not None:
            owner = check_user_name(owner)
        grant = Grant(owner=owner)
        if access != "private":
            grant = grant.shared(EVERYONE, write=access == "write")
        record = {**grant.record(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

        def add(records: Records) -> None:
            # names differing only in case are one name: on a case-insensitive disk (macOS) they
            # would be one FAISS folder
            if name.lower() in {n.lower() for n in self.grants(records)}:
                raise BadInputError(f"collection name {name!r} is taken; pick another name")
            named = caller.kind == "local" and owner is not None  # a user (a QA_AUTH login too) owns theirs
            if named and owner not in records.get(USERS, {}):
                raise BadInputError(f"no user {owner!r}; add them first with `qa users add {owner}`")
            records.setdefault(COLLECTIONS, {})[name] = record

        if name.lower() == DEFAULT_COLLECTION:
            raise BadInputError(f"collection name {name!r} is taken; pick another name")
        slot = self.slot(name)
        with slot.write_lock, slot.store.writing():  # a collection's lock, then the records' (as delete)
            if name not in self.grants(self.book.read()) and slot.store.exists():
                slot.store.discard()  # left over from a collection deleted half way: start empty
            slot.view = None
            self.book.update(add)
        return info(name, grant, caller, 0)

    def delete(self, name: Any, *, caller: Caller | None = None) -> None:
        slot = self.decide(name, caller, "manage")
        if slot.name == DEFAULT_COLLECTION:
            raise BadInputError(
                "the default collection cannot be deleted; remove its documents one by one instead"
            )
        with slot.write_lock, slot.store.writing():
            self.book.update(lambda records: records.get(COLLECTIONS, {}).pop(slot.name, None))
            slot.store.discard()
            slot.view = None
        with self._lock:
            self._slots.pop(slot.name, None)

    def share(
        self, name: Any, who: Any, *, write: bool = False, caller: Caller | None = None
    ) -> CollectionInfo:
        return self._regrant(name, who, caller, lambda g, w: g.shared(w, write=write))

    def unshare(self, name: Any, who: Any, *, caller: Caller | None = None) -> CollectionInfo:
        return self._regrant(name, who, caller, lambda g, w: g.unshared(w))

    def _regrant(
        self, name: Any, who: Any, caller: Caller | None, change: Callable[[Grant, str], Grant]
    ) -> CollectionInfo:
        slot = self.decide(name, caller, "manage")
        who = EVERYONE if who == EVERYONE else check_user_name(who)
        caller = caller_or_local(caller)
        result: list[Grant] = []

        def regrant(records: Records) -> None:
            grant = self.grants(records).get(slot.name)
            if grant is None:  # deleted meanwhile
                raise not_found(slot.name)
            if who != EVERYONE and who not in records.get(USERS, {}):
                raise BadInputError(f"no user {who!r}; add them first with `qa users add {who}`")
            if who == grant.owner:
                raise BadInputError(f"{who} owns {slot.name!r}; an owner always reads and writes it")
            new = change(grant, who)
            records.setdefault(COLLECTIONS, {})[slot.name] = new.record()
            result.append(new)

        self.book.update(regrant)
        return info(slot.name, result[0], caller, self.documents_in(slot.name))


__all__ = ["COLLECTIONS", "USERS", "Shelf", "Slot"]
