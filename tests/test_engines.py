"""Inference engines (index/engines.py): ONNX Runtime on a local export, torch as the fallback, the
same answers on each, one reader pass per question, and no torch on the answering path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLE_ANSWER, EXAMPLE_QUESTION, ROOT, write_config
from index import engines
from index.engines import load_encoder
from qa.errors import ConfigError


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> Path:
    """An empty export cache and no engine loaded yet in this process."""
    monkeypatch.setenv(engines.CACHE_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(engines, "_loaded", {})
    monkeypatch.setattr(engines, "_failed", set())
    return tmp_path / "cache"


def test_a_failed_export_falls_back_to_torch_and_says_so(tiny_qa_model, own_cache, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(engines, "export_onnx", broken)
    encoder = load_encoder(tiny_qa_model, "qa")
    assert encoder.engine == "torch-fp32"
    assert "falling back" in caplog.text and "exporter crashed" in caplog.text
    start, end = encoder.run(np.array([[101, 2040, 102, 2859, 102]]), np.ones((1, 5), dtype=np.int64))
    assert start.shape == end.shape == (1, 5)


def test_the_export_is_made_once_and_keyed_by_the_weights(tiny_qa_model, own_cache, tmp_path):
    encoder = load_encoder(tiny_qa_model, "qa")
    assert encoder.engine == "onnx"
    exports = list(own_cache.glob("qa-*/model.onnx"))
    assert len(exports) == 1
    copy = tmp_path / "retrained"
    copy.mkdir()
    for f in tiny_qa_model.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    assert engines.onnx_path(str(copy), "qa") == exports[0]  # same weights elsewhere: same export
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x00\x00\x00\x00")  # "retrained" in place
    assert engines.onnx_path(str(copy), "qa") != exports[0]


def test_onnx_and_torch_give_the_same_logits(tiny_qa_model, own_cache):
    ids = np.array([[101, 2040, 2001, 14755, 102, 2859, 14755, 2184, 102, 0]])
    mask = np.array([[1] * 9 + [0]])
    onnx = load_encoder(tiny_qa_model, "qa", "onnx").run(ids, mask)
    torch = load_encoder(tiny_qa_model, "qa", "torch-fp32").run(ids, mask)
    for a, b in zip(onnx, torch, strict=True):
        np.testing.assert_allclose(a[:, :9], b[:, :9], atol=1e-4)


def test_an_unknown_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("QA_ENGINE", "cuda")
    with pytest.raises(
        ConfigError, match="QA_ENGINE='cuda' is not one of auto, onnx, torch-bf16, torch-fp32"
    ):
        engines.requested_engine()


def test_bf16_is_refused_without_the_cpu_instructions(tiny_qa_model, own_cache, monkeypatch, caplog):
    monkeypatch.setattr(engines, "cpu_has_bf16", lambda: False)
    assert load_encoder(tiny_qa_model, "qa", "torch-bf16").engine == "torch-fp32"
    assert "no bfloat16 instructions" in caplog.text


def _assistant(tmp_path: Path):
    from conftest import ARTICLE
    from qa import Assistant

    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    (seeds / ARTICLE.name).write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    config = write_config(tmp_path, reader="offline", index_dir=str(tmp_path / "index"), seeds_dir=str(seeds))
    return Assistant.from_config(config)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["onnx", "torch-fp32"])
def test_the_example_is_answered_exactly_on_each_engine(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_ENGINE", engine)
    answer = _assistant(tmp_path).ask(EXAMPLE_QUESTION)
    assert answer.text == EXAMPLE_ANSWER
    assert answer.engine == engine
    assert answer.to_dict()["engine"] == engine


@pytest.mark.slow
def test_the_bundled_models_agree_on_onnx_and_torch():
    from index.embedding import bundled_model_path
    from qa.readers import BUNDLED_READER
    from qa.spans import SpanModel

    reader = SpanModel(str(BUNDLED_READER))
    reader.warm_up()
    assert reader.tokenizer is not None
    pairs = [(EXAMPLE_QUESTION, "China sanctioned 10 Europeans and four institutions on Monday.")]
    enc = reader.tokenizer.encode_batch(pairs)[0]
    ids, mask = np.array([enc.ids]), np.array([enc.attention_mask])
    for a, b in zip(
        load_encoder(BUNDLED_READER, "qa", "onnx").run(ids, mask),
        load_encoder(BUNDLED_READER, "qa", "torch-fp32").run(ids, mask),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, atol=1e-3)
    embed_ids, embed_mask = np.array([[101, 2859, 14755, 2184, 13481, 102]]), np.ones((1, 6), dtype=np.int64)
    onnx = load_encoder(bundled_model_path(), "embed", "onnx").run(embed_ids, embed_mask)[0]
    torch = load_encoder(bundled_model_path(), "embed", "torch-fp32").run(embed_ids, embed_mask)[0]
    np.testing.assert_allclose(onnx, torch, atol=1e-3)


@pytest.mark.slow
def test_the_bundled_embedder_matches_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    from index.embedding import bundled_model_path, mean_pooled_model

    texts = ["Who was sanctioned by China?", "A much longer passage " * 40, "Short."]
    ours = mean_pooled_model(bundled_model_path()).embed(texts, batch_size=2)
    reference = SentenceTransformer(bundled_model_path(), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    np.testing.assert_allclose(ours, reference, atol=1e-4)


@pytest.mark.slow
def test_the_reader_reads_a_question_in_one_forward_pass(tmp_path):
    """Spans and the no-answer logits come from the same pass (there used to be a second one)."""
    assistant = _assistant(tmp_path)
    assistant.warm_up()
    reader = assistant._get_pipeline().get_component("reader")
    encoder = reader.spans.encoder
    calls = []
    real_run = encoder.run
    encoder.run = lambda ids, mask: calls.append(ids.shape) or real_run(ids, mask)
    try:
        answer = assistant.ask(EXAMPLE_QUESTION)
    finally:
        encoder.run = real_run
    assert answer.text == EXAMPLE_ANSWER
    assert len(calls) == 1 and calls[0][0] == 8  # the 8 picked sentences (offline_sentences), one batch
    assert answer.signals["null_margin"] != 0.0


def _imports_after(code: str) -> set[str]:
    """The heavy libraries really imported by a fresh `python -c code` in the project folder."""
    probe = (
        "import atexit, sys\n"
        "from index.lazy import is_loaded\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers', 'haystack', 'onnxruntime')\n"
        "atexit.register(lambda: print('LOADED', *[m for m in heavy if is_loaded(m)], file=sys.stderr))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", probe + code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )
    line = next(x for x in out.stderr.splitlines() if x.startswith("LOADED"))
    return set(line.split()[1:])


def test_qa_help_imports_no_model_library():
    code = "import sys; sys.argv = ['qa', '--help']\nfrom qa.cli import main\n"
    code += "try: main()\nexcept SystemExit: pass\n"
    assert _imports_after(code) == set()


@pytest.mark.slow
def test_qa_ask_answers_without_importing_torch(tmp_path):
    _assistant(tmp_path).index([tmp_path / "seeds"])  # the index, and the exports, exist already
    args = ["qa", "ask", EXAMPLE_QUESTION, "--json", "--config", str(tmp_path / "config.yaml")]
    code = f"import sys; sys.argv = {args!r}\nfrom qa.cli import main\ntry: main()\nexcept SystemExit: pass\n"
    loaded = _imports_after(code)
    assert "torch" not in loaded and "sentence_transformers" not in loaded
    assert "onnxruntime" in loaded


@pytest.mark.slow
def test_qa_ask_json_names_the_engine(tmp_path):
    from click.testing import CliRunner

    from qa.cli import qa

    _assistant(tmp_path)
    result = CliRunner().invoke(
        qa, ["ask", EXAMPLE_QUESTION, "--json", "--config", str(tmp_path / "config.yaml")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == EXAMPLE_ANSWER
    assert data["engine"] == "onnx"


def test_the_chat_says_which_engine_runs_the_models(fake_assistant):
    import gradio as gr

    from ui.app import build_app

    texts = [b.value for b in build_app(fake_assistant).blocks.values() if isinstance(b, gr.Markdown)]
    assert any("Reader: `offline:word-overlap`, on `none`." in str(t) for t in texts)


@pytest.mark.slow
def test_passages_embedded_in_length_sorted_batches_come_back_in_their_order():
    from haystack import Document

    from index.embedding import BundledDocumentEmbedder, bundled_model_path, mean_pooled_model

    texts = [f"Passage {i}: " + "China sanctioned ten Europeans. " * (i % 7 + 1) for i in range(40)]
    embedder = BundledDocumentEmbedder(batch_size=8)
    docs = embedder.run(documents=[Document(content=t) for t in texts])["documents"]
    alone = mean_pooled_model(bundled_model_path())
    for k in (0, 6, 13, 39):  # short and long ones, each as if embedded on its own
        np.testing.assert_allclose(docs[k].embedding, alone.embed([texts[k]])[0], atol=1e-4)


def test_torch_loads_for_real_whichever_way_it_is_first_imported():
    """With torch deferred, `import torch.distributed` (sentence-transformers' first torch import)
    used to run that submodule twice, and torch aborted the process."""
    code = (
        "import index, sys\n"
        "import torch.distributed\n"
        "from sentence_transformers import SentenceTransformer\n"
        "import torch\n"
        "assert torch.distributed.__spec__.loader is not None and torch.tensor([1.0]).sum().item() == 1.0\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
