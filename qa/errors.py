"""Errors raised by the assistant (defined in `index`, which imports nothing of ours)."""

from index.errors import (
    BadInputError,
    ConfigError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
    QAError,
)

__all__ = [
    "BadInputError",
    "ConfigError",
    "IndexDamagedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexWriteError",
    "QAError",
]
