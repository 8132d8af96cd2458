"""Which engine runs a transformer encoder (the embedder's and the reader's), chosen in this one place.

- `onnx`: ONNX Runtime on an export made here, from the model folder's own weights, at first use
  (never downloaded), cached under $QA_ENGINE_CACHE (default ~/.cache/doc-qa/onnx) by the content
  hash of the weights, so a retrained model in the same folder gets a fresh export.
- `onnx-int8`: that export with its weights quantized to int8 (dynamic quantization), kept beside it.
- `torch-bf16`: torch under bfloat16 autocast, where the CPU has bf16 instructions (AVX512-BF16, AMX).
- `torch-fp32`: plain torch, always available: the fallback.

`QA_ENGINE=auto|onnx|onnx-int8|torch-bf16|torch-fp32` picks one; `auto` (the default) is the engine
measured fastest on this CPU for this model among those that give torch fp32's results
(index/engine_choice.py: measured once per machine, then cached). An engine that cannot load (runtime
not installed, export failed, no bf16 on this CPU) falls back to torch fp32 with a warning, and every
`Encoder` says which engine runs it (`.engine`), so answers can report it.

Only what the chosen engine needs is imported: the ONNX path does not import torch once the export
exists.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ConfigError

logger = logging.getLogger(__name__)

ENV_VAR = "QA_ENGINE"
CACHE_VAR = "QA_ENGINE_CACHE"
ONNX, ONNX_INT8, BF16, FP32 = "onnx", "onnx-int8", "torch-bf16", "torch-fp32"
ENGINES = (ONNX, ONNX_INT8, BF16, FP32)
TASKS = {  # what a task's encoder returns, in order
    "embed": ("last_hidden_state",),
    "qa": ("start_logits", "end_logits"),
    "classify": ("logits",),  # a sequence classifier (qa/verifier.py)
}
WEIGHTS = ("model.safetensors", "pytorch_model.bin")
FORMAT = 1  # bump to invalidate every cached export (e.g. a different export recipe)

Run = Callable[[np.ndarray, np.ndarray], list[np.ndarray]]


class EngineError(RuntimeError):
    """An engine could not load a model (the caller falls back to another)."""


class Encoder:
    """A model on one engine: `run(input_ids, attention_mask)` -> the task's outputs as float32 arrays."""

    def __init__(self, engine: str, run: Run) -> None:
        self.engine = engine
        self._run = run

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        return self._run(input_ids.astype(np.int64), attention_mask.astype(np.int64))


def padded(encodings: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) of tokenizer encodings (unpadded) as one batch, padded with 0 to
    the longest: what `Encoder.run` takes."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)], mask[row, : len(e.ids)] = e.ids, 1
    return ids, mask


def requested_engine() -> str:
    value = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if value != "auto" and value not in ENGINES:
        raise ConfigError(
            f"{ENV_VAR}={value!r} is not one of auto, {', '.join(ENGINES)}; unset it or pick one"
        )
    return value


def cpu_has_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions (Linux cpuinfo flags; elsewhere assume not)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def cache_root() -> Path:
    base = os.environ.get(CACHE_VAR)
    if base:
        return Path(base).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "doc-qa" / "onnx"


def content_hash(folder: str | Path) -> str:
    """sha256 of the model's config and weights. Remembered by file size and mtime in the cache
    folder, so a cold start does not re-read 90 MB of weights to find its export."""
    folder = Path(folder)
    files = [folder / "config.json", *(folder / w for w in WEIGHTS if (folder / w).is_file())]
    stamps = {str(f.resolve()): [f.stat().st_size, f.stat().st_mtime_ns] for f in files}
    memo_path = cache_root() / "hashes.json"
    key = json.dumps(stamps, sort_keys=True)
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    if key in memo:
        return str(memo[key])
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for f in files:
        digest.update(f.name.encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    value = digest.hexdigest()
    try:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        memo[key] = value
        tmp = memo_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo), encoding="utf-8")
        os.replace(tmp, memo_path)
    except OSError as exc:  # a read-only cache only costs the hash next time
        logger.info("could not remember the model hash in %s (%s)", memo_path, exc)
    return value


def _torch_model(folder: str, task: str) -> Any:
    from transformers import AutoModel, AutoModelForQuestionAnswering, AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    loaders = {"qa": AutoModelForQuestionAnswering, "classify": AutoModelForSequenceClassification}
    loader = loaders.get(task, AutoModel)
    # no "Loading weights: 100% ..." bar on the user's terminal: loading is not long work
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return loader.from_pretrained(folder).float().eval()
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def _outputs(model_out: Any, task: str) -> list[Any]:
    return [getattr(model_out, name) for name in TASKS[task]]


def export_onnx(folder: str, task: str, target: Path) -> None:
    """Export the model in `folder` to ONNX at `target` (written beside it, then renamed)."""
    import torch

    model = _torch_model(folder, task)

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> tuple[Any, ...]:
            return tuple(_outputs(self.model(input_ids=input_ids, attention_mask=attention_mask), task))

    names = TASKS[task]
    axes = {n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", *names)}
    example = torch.ones(2, 8, dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapped(), (example, example), str(tmp), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=list(names), dynamic_axes=axes,
        )  # fmt: skip
    os.replace(tmp, target)


def onnx_path(folder: str, task: str) -> Path:
    return cache_root() / f"{task}-{content_hash(folder)[:20]}" / "model.onnx"


def quantize_int8(source: Path, target: Path) -> None:
    """`source` with its MatMul weights quantized to int8 per channel (ONNX Runtime's dynamic
    quantization; reduce_range keeps AVX2's 16-bit sums from saturating)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # its "consider pre-processing" advice goes to the root logger
    try:
        quantize_dynamic(
            str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
            op_types_to_quantize=["MatMul"],
        )  # fmt: skip
    finally:
        root.setLevel(level)
    os.replace(tmp, target)


def _load_onnx(folder: str, task: str, int8: bool = False) -> Encoder:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise EngineError(f"onnxruntime is not installed ({exc})") from exc
    path = onnx_path(folder, task)
    if not path.is_file():
        logger.warning("exporting %s to ONNX once (cached in %s)", folder, path.parent)
        try:
            export_onnx(folder, task, path)
        except Exception as exc:
            raise EngineError(f"the ONNX export failed ({type(exc).__name__}: {exc})") from exc
    if int8:
        quantized = path.with_name("model-int8.onnx")
        if not quantized.is_file():
            try:
                quantize_int8(path, quantized)
            except Exception as exc:
                raise EngineError(f"the int8 quantization failed ({type(exc).__name__}: {exc})") from exc
        path = quantized
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # no busy-waiting threads: on a host busy with other work (a training run) spinning measured 2x slower
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise EngineError(f"ONNX Runtime could not load {path} ({exc})") from exc
    names = list(TASKS[task])

    def run(input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        out = session.run(names, {"input_ids": input_ids, "attention_mask": attention_mask})
        return [np.asarray(o, dtype=np.float32) for o in out]

    return Encoder(ONNX_INT8 if int8 else ONNX, run)


def _load_torch(folder: str, task: str, bf16: bool) -> Encoder:
    if bf16 and not cpu_has_bf16():
        raise EngineError("this CPU has no bfloat16 instructions (avx512_bf16 / amx_bf16)")
    import contextlib

    import torch

    model = _torch_model(folder, task)

    def run(input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            ids, mask = torch.from_numpy(input_ids), torch.from_numpy(attention_mask)
            out = model(input_ids=ids, attention_mask=mask)
        return [t.float().numpy() for t in _outputs(out, task)]

    return Encoder(BF16 if bf16 else FP32, run)


def load_fresh(folder: str, task: str, engine: str) -> Encoder:
    """The model on `engine`, loaded now (not shared): what index/engine_choice.py measures."""
    if engine in (ONNX, ONNX_INT8):
        return _load_onnx(folder, task, int8=engine == ONNX_INT8)
    return _load_torch(folder, task, bf16=engine == BF16)


_loaded: dict[tuple[str, str, str], Encoder] = {}
_failed: set[tuple[str, str, str]] = set()  # tried once in this process: not again
_lock = threading.Lock()


def load_encoder(folder: str | Path, task: str, engine: str | None = None) -> Encoder:
    """The model in `folder` for `task` ("embed" | "qa" | "classify") on `engine` (default: $QA_ENGINE, else
    auto: the engine measured fastest for it on this CPU), falling back to torch fp32. Loaded once
    per process and shared (the pipeline's embedder and the reader's sentence picker use one)."""
    if task not in TASKS:
        raise ValueError(f"task {task!r} is not one of {', '.join(TASKS)}")
    wanted = engine or requested_engine()
    folder = str(folder)
    with _lock:
        if wanted == "auto":
            from index.engine_choice import choose

            measured: dict[str, Encoder] = {}
            wanted = choose(folder, task, keep=measured)
            if wanted in measured and (folder, task, wanted) not in _loaded:
                _loaded[(folder, task, wanted)] = measured[wanted]
        order = (wanted, FP32)
        for name in dict.fromkeys(order):
            key = (folder, task, name)
            if key in _loaded:
                return _loaded[key]
            if key in _failed:
                continue
            try:
                _loaded[key] = load_fresh(folder, task, name)
                return _loaded[key]
            except EngineError as exc:
                if name == FP32:
                    raise
                _failed.add(key)
                logger.warning("engine %s unavailable for %s: %s; falling back", name, folder, exc)
    raise EngineError(f"no engine could load {folder}")  # pragma: no cover - FP32 raises above


__all__ = [
    "ENGINES",
    "Encoder",
    "EngineError",
    "content_hash",
    "cpu_has_bf16",
    "load_encoder",
    "load_fresh",
    "padded",
]
