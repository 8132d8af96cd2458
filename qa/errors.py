"""Errors raised by the assistant (defined in `index`, which imports nothing of ours)."""

from index.errors import BadInputError, ConfigError, IndexMismatchError, IndexMissingError, QAError

__all__ = ["BadInputError", "ConfigError", "IndexMismatchError", "IndexMissingError", "QAError"]
