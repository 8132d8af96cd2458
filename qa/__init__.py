"""Question -> answer over your documents, offline: `from qa import Assistant`."""

import os
from typing import TYPE_CHECKING, Any

import index  # noqa: F401 - first: it defers the torch import that Haystack would make
from qa.answer import NO_ANSWER_TEXT, Answer, Source
from qa.errors import (
    BadInputError,
    CollectionNotFoundError,
    ConfigError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
    NotAllowedError,
    QAError,
)
from qa.rights import Caller, CollectionInfo

# No usage telemetry: the assistant must work (and stay quiet) offline.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

if TYPE_CHECKING:
    from qa.assistant import Assistant


def __getattr__(name: str) -> Any:
    """`qa.Assistant` is imported on first use: `qa --help` and `import qa.errors` stay light."""
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


__all__ = [
    "NO_ANSWER_TEXT",
    "Answer",
    "Assistant",
    "BadInputError",
    "Caller",
    "CollectionInfo",
    "CollectionNotFoundError",
    "ConfigError",
    "IndexDamagedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexWriteError",
    "NotAllowedError",
    "QAError",
    "Source",
]
