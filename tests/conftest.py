"""Shared fixtures: no network, offline Hugging Face, and assistants built once per session."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ARTICLE = SEEDS / "ap-china-russia-sanctions.txt"
DATA = Path(__file__).resolve().parent / "data"
EXAMPLE_QUESTION = "Who was sanctioned by China?"
EXAMPLE_ANSWER = "10 Europeans and four institutions"
# the article's sentence holding EXAMPLE_ANSWER: what a "not sure" reply to EXAMPLE_QUESTION shows
EXAMPLE_SENTENCE = (
    "China responded immediately on Monday to the EU’s approach by imposing sanctions on 10 Europeans "
    "and four institutions, which it said had affected China’s interests and “spread malicious lies and "
    "misinformation.”"
)
# a question the shipped bands answer sure (rated 0.96): what the sure path of every interface shows.
# The example question itself is "not sure" (its two best spans stand equally high; README).
SURE_QUESTION = "When was Meng Wanzhou detained in Canada?"
SURE_ANSWER = "December 2019"
OFF_TOPIC_QUESTION = "What is the capital of France?"  # nothing in the article comes close: "none"
UNSURE_THRESHOLD = 0.99  # `no_answer_threshold` above any answer's probability: the example is "not sure"

_LOCAL = ("127.0.0.1", "::1", "localhost", "0.0.0.0")


@pytest.fixture(scope="session")
def lab_data() -> Path:
    """The lab's SQuAD files (QA_LAB_DATA, else the shared/data folder beside the project, as CI has
    it); a user's clone has neither, and the tests that need them skip saying so."""
    folder = Path(os.environ.get("QA_LAB_DATA") or ROOT.parent / "shared" / "data")
    if not (folder / "squad11-train.json.gz").is_file():
        pytest.skip(f"needs the lab's SQuAD data ({folder} has none; set QA_LAB_DATA to its folder)")
    return folder


def _is_local(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (host in _LOCAL or host.startswith("127."))


@pytest.fixture(autouse=True)
def _block_network(monkeypatch):
    """Any connection off this machine fails loudly (an accidental hub download, telemetry)."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            raise RuntimeError(f"network access blocked in tests: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def write_config(folder: Path, **settings) -> Path:
    """A config file in `folder` with the given top-level settings (YAML scalars)."""
    import yaml

    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.fixture
def fake_config(tmp_path: Path) -> Path:
    """Hash embedder and word-overlap reader: fast, exact wiring tests with no model."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    return write_config(
        tmp_path, embedding_model="hash", reader="offline", offline_model="overlap",
        index_dir=str(tmp_path / "index"), seeds_dir=str(seeds),
    )  # fmt: skip


@pytest.fixture
def fake_assistant(fake_config: Path):
    from qa import Assistant

    return Assistant.from_config(fake_config)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def uvicorn_thread(config_for: Callable[[int], Any], start_s: float = 60) -> Iterator[str]:
    """A uvicorn server (`config_for(port)` gives its config) on a free loopback port, in a thread:
    real HTTP, real streaming. Yields its URL; stopped after."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(config_for(port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_s
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def serve(assistant, **options):
    """The chat over `assistant`, launched on a free loopback port (close it after)."""
    from ui.app import launch

    return launch(assistant, host="127.0.0.1", port=free_port(), block=False, quiet=True, **options)


@pytest.fixture
def app(fake_assistant):
    served = serve(fake_assistant)
    yield served
    served.close()


@pytest.fixture
def client(app):
    from gradio_client import Client

    return Client(app.local_url, verbose=False)


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory) -> Path:
    """An index of the seeds built once with the real bundled embedder."""
    from qa import Assistant

    folder = tmp_path_factory.mktemp("real-index")
    Assistant.from_config(index_dir=folder, reader="offline").index([SEEDS])
    return folder


@pytest.fixture(scope="session")
def real_assistant(real_index_dir: Path):
    """The real offline assistant (bundled embedder and reader), warmed up once per session."""
    from qa import Assistant

    assistant = Assistant.from_config(index_dir=real_index_dir, reader="offline")
    assistant.warm_up()
    return assistant


@pytest.fixture(scope="session")
def unsure_assistant(real_index_dir: Path):
    """The real offline assistant with its sure threshold raised past any answer (UNSURE_THRESHOLD):
    the example question gets a "not sure" reply (its sentence is close), an off-topic one "none"."""
    from qa import Assistant

    assistant = Assistant.from_config(
        index_dir=real_index_dir, reader="offline", no_answer_threshold=UNSURE_THRESHOLD
    )
    assistant.warm_up()
    return assistant


@pytest.fixture(scope="session")
def tiny_qa_model(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT question-answering model with the bundled tokenizer, saved
    like a hub model: the hub reader's path and the engines, without the real weights."""
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from index.embedding import bundled_model_path

    folder = tmp_path_factory.mktemp("tiny-qa")
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
    )  # fmt: skip
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def read_only_assistant(tmp_path: Path):
    """A fake-model assistant over the article with `read_only: true`: answers, takes no documents."""
    from qa import Assistant

    folder = tmp_path / "read-only"
    folder.mkdir()
    config = write_config(
        folder, embedding_model="hash", reader="offline", offline_model="overlap",
        index_dir=str(folder / "index"), seeds_dir=str(ARTICLE.parent), read_only=True,
    )  # fmt: skip
    return Assistant.from_config(config)
