"""Inference engines (index/engines.py): ONNX Runtime on a local export, torch as the fallback, the
same answers on each, one reader pass per question, and no torch on the answering path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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
    encoder = load_encoder(tiny_qa_model, "qa", "onnx")
    assert encoder.engine == "torch-fp32"
    assert "falling back" in caplog.text and "exporter crashed" in caplog.text
    start, end = encoder.run(np.array([[101, 2040, 102, 2859, 102]]), np.ones((1, 5), dtype=np.int64))
    assert start.shape == end.shape == (1, 5)


def test_the_export_is_made_once_and_keyed_by_the_weights(tiny_qa_model, own_cache, tmp_path):
    encoder = load_encoder(tiny_qa_model, "qa", "onnx")
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
        ConfigError, match="QA_ENGINE='cuda' is not one of auto, onnx, onnx-int8, torch-bf16, torch-fp32"
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
    # the 8 picked sentences (offline_sentences) each read once, in batches of about the same length
    assert sum(shape[0] for shape in calls) == 8
    assert answer.signals["null_margin"] != 0.0


def test_windows_share_a_batch_only_with_windows_of_about_their_length():
    from qa.spans import similar_lengths

    groups = similar_lengths([90, 20, 100, 22, 50, 95, 21, 200])
    assert groups == [[1, 6, 3], [4], [0, 5, 2], [7]]  # shortest first; 100 <= 1.15 x 90
    assert sorted(i for g in groups for i in g) == list(range(8))
    assert similar_lengths([]) == []


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
    from index.embedding import bundled_model_path
    from index.engine_choice import choose
    from qa.readers import BUNDLED_READER

    _assistant(tmp_path).index([tmp_path / "seeds"])  # the index, the exports and the choice exist
    if any(
        choose(f, t).startswith("torch") for f, t in ((bundled_model_path(), "embed"), (BUNDLED_READER, "qa"))
    ):
        pytest.skip("this CPU runs a bundled model fastest on torch (index/engine_choice.py)")
    args = ["qa", "ask", EXAMPLE_QUESTION, "--json", "--config", str(tmp_path / "config.yaml")]
    code = f"import sys; sys.argv = {args!r}\nfrom qa.cli import main\ntry: main()\nexcept SystemExit: pass\n"
    loaded = _imports_after(code)
    assert "torch" not in loaded and "sentence_transformers" not in loaded
    assert "onnxruntime" in loaded


@pytest.mark.slow
def test_qa_ask_json_names_the_engine(tmp_path):
    from click.testing import CliRunner

    from index.embedding import bundled_model_path
    from index.engine_choice import choose
    from qa.cli import qa
    from qa.readers import BUNDLED_READER

    _assistant(tmp_path)
    result = CliRunner().invoke(
        qa, ["ask", EXAMPLE_QUESTION, "--json", "--config", str(tmp_path / "config.yaml")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == EXAMPLE_ANSWER
    # the engines measured fastest on this CPU (cached by the first use): one name, or one per model
    embed, read = choose(bundled_model_path(), "embed"), choose(BUNDLED_READER, "qa")
    assert data["engine"] == (embed if embed == read else f"embedder {embed}, reader {read}")


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


# ---- the engine chosen by measurement (index/engine_choice.py) ----------------------------------
def _fake_loader(real: str = "torch-fp32", **behaviour):
    """A loader of fake engines over the real fp32 model: each name maps to (delay_s, drift)."""
    from index.engines import Encoder, load_fresh

    def load(folder, task, name):
        encoder = load_fresh(folder, task, real)
        if name == real:
            return encoder
        delay, drift = behaviour[name]
        noise = np.random.default_rng(0)

        def run(ids, mask):
            time.sleep(delay)
            return [
                o + drift * noise.standard_normal(o.shape).astype(np.float32) for o in encoder.run(ids, mask)
            ]

        return Encoder(name, run)

    return load


@pytest.mark.parametrize("task", ["embed", "qa"])
def test_a_slow_engine_loses(tiny_qa_model, own_cache, task):
    from index.engine_choice import measure

    load = _fake_loader(slow=(0.2, 0.0), quick=(0.0, 0.0))
    trials = {t.engine: t for t in measure(tiny_qa_model, task, ["slow", "quick"], load=load)}
    assert trials["slow"].passed and trials["quick"].passed  # both give fp32's results
    assert trials["slow"].ms > trials["quick"].ms
    assert trials["quick"].chosen and not trials["slow"].chosen


@pytest.mark.parametrize("task", ["embed", "qa"])
def test_an_engine_whose_output_drifts_is_rejected_however_fast(tiny_qa_model, own_cache, task):
    from index.engine_choice import measure

    load = _fake_loader(drifting=(0.0, 0.5), exact=(0.15, 0.0))
    trials = {t.engine: t for t in measure(tiny_qa_model, task, ["drifting", "exact"], load=load)}
    assert not trials["drifting"].passed and not trials["drifting"].chosen
    assert trials["exact"].chosen
    assert ("cosine" if task == "embed" else "spans same") in trials["drifting"].quality


def test_onnx_is_measured_against_torch_and_int8_only_counts_if_it_holds(tiny_qa_model, own_cache):
    from index.engine_choice import measure

    trials = {t.engine: t for t in measure(tiny_qa_model, "qa", ["torch-fp32", "onnx", "onnx-int8"])}
    assert trials["onnx"].passed and "8/8 best spans same" in trials["onnx"].quality
    assert all(t.ms is not None and t.ms > 0 for t in trials.values())
    assert sum(t.chosen for t in trials.values()) == 1
    chosen = next(t for t in trials.values() if t.chosen)
    assert chosen.passed  # int8 may be fastest, but is chosen only if it passed


def test_torch_bf16_is_a_candidate_only_with_bf16_instructions():
    from index.engine_choice import candidates

    assert "torch-bf16" not in candidates({"flags": ["avx2", "avx512f"]})
    assert "torch-bf16" in candidates({"flags": ["avx512f", "avx512_bf16"]})
    assert "torch-bf16" in candidates({"flags": ["amx_tile", "amx_bf16"]})


def test_torch_must_beat_the_other_engines_clearly_to_be_chosen():
    from index.engine_choice import Trial, pick

    close = [Trial("torch-fp32", "qa", 95.0, True, ""), Trial("onnx", "qa", 100.0, True, "")]
    assert pick(close).engine == "onnx"  # importing torch costs every cold start more than 5 ms
    clear = [Trial("torch-bf16", "qa", 50.0, True, ""), Trial("onnx", "qa", 100.0, True, "")]
    assert pick(clear).engine == "torch-bf16"
    assert pick([Trial("onnx", "qa", 1.0, False, "drifts")]) is None


def test_the_choice_is_cached_for_this_cpu_and_measured_again_on_another(
    tiny_qa_model, own_cache, monkeypatch
):
    from index import engine_choice
    from index.engine_choice import Trial, choose

    calls = []

    def measure(folder, task, names=None, **kwargs):
        calls.append(engine_choice.cpu_identity()["model"])
        winner = "onnx" if len(calls) == 1 else "torch-fp32"
        return [Trial(name, task, 1.0, True, "", chosen=name == winner) for name in ("onnx", "torch-fp32")]

    monkeypatch.setattr(engine_choice, "measure", measure)
    real_cpu = engine_choice.cpu_identity()
    assert choose(tiny_qa_model, "qa") == "onnx"
    assert choose(tiny_qa_model, "qa") == "onnx" and len(calls) == 1  # second start: the cache
    assert (own_cache / "engines.json").is_file()
    other = {**real_cpu, "model": "Intel Xeon Platinum 8480+", "flags": [*real_cpu["flags"], "amx_bf16"]}
    monkeypatch.setattr(engine_choice, "cpu_identity", lambda: other)
    assert choose(tiny_qa_model, "qa") == "torch-fp32" and len(calls) == 2  # another CPU: measured
    assert choose(tiny_qa_model, "qa") == "torch-fp32" and len(calls) == 2
    monkeypatch.setattr(engine_choice, "cpu_identity", lambda: real_cpu)
    assert choose(tiny_qa_model, "qa") == "onnx" and len(calls) == 2  # each CPU keeps its own
    assert choose(tiny_qa_model, "qa", refresh=True) == "torch-fp32" and len(calls) == 3  # qa engines


def test_auto_loads_the_measured_engine_and_qa_engine_overrides_it(tiny_qa_model, own_cache, monkeypatch):
    from index import engine_choice

    asked = []
    monkeypatch.setattr(
        engine_choice, "choose", lambda folder, task, **kw: asked.append(task) or "torch-fp32"
    )
    monkeypatch.delenv("QA_ENGINE", raising=False)
    assert load_encoder(tiny_qa_model, "qa").engine == "torch-fp32" and asked == ["qa"]
    monkeypatch.setenv("QA_ENGINE", "onnx")
    assert load_encoder(tiny_qa_model, "qa").engine == "onnx" and asked == ["qa"]  # not measured


def test_a_first_use_measures_once_and_keeps_the_loaded_engine(tiny_qa_model, own_cache, monkeypatch):
    monkeypatch.delenv("QA_ENGINE", raising=False)
    first = load_encoder(tiny_qa_model, "qa")
    record = json.loads((own_cache / "engines.json").read_text(encoding="utf-8"))
    [machine] = record.values()
    [entry] = machine["models"].values()
    assert entry["engine"] == first.engine
    assert {t["engine"] for t in entry["trials"]} >= {"torch-fp32", "onnx"}
    assert load_encoder(tiny_qa_model, "qa") is first


def test_loading_a_torch_model_shows_no_progress_bar(tiny_qa_model, own_cache, capfd):
    from transformers.utils import logging as hf_logging

    from index.engines import load_fresh

    hf_logging.enable_progress_bar()  # as in a program that never set HF_HUB_DISABLE_PROGRESS_BARS
    load_fresh(str(tiny_qa_model), "qa", "torch-fp32")
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "it/s" not in err
    assert hf_logging.is_progress_bar_enabled()  # the program's own setting is left as it was


@pytest.mark.slow
def test_qa_ask_prints_no_progress_bar_even_on_first_use(tmp_path):
    """A fresh engine cache: `qa ask` exports both models and measures the engines, and its
    terminal shows the answer and a line about the export, never a progress bar."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "note.txt").write_text("China sanctioned 10 Europeans and four institutions on Monday.\n")
    config = write_config(tmp_path, reader="offline", index_dir=str(tmp_path / "index"), seeds_dir=str(seeds))
    env = {k: v for k, v in os.environ.items() if k not in ("QA_ENGINE", "HF_HUB_DISABLE_PROGRESS_BARS")}
    env.update(HF_HUB_OFFLINE="1", QA_ENGINE_CACHE=str(tmp_path / "engines"))
    command = [sys.executable, "-c", "from qa.cli import main; main()", "ask", EXAMPLE_QUESTION]
    out = subprocess.run(
        [*command, "--config", str(config)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Europeans" in out.stdout  # answered
    assert (tmp_path / "engines" / "engines.json").is_file()  # it did measure
    assert "Loading weights" not in out.stderr and "it/s" not in out.stderr and "%|" not in out.stderr, (
        out.stderr
    )


@pytest.mark.slow
def test_the_chosen_engine_answers_the_article_questions_as_torch_fp32_does(real_index_dir, monkeypatch):
    """A sample of the article set (benchmarks/run.py asks all 95): the same answer, band and, to
    0.01, score on the engines measured fastest here as on torch fp32."""
    from qa import Assistant

    rows = [
        json.loads(x) for x in (ROOT / "tests" / "data" / "article_questions.jsonl").read_text().splitlines()
    ]
    sample = rows[::8]  # 12 questions, some with a conversation before them
    replies = {}
    for engine in ("auto", "torch-fp32"):
        monkeypatch.setenv("QA_ENGINE", engine)
        assistant = Assistant.from_config(index_dir=real_index_dir, reader="offline")
        replies[engine] = [assistant.ask(r["question"], history=r.get("history")) for r in sample]
    for chosen, fp32 in zip(replies["auto"], replies["torch-fp32"], strict=True):
        assert fp32.engine == "torch-fp32"
        assert (chosen.text, chosen.band) == (fp32.text, fp32.band), chosen.question
        assert abs(chosen.score - fp32.score) <= 0.01, chosen.question


def test_qa_engines_prints_the_table_it_measured(tiny_qa_model, own_cache, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from index import engine_choice
    from index.engine_choice import Trial
    from qa.cli import qa

    def measure(folder, task, names=None, **kwargs):
        return [
            Trial("torch-fp32", task, 90.0, True, "the reference"),
            Trial("onnx", task, 30.0, True, "min cosine 1.00000", chosen=True),
            Trial("onnx-int8", task, 10.0, False, "min cosine 0.98"),
        ]

    monkeypatch.setattr(engine_choice, "measure", measure)
    config = write_config(tmp_path, reader="offline", offline_model=str(tiny_qa_model))
    result = CliRunner().invoke(qa, ["engines", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "CPU: " in result.stdout
    onnx_row = next(line for line in result.stdout.splitlines() if line.startswith("onnx "))
    assert "30.0" in onnx_row and onnx_row.rstrip().endswith("embedder + reader")
    int8_row = next(line for line in result.stdout.splitlines() if line.startswith("onnx-int8"))
    assert "REJECTED" in int8_row
    data = json.loads(
        CliRunner().invoke(qa, ["engines", "--cached", "--json", "--config", str(config)]).stdout
    )
    assert data["reader"]["engine"] == data["embedder"]["engine"] == "onnx"
    assert [t["engine"] for t in data["reader"]["trials"]] == ["torch-fp32", "onnx", "onnx-int8"]


def test_an_engine_that_cannot_load_is_not_measured_and_says_so(
    tiny_qa_model, own_cache, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(engines, "export_onnx", broken)
    monkeypatch.delenv("QA_ENGINE", raising=False)
    assert load_encoder(tiny_qa_model, "qa").engine == "torch-fp32"
    assert "engine onnx unavailable" in caplog.text and "exporter crashed" in caplog.text
