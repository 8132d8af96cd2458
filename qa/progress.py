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


class IndexProgress:
    """What `qa index` shows while it works: on a terminal, a bar of files (overall) and one of the
    current file's pages, then one of passages embedded, each with its rate; otherwise a plain line
    per file and one for the embedding (on `stream`, stderr). `Assistant.index(progress=...)` calls
    it with (passages done, total) and its `reading` with each file's `index.reading.Reading`."""

    def __init__(self, stream: Any = None, terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.bars: dict[str, Any] = {}
        self.said_embedding = False

    def _bar(self, key: str, total: int, desc: str, unit: str, position: int) -> Any:
        from tqdm import tqdm

        bar = self.bars.get(key)
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            leave = key != "pages"
            bar = tqdm(total=total, desc=desc, unit=unit, position=position, leave=leave, file=self.stream)
            self.bars[key] = bar
        return bar

    def _say(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def reading(self, event: Any) -> None:
        if not self.terminal:
            if not event.done and event.page == 0:
                self._say(f"reading {event.file}/{event.files}: {event.name}")
            return
        files = self._bar("files", event.files, "files", "file", 0)
        files.set_postfix_str(event.name[:40], refresh=False)
        if event.done:
            files.update(event.file - files.n)
            if "pages" in self.bars:
                self.bars.pop("pages").close()
            if event.file >= event.files:
                self.bars.pop("files").close()
        elif event.pages:
            pages = self._bar("pages", event.pages, event.name[:30], "page", 1)
            pages.update(event.page - pages.n)

    def __call__(self, done: int, total: int) -> None:
        if not self.terminal:
            if not self.said_embedding:
                self._say(f"embedding {total:,} passages")
                self.said_embedding = True
            return
        bar = self._bar("passages", total, "embedding", "passage", 0)
        bar.update(done - bar.n)
        if done >= total:
            self.bars.pop("passages").close()
