"""Question -> answer over your documents, offline: `from qa import Assistant`."""

import os

# No usage telemetry: the assistant must work (and stay quiet) offline.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

from qa.answer import NO_ANSWER_TEXT, Answer, Source
from qa.assistant import Assistant
from qa.errors import (
    BadInputError,
    ConfigError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
    QAError,
)

__all__ = [
    "NO_ANSWER_TEXT",
    "Answer",
    "Assistant",
    "BadInputError",
    "ConfigError",
    "IndexDamagedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexWriteError",
    "QAError",
    "Source",
]
