"""Adding and removing documents from the chat, with a message a person can act on.

A client names the files to add by their path on the server, so the chat takes only the files
Gradio itself received through its upload route in this process (`received`: the Blocks'
`upload_file_set`), inside its upload folder: whatever Gradio checks or does not check (mounted on
FastAPI, `qa serve --chat`, it checks nothing), no other file the server can read is indexed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Collection, Iterable, MutableSet
from pathlib import Path
from typing import Any

from index.indexer import IndexReport, skipped_summary
from index.reading import NothingReadableError, Reading, Skipped
from qa import Assistant, BadInputError, Caller, QAError
from qa.errors import CollectionNotFoundError, NotAllowedError
from qa.uploads import DOCUMENT_TYPES, check_uploads, document_name
from ui.http_errors import public_error
from ui.render import markdown_text

logger = logging.getLogger(__name__)


def _passages(count: int) -> str:
    return f"{count} passage" if count == 1 else f"{count} passages"


def _names(names: Iterable[str], counts: dict[str, int]) -> str:
    return ", ".join(f"**{markdown_text(n)}** ({_passages(counts.get(n, 0))})" for n in names)


def _is_received(raw: str, received: Collection[str], folder: Path) -> bool:
    try:
        path = os.path.abspath(raw)
        if path not in received or os.path.islink(path):
            return False
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))
    except (OSError, ValueError):  # a NUL byte, a name too long
        return False


def received_only(
    paths: Iterable[Any], received: Collection[str], folder: str | Path
) -> tuple[list[str], list[Skipped]]:
    """The paths in `paths` that Gradio received as uploads (listed in `received`, inside `folder`,
    not a link), and a one-line refusal for every other entry (naming only the file, not where)."""
    accepted: list[str] = []
    refused: list[Skipped] = []
    for raw in paths:
        if isinstance(raw, str) and raw and _is_received(raw, received, Path(folder)):
            accepted.append(raw)
        else:
            name = (
                document_name(Path(raw).name) if isinstance(raw, str) and raw else f"a {type(raw).__name__}"
            )
            message = f"{name}: not a file uploaded to this chat; add it with the upload box"
            refused.append(Skipped(message, "not uploaded here"))
    return accepted, refused


def forget_uploads(paths: Any, received: MutableSet[str], folder: str | Path) -> None:
    """Delete the uploaded copies of one upload (the index keeps the text) and the folder Gradio made
    for each, once empty; only files this chat received, whatever else a client names."""
    root = Path(os.path.realpath(folder))
    for raw in paths if isinstance(paths, list) else []:
        if not (isinstance(raw, str) and raw and _is_received(raw, received, root)):
            continue
        path = Path(os.path.abspath(raw))
        received.discard(str(path))
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        parent = Path(os.path.realpath(path.parent))
        if parent != root and parent.is_relative_to(root):
            with contextlib.suppress(OSError):  # not empty: another upload of the same content
                parent.rmdir()


def add_documents(
    assistant: Assistant,
    paths: Iterable[Any] | None,
    progress: Callable[[int, int], None] | None = None,
    *,
    received: Collection[str],
    folder: str | Path,
    collection: str | None = None,
    caller: Caller | None = None,
) -> str:
    """Check each uploaded file, index the acceptable ones into `collection` (None: the default one)
    as `caller`, and say what happened to every file. Only files Gradio received as uploads
    (`received`, inside its upload `folder`) are read."""
    paths = [p for p in (paths or []) if p]
    if not paths:
        return f"Choose one or more {DOCUMENT_TYPES} files to add."
    uploaded, not_received = received_only(paths, received, folder)
    check = check_uploads(uploaded)
    check.refused[:0] = not_received
    report = IndexReport()
    if check.accepted:
        try:
            report = assistant.index(check.accepted, progress=progress, collection=collection, caller=caller)
        except (CollectionNotFoundError, NotAllowedError) as exc:  # not the caller's to write
            return f"Nothing was added: {markdown_text(public_error(exc)[1])}"
        except NothingReadableError as exc:
            check.refused.extend(exc.skipped)
        except BadInputError as exc:
            check.refused.append(Skipped(str(exc), getattr(exc, "group", "unreadable")))
        except QAError as exc:
            logger.exception("indexing the uploads failed")
            return f"Nothing was added: {markdown_text(public_error(exc)[1])}"
        else:
            check.refused.extend(report.skipped)
    counts = assistant.documents(collection=collection, caller=caller) if report.read else {}
    return upload_report(report, check.refused, counts)


FOLD_OVER = 3  # files named in a report; past that, one line and the details folded under it


def upload_report(report: IndexReport, refused: list[Skipped], counts: dict[str, int]) -> str:
    """What happened to every uploaded file, in Markdown: a paragraph per outcome for a few files;
    for more, one summary line ("Added 12 files (340 passages); refused 3: 2 unsupported (.exe), 1
    scanned PDF (install tesseract-ocr).") with those paragraphs folded under it."""
    lines: list[str] = []
    if report.added:
        lines.append(f"Added {_names(report.added, counts)}.")
    if report.updated:
        lines.append(f"Replaced {_names(report.updated, counts)} with the new version.")
    if report.unchanged:
        lines.append(f"Already indexed, unchanged: {_names(report.unchanged, counts)}.")
    if refused:
        lines.append("\n".join(["Refused:", *(f"- {markdown_text(message)}" for message in refused)]))
    if len(report.read) + len(refused) <= FOLD_OVER:
        return "\n\n".join(lines)  # one paragraph each
    parts = []
    if report.added or report.updated:
        changed = len(report.added) + len(report.updated)
        passages = sum(counts.get(n, 0) for n in [*report.added, *report.updated])
        parts.append(f"Added {changed} file{'s' * (changed != 1)} ({_passages(passages)})")
    if report.unchanged:
        parts.append(f"{len(report.unchanged)} already indexed")
    if refused:
        parts.append(skipped_summary(refused).replace("skipped", "refused", 1))
    summary = markdown_text("; ".join(parts)) + "."
    body = "\n\n".join(lines)
    return f"{summary[0].upper()}{summary[1:]}\n\n<details><summary>Details</summary>\n\n{body}\n\n</details>"


class UploadProgress:
    """An upload's progress for Gradio's bar (`show(progress, desc=..., unit=...)`): files read of
    all, naming the current one and its pages, then the passages embedded (`Assistant.index` calls
    it, and its `reading` for each file)."""

    def __init__(self, show: Callable[..., Any]) -> None:
        self.show = show

    def reading(self, event: Reading) -> None:
        pages = f", page {event.page} of {event.pages}" if event.pages else ""
        done = event.file if event.done else event.file - 1
        desc = f"Reading {event.name} ({event.file} of {event.files}{pages})"
        self.show((done, event.files), desc=desc, unit="files")

    def __call__(self, done: int, total: int) -> None:
        self.show((done, total), desc="Indexing passages", unit="passages")


def _writable(assistant: Assistant, collection: str | None, caller: Caller | None) -> bool:
    """Whether the assistant lists `collection` as one `caller` may change."""
    name = collection or assistant.collection
    return any(c.name == name and c.writable for c in assistant.collections(caller=caller))


def remove_document(
    assistant: Assistant, name: Any, *, collection: str | None = None, caller: Caller | None = None
) -> str:
    """Remove `name` from `collection` (None: the default one) as `caller`; the last document stays
    (the chat needs something to read)."""
    if name is None or name == "":
        return "Choose a document to remove."
    if not isinstance(name, str):
        return f"The document to remove must be named by a string, not a {type(name).__name__}."
    name = document_name(name)  # as the index names documents (NFC, no invisible characters)
    documents = assistant.documents(collection=collection, caller=caller)
    if name not in documents:
        return f"**{markdown_text(name)}** is not in the index (any more)."
    if len(documents) == 1 and _writable(assistant, collection, caller):
        return "This is the only document; add another before removing it."
    assistant.remove(name, collection=collection, caller=caller)  # the assistant refuses a read-only one
    return f"Removed **{markdown_text(name)}**."
