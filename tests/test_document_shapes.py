"""Documents shaped to make reading and splitting slow (issue 26 item 1): runs of dots, newlines and
brackets, unclosed code fences, one-letter lines. Each is read and split (or refused) in seconds, the
time grows no faster than the size, and no single step holds the GIL long enough to stall a server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.errors import BadInputError
from index.markdown import markdown_text
from index.reading import read_document
from index.splitting import build_passages

SHAPES: dict[str, Callable[[int], str]] = {
    # 30 KB of this took 42 s to split (a stop pattern tried at every dot, backtracking the run)
    "dots.txt": lambda n: "Start of the file. " + "." * n + "x and more.",
    # 40,000 of these took as long in the Markdown cleaning (a list pattern over every blank line)
    "newlines.md": lambda n: "Start of the file.\n" + "\n" * n + "And more.",
    "brackets.md": lambda n: "Start of the file. " + "[" * n,
    "images.md": lambda n: "Start of the file. " + "![" * (n // 2),
    "unclosed-fence.md": lambda n: "Start of the file.\n\n```\n" + "x " * (n // 2),
}


def _read_and_split(path: Path) -> int:
    """Passages made of the file, or -1 when it is refused with a BadInputError."""
    try:
        return len(build_passages(read_document(path).text))
    except BadInputError:
        return -1


def _seconds(path: Path, text: str) -> float:
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    _read_and_split(path)
    return time.perf_counter() - start


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_a_hostile_shape_is_read_in_seconds_at_two_sizes(tmp_path, name):
    small = _seconds(tmp_path / name, SHAPES[name](30_000))
    large = _seconds(tmp_path / name, SHAPES[name](300_000))
    # before: 42 s for the small dots file alone, and 3.5x that for twice the size
    assert small < 5 and large < 10, (small, large)


def test_a_ten_megabyte_file_of_each_shape_is_read_or_refused_in_seconds(tmp_path):
    for name, make in SHAPES.items():
        elapsed = _seconds(tmp_path / name, make(9_000_000))
        assert elapsed < 30, (name, elapsed)


def test_reading_a_hostile_file_never_holds_the_gil_for_a_second(tmp_path):
    """What a server's /health waits on: a thread that wants the interpreter every 10 ms."""
    paths = []
    for name, make in SHAPES.items():
        path = tmp_path / name
        path.write_text(make(1_000_000), encoding="utf-8")
        paths.append(path)
    done = threading.Event()

    def read_all() -> None:
        for path in paths:
            _read_and_split(path)
        done.set()

    worker = threading.Thread(target=read_all)
    longest = 0.0
    worker.start()
    last = time.perf_counter()
    while not done.is_set():
        time.sleep(0.01)
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    assert longest < 1.0, f"the interpreter was held for {longest:.1f} s"


def test_one_letter_lines_are_refused_with_what_to_do(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("a\n" * 300_000, encoding="utf-8")
    with pytest.raises(BadInputError, match=r"lines\.txt: 300,000 lines .*join its lines or split the file"):
        read_document(path)


def test_a_run_of_dots_is_no_passage_but_the_words_around_it_are(tmp_path):
    path = tmp_path / "dots.txt"
    path.write_text(SHAPES["dots.txt"](50_000), encoding="utf-8")
    text = read_document(path).text
    texts = [text[p.start : p.end] for p in build_passages(text)]
    # the 50,000 dots cut into 600-character pieces would be 84 passages of nothing
    assert len(texts) == 2
    assert texts[0].startswith("Start of the file.") and texts[1].endswith("x and more.")


def test_markdown_keeps_what_a_person_reads():
    text = markdown_text(
        "# Opening hours\n\nWe open at **9 am** on\nweekdays, see [the map](http://x/map) "
        "![logo](logo.png).\n\n- Saturday: 10 am\n- Sunday: closed\n\n"
        "| Day | Opens |\n|---|---|\n| Monday | 9 am |\n\n```\npip install x\n```\n"
    )
    assert text.split("\n\n") == [
        "Opening hours",
        "We open at 9 am on weekdays, see the map .",
        "Saturday: 10 am",
        "Sunday: closed",
        "Day; Opens",
        "Monday; 9 am",
        "pip install x",
    ]
