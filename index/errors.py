"""The project's error tree. Every message says what to do next; the CLI prints it as one line."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error the assistant raises on purpose."""


class ConfigError(QAError):
    """A configuration file or value is wrong."""


class IndexMissingError(QAError):
    """There is no index where one was expected."""


class IndexMismatchError(QAError):
    """The index on disk was built with other settings or another format."""


class BadInputError(QAError):
    """A question, a file or an argument cannot be used."""


class FileRefusedError(BadInputError):
    """One file is not read (unsupported, too large, unsafe, damaged, needs OCR...); the message names
    it and says what to do, `group` is how a summary counts it ("unsupported (.exe)", "too large")."""

    def __init__(self, message: str, group: str = "unreadable") -> None:
        super().__init__(message)
        self.group = group


class IndexDamagedError(IndexMismatchError):
    """The index on disk cannot be read (truncated or corrupted files)."""


class IndexWriteError(QAError):
    """A new index version could not be written (e.g. a full disk); the previous one is unchanged."""


class StoreUnavailableError(QAError):
    """The store (a database) cannot be reached now; the same request may succeed once it is back."""


class CollectionNotFoundError(BadInputError):
    """No collection of that name that the caller may read: missing and refused read the same."""


class NotAllowedError(QAError):
    """The caller may read the collection but not do this to it (write, share, delete)."""
