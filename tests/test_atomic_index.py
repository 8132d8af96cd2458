"""`kill -9` during `qa index` leaves the previous index loadable and complete.

The kill lands at chosen moments of the run, not after a guessed time: the child runs `qa index` with
one step wrapped so that it stops there (writes a marker and sleeps) until the test kills it. A timed
kill missed every moment on a fast machine and failed CI.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ARTICLE
from index.stores import faiss as store
from qa import Assistant

# `qa index CORPUS`, stopped at QA_STOP_AT until killed
CHILD = """
import os, sys, time
from pathlib import Path

import qa.cli
from index.stores import faiss

def stop():
    Path(os.environ["QA_STOP_MARKER"]).touch()
    time.sleep(600)

def wrap(owner, name, when):
    inner = getattr(owner, name)
    def wrapped(*args, **kwargs):
        if when(*args, **kwargs):
            stop()
        return inner(*args, **kwargs)
    setattr(owner, name, wrapped)

at = os.environ["QA_STOP_AT"]
if at == "embedding":  # after 40% of the passages are embedded
    class Stopper:  # in place of qa index's progress display
        def reading(self, event):
            pass

        def __call__(self, done, total):
            done >= 0.4 * total and stop()

    qa.cli.IndexProgress = Stopper
elif at == "writing":  # vectors, passages, BM25 matrix written to .building-*; keyword.json, manifest not
    wrap(faiss, "_write_file", lambda path, text: path.name == "keyword.json")
elif at == "swapping":  # version folder renamed into place, `current` not yet swapped
    wrap(faiss, "_current", lambda folder: any(p.name.startswith(".current-") for p in folder.iterdir()))
elif at == "cleaning":  # `current` swapped, stale versions not yet removed
    wrap(faiss, "_remove_stale", lambda index_dir, keep: True)
sys.argv = ["qa", "index", sys.argv[1]]
qa.cli.main()
"""


def _corpus(folder, files: int, sentences: int) -> None:
    folder.mkdir()
    for f in range(files):
        body = " ".join(f"Fact {f}-{i} is about topic {i % 97} and place {f}." for i in range(sentences))
        (folder / f"doc{f:03d}.txt").write_text(body, encoding="utf-8")


def _wait_for(marker, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 300
    while not marker.exists():
        if proc.poll() is not None:
            tail = log.read_text(encoding="utf-8")[-2000:]
            pytest.fail(f"`qa index` ended (exit {proc.returncode}) before the moment to kill it:\n{tail}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("`qa index` did not reach the moment to kill it within 5 minutes")
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("moment", "finished"),
    [("embedding", False), ("writing", False), ("swapping", False), ("cleaning", True)],
)
def test_kill_during_index_keeps_a_complete_index(fake_config, tmp_path, moment, finished):
    before = Assistant.from_config(fake_config)
    before.index([ARTICLE])
    old = before.documents()
    old_version = store.current_version(before.index_dir)
    corpus = tmp_path / "big"
    _corpus(corpus, files=5, sentences=200)
    marker = tmp_path / "stopped"
    env = {**os.environ, "QA_CONFIG": str(fake_config), "QA_STOP_AT": moment, "QA_STOP_MARKER": str(marker)}
    log = tmp_path / "child.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(corpus)], env=env, stdout=out, stderr=out)
    _wait_for(marker, proc, log)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    # the index is there (checked before loading it: a missing one would be rebuilt from the seeds) and
    # is the old version or, once `current` was swapped, the complete new one
    assert store.exists(before.index_dir)
    assert (store.current_version(before.index_dir) != old_version) == finished
    docs = Assistant.from_config(fake_config).documents()
    if finished:
        added = {name: docs.pop(name, 0) for name in sorted(p.name for p in corpus.iterdir())}
        assert all(added.values()), added
    assert docs == old

    # leftovers of the killed run are cleaned by the next successful write
    Assistant.from_config(fake_config).index([ARTICLE])
    leftovers = [p.name for p in before.index_dir.iterdir() if p.name.startswith((".building-", ".current-"))]
    assert leftovers == []
    assert len([p for p in before.index_dir.iterdir() if p.name.startswith("v-")]) <= 2
