"""A progress bar for long work (indexing, training, evaluation): shown on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

Progress = Callable[..., None]


def terminal_bar(desc: str, unit: str = "it") -> Progress | None:
    """`update(done, total, loss=None)` drawing a tqdm bar on stderr, or None when not on a terminal."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    state: dict[str, Any] = {}

    def update(done: int, total: int, loss: float | None = None) -> None:
        if "bar" not in state:
            state["bar"] = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr)
        state["bar"].update(done - state["bar"].n)
        if loss is not None:
            state["bar"].set_postfix(loss=f"{loss:.3f}")
        if done >= total:
            state["bar"].close()

    return update
