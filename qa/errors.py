"""Errors raised by the assistant (defined in `index`, which imports nothing of ours), and the one way
every command shows them: `friendly_errors`, one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from index.errors import (
    BadInputError,
    CollectionNotFoundError,
    ConfigError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
    NotAllowedError,
    QAError,
    StoreUnavailableError,
)

USAGE_ERRORS = (BadInputError, ConfigError)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """QAError -> one line and exit 2 (bad input, config) or 1; anything else: one line, exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USAGE_ERRORS as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except QAError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("QA_DEBUG"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(f"error: {type(exc).__name__}: {first} (set QA_DEBUG=1 for details)", err=True)
            sys.exit(1)

    return wrapper


__all__ = [
    "BadInputError",
    "CollectionNotFoundError",
    "ConfigError",
    "IndexDamagedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexWriteError",
    "NotAllowedError",
    "QAError",
    "StoreUnavailableError",
    "friendly_errors",
]
