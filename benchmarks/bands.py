"""Benchmark: the three bands on documents like users' (issue 32). Not a test.

    python benchmarks/bands.py                      # held-out half, calibration half, article set
    python benchmarks/bands.py --squad ../shared/data/squad2-dev-16articles.json   # + SQuAD validation

Each set is asked through `Assistant.ask` and scored by `qa.evaluation` (the path `qa eval` takes):
sure precision, sure coverage, answer in view, sure on unanswerable, strict F1 (only sure answers
count), follow-ups apart, and the warm latency. The own-documents set is split by document
(tests/data/own_documents/split.json): the band model was fitted on the calibration half only, so the
"report" half is documents and questions it never saw. Prints a table and writes
benchmarks/bands.json with the CPU it ran on.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Assistant  # noqa: E402
from qa.evaluation import evaluate, load_dataset  # noqa: E402
from qa.evaluation.datasets import Question  # noqa: E402
from qa.evaluation.metrics import summarize  # noqa: E402
from qa.training.bands import questions_of  # noqa: E402

OWN = ROOT / "tests" / "data" / "own_documents"
ARTICLE = ROOT / "tests" / "data" / "article_questions.jsonl"
VALIDATION = {"Warsaw", "French_and_Indian_War", "Force"}  # SQuAD dev articles no stage trained on
OUT = ROOT / "benchmarks" / "bands.json"


def cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    flags = set(fields.get("Flags", "").split())
    wanted = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    model, cpus = fields.get("Model name", "?").strip(), fields.get("CPU(s)", "?").strip()
    return f"{model} ({', '.join(wanted) or 'no AVX2'}), {cpus} CPUs"


def figures(run) -> dict:
    s = run.summary
    follow = [r for r in run.results if r.history_turns]
    return {
        "questions": len(run.results),
        **{
            k: s.bands[k]
            for k in ("sure_precision", "sure_coverage", "answer_in_view", "sure_on_unanswerable")
        },
        "strict_f1": s.overall["f1"],
        "bands": {k: s.bands[k] for k in ("sure", "unsure", "none")},
        "followups": len(follow),
        "followup_strict_f1": summarize(follow).overall["f1"] if follow else None,
        "latency_ms_p50": s.latency_ms["p50"],
        "latency_ms_p95": s.latency_ms["p95"],
    }


def run_set(name: str, questions: list[Question], documents: list[Path] | None, tmp: Path) -> dict:
    assistant = Assistant.from_config(index_dir=tmp / name, reader="offline")
    assistant.index(documents or [ROOT / "seeds"], rebuild=True)
    numbers = figures(evaluate(assistant, questions))
    print(f"{name:<22} " + json.dumps(numbers), flush=True)
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, help="squad2-dev-16articles.json: adds its validation articles")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    split = json.loads((OWN / "split.json").read_text(encoding="utf-8"))
    results: dict = {"cpu": cpu(), "reader": Assistant.from_config(reader="offline").reader, "sets": {}}
    print(results["cpu"])
    with tempfile.TemporaryDirectory(prefix="qa-bands-") as tmp:
        halves = questions_of(OWN)  # by split.json, as the band model was fitted
        for half in ("report", "calibrate"):
            docs = [OWN / "documents" / name for name in split[half]]
            results["sets"][f"own documents, {half}"] = run_set(half, halves[half], docs, Path(tmp))
        results["sets"]["article"] = run_set("article", load_dataset(ARTICLE).questions, None, Path(tmp))
        if args.squad:
            from qa.evaluation import evaluate_dataset

            data = load_dataset(args.squad)
            questions = [q for q in data.questions if q.title in VALIDATION]
            paragraphs = [p for p in data.paragraphs if p.title in VALIDATION]
            subset = type(data)(data.path, data.format, questions, paragraphs)
            scratch = Assistant.from_config(index_dir=Path(tmp) / "squad", reader="offline")
            numbers = figures(evaluate_dataset(scratch, subset))
            print(f"{'squad validation':<22} " + json.dumps(numbers), flush=True)
            results["sets"]["SQuAD 2.0 validation articles"] = numbers
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
