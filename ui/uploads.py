"""Adding and removing documents from the chat, with a message a person can act on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from qa import Assistant, BadInputError, QAError
from qa.uploads import check_uploads
from ui.render import markdown_text

logger = logging.getLogger(__name__)


def _passages(count: int) -> str:
    return f"{count} passage" if count == 1 else f"{count} passages"


def _names(names: Iterable[str], counts: dict[str, int]) -> str:
    return ", ".join(f"**{markdown_text(n)}** ({_passages(counts.get(n, 0))})" for n in names)


def add_documents(
    assistant: Assistant,
    paths: Iterable[str | Path] | None,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Check each uploaded file, index the acceptable ones, and say what happened to every file."""
    paths = [p for p in (paths or []) if p]
    if not paths:
        return "Choose one or more .txt, .md or .pdf files to add."
    check = check_uploads(paths)
    lines: list[str] = []
    if check.accepted:
        try:
            report = assistant.index(check.accepted, progress=progress)
        except BadInputError as exc:
            check.refused.append(str(exc))
        except QAError as exc:
            logger.exception("indexing the uploads failed")
            return f"Nothing was added: {markdown_text(str(exc))}"
        else:
            counts = assistant.documents()
            if report.added:
                lines.append(f"Added {_names(report.added, counts)}.")
            if report.updated:
                lines.append(f"Replaced {_names(report.updated, counts)} with the new version.")
            if report.unchanged:
                lines.append(f"Already indexed, unchanged: {_names(report.unchanged, counts)}.")
    if check.refused:
        lines.append("\n".join(["Refused:", *(f"- {markdown_text(message)}" for message in check.refused)]))
    return "\n\n".join(lines)  # one paragraph each


def remove_document(assistant: Assistant, name: Any) -> str:
    """Remove `name` from the index; the last document stays (the chat needs something to read)."""
    if name is None or name == "":
        return "Choose a document to remove."
    if not isinstance(name, str):
        return f"The document to remove must be named by a string, not a {type(name).__name__}."
    documents = assistant.documents()
    if name not in documents:
        return f"**{markdown_text(name)}** is not in the index (any more)."
    if len(documents) == 1:
        return "This is the only document; add another before removing it."
    assistant.remove(name)
    return f"Removed **{markdown_text(name)}**."
