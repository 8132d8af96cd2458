"""Which engine runs a model on this CPU, chosen by measurement (index/engines.py loads it).

At first use of a model on a machine (and with `qa engines` on demand), every engine this CPU can run
(`candidates()`: torch fp32, torch bf16 where the CPU has bf16 instructions, ONNX Runtime fp32 and
int8) is timed on a small fixed batch (each engine in a block, the blocks in order and then in
reverse, so a busy host slows each alike), and checked against torch fp32 on fixed probes:

- the embedder (`embed`): every probe's mean-pooled embedding within cosine 0.999 of fp32's,
  and each probe query's top passages the same;
- the reader (`qa`): every probe question's best span the same tokens as fp32's, and its logit and
  the no-answer logit within 0.1 of fp32's (they decide sure / not sure / no answer); the probes
  and these checks are index/engine_probes.py.

The fastest engine that passes is chosen; a torch engine must beat the fastest other one by
`TORCH_MARGIN`, as importing torch adds about a second to every cold start. The choice is cached in
$QA_ENGINE_CACHE/engines.json, keyed by the CPU (model, flags, cores), the library versions and the
model's weights, so another CPU or an upgrade measures again. `QA_ENGINE` other than `auto` skips all
of this.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from index import engines
from index.engine_probes import Probe
from index.engines import BF16, FP32, ONNX, ONNX_INT8, Encoder, EngineError

logger = logging.getLogger(__name__)

CHOICES_FILE = "engines.json"
FORMAT = 2  # bump to measure again everywhere (a different probe or rule)
TORCH_MARGIN = 0.10  # a torch engine must be this much faster than the fastest other engine
ROUNDS = 2  # timed runs per engine and visit (two visits), after one untimed
SLOW = 1.5  # an engine this many times slower than the fastest after one visit is not timed again
# the CPU flags that decide which engine is fast (recorded beside each choice, for people)
NOTABLE_FLAGS = (
    "avx2",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)

Loader = Callable[[str, str, str], Encoder]


@dataclass
class Trial:
    """One engine measured on one task: median milliseconds of the probe batch, and whether it
    gives fp32's results (`quality` says how close, or why it was not run)."""

    engine: str
    task: str
    ms: float | None
    passed: bool
    quality: str
    chosen: bool = False


# ---- which machine ------------------------------------------------------------------------------
def cpu_identity() -> dict[str, Any]:
    """The CPU's model name, its instruction-set flags and the cores this process may use."""
    model, flags = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and model in ("", platform.processor() or platform.machine()):
                model = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = value.strip()
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return {"model": model, "flags": sorted(set(flags.split())), "cores": cores}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def machine_key(cpu: dict[str, Any] | None = None) -> str:
    """What a cached choice is valid for: this CPU, its cores, and the engines' library versions."""
    cpu = cpu or cpu_identity()
    versions = {p: _version(p) for p in ("onnxruntime", "torch", "transformers")}
    raw = json.dumps({"cpu": cpu, "versions": versions, "format": FORMAT}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def candidates(cpu: dict[str, Any] | None = None) -> list[str]:
    """The engines this CPU can run: bf16 autocast only with bf16 instructions."""
    flags = set((cpu or cpu_identity())["flags"])
    found = [FP32, ONNX, ONNX_INT8]
    if flags & {"avx512_bf16", "amx_bf16"}:
        found.insert(1, BF16)
    return found


# ---- measuring ----------------------------------------------------------------------------------
def measure(
    folder: str | Path,
    task: str,
    names: Iterable[str] | None = None,
    *,
    load: Loader | None = None,
    rounds: int = ROUNDS,
    keep: dict[str, Encoder] | None = None,
) -> list[Trial]:
    """Each engine in `names` (default: `candidates()`) timed and checked against torch fp32 on
    this task's probe; the fastest that passes is marked `chosen`. Engines that load are put in
    `keep` (by name), so the chosen one need not load twice."""
    folder, load = str(folder), load or engines.load_fresh
    names = list(dict.fromkeys(names or candidates()))
    probe = Probe(folder, task)
    loaded: dict[str, Encoder] = {}
    trials: dict[str, Trial] = {}
    for name in dict.fromkeys([FP32, *names]):
        try:
            loaded[name] = load(folder, task, name)
        except EngineError as exc:
            if name == FP32:
                raise
            logger.warning("engine %s unavailable for %s: %s; not measured", name, folder, exc)
            trials[name] = Trial(name, task, None, False, f"unavailable: {exc}")
    reference = probe.outputs(loaded[FP32])
    verdicts = {FP32: (True, "the reference")}
    for name, encoder in loaded.items():
        if name != FP32:
            try:
                verdicts[name] = probe.judge(reference, probe.outputs(encoder))
            except Exception as exc:  # an engine that loads but cannot run this model
                verdicts[name] = (False, f"failed: {type(exc).__name__}: {exc}")
    runnable = [n for n in loaded if not verdicts[n][1].startswith("failed")]
    times: dict[str, list[float]] = {n: [] for n in runnable}
    # each engine timed in a block (one engine runs in a process: torch's OpenMP threads spinning
    # after their work slow the next engine's), the blocks in order and then in reverse, so that
    # load from other work on the host falls on each alike
    for visit in range(2):
        for name in runnable if visit == 0 else runnable[::-1]:
            probe.time_once(loaded[name])  # untimed: the first run after another engine's
            times[name] += [probe.time_once(loaded[name]) for _ in range(rounds)]
        passing = [min(times[n]) for n in runnable if verdicts[n][0]]
        if visit == 0 and passing:  # a far slower engine need not be timed again (torch, on a busy host)
            runnable = [n for n in runnable if min(times[n]) <= SLOW * min(passing)]
    for name in names:
        if name in trials:
            continue
        passed, quality = verdicts[name]
        ms = round(statistics.median(times[name]), 1) if times.get(name) else None
        trials[name] = Trial(name, task, ms, passed, quality)
    ordered = [trials[n] for n in names]
    winner = pick(ordered)
    if winner is not None:
        winner.chosen = True
    if keep is not None:
        keep.update(loaded)
    return ordered


def pick(trials: list[Trial]) -> Trial | None:
    """The fastest trial that passed; a torch engine only when it beats the fastest other engine
    by TORCH_MARGIN (importing torch costs every cold start about a second)."""
    passed = [t for t in trials if t.passed and t.ms is not None]
    if not passed:
        return None
    fastest = min(passed, key=lambda t: t.ms or 0.0)
    others = [t for t in passed if not t.engine.startswith("torch")]
    if fastest.engine.startswith("torch") and others:
        best_other = min(others, key=lambda t: t.ms or 0.0)
        if (fastest.ms or 0.0) > (best_other.ms or 0.0) * (1 - TORCH_MARGIN):
            return best_other
    return fastest


# ---- the cache ----------------------------------------------------------------------------------
def choices_path() -> Path:
    return engines.cache_root() / CHOICES_FILE


def _read() -> dict[str, Any]:
    try:
        data = json.loads(choices_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _model_key(folder: str, task: str) -> str:
    return f"{task}-{engines.content_hash(folder)[:20]}"


def cached(folder: str | Path, task: str) -> dict[str, Any] | None:
    """The choice recorded for this model on this machine, if any: {"engine", "trials", ...}."""
    machine = _read().get(machine_key(), {})
    record = machine.get("models", {}).get(_model_key(str(folder), task))
    return record if isinstance(record, dict) and record.get("engine") in engines.ENGINES else None


def record(folder: str | Path, task: str, trials: list[Trial]) -> dict[str, Any]:
    """Remember the chosen engine of `trials` for this model on this machine."""
    chosen = next((t.engine for t in trials if t.chosen), FP32)
    cpu = cpu_identity()
    entry = {
        "engine": chosen,
        "folder": str(folder),
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "trials": [asdict(t) for t in trials],
    }
    data = _read()
    machine = data.setdefault(machine_key(cpu), {})
    machine["cpu"] = cpu["model"]
    machine["cores"] = cpu["cores"]
    machine["flags"] = [f for f in NOTABLE_FLAGS if f in cpu["flags"]]
    machine.setdefault("models", {})[_model_key(str(folder), task)] = entry
    path = choices_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache only costs measuring again next time
        logger.info("could not record the engine choice in %s (%s)", path, exc)
    return entry


def choose(
    folder: str | Path, task: str, *, refresh: bool = False, keep: dict[str, Encoder] | None = None
) -> str:
    """The engine for this model on this machine: the cached choice, else measured now (and
    cached). A model folder without a tokenizer.json cannot be probed: ONNX Runtime, as before."""
    folder = str(folder)
    if not refresh:
        found = cached(folder, task)
        if found is not None:
            return str(found["engine"])
    if not (Path(folder) / "tokenizer.json").is_file():
        return ONNX
    logger.warning("measuring which engine runs %s fastest on this CPU (once; `qa engines` shows it)", folder)
    started = time.perf_counter()
    trials = measure(folder, task, keep=keep)
    entry = record(folder, task, trials)
    table = ", ".join(f"{t.engine} {t.ms} ms {'ok' if t.passed else 'rejected'}" for t in trials)
    seconds = time.perf_counter() - started
    logger.info(
        "engines for %s (%s) measured in %.1f s: %s; chose %s", folder, task, seconds, table, entry["engine"]
    )
    return str(entry["engine"])


__all__ = ["Trial", "candidates", "choose", "cpu_identity", "machine_key", "measure", "pick"]
