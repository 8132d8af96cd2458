"""Record the quality gate's baseline: `python -m qa.evaluation.baseline`.

Evaluates tests/data/article_questions.jsonl exactly as tests/test_quality_gate.py does (the offline
reader, a fresh index of seeds/) and writes the numbers the gate compares against to
tests/data/article_baseline.json. Re-record whenever the reader or the retrieval changes on purpose.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from qa.config import PROJECT_ROOT
from qa.evaluation.datasets import load_dataset
from qa.evaluation.runner import EvalRun, evaluate

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "article_questions.jsonl"
BASELINE = PROJECT_ROOT / "tests" / "data" / "article_baseline.json"
COMMAND = "python -m qa.evaluation.baseline"
TOLERANCE = 2.0  # points the gate allows below the baseline


def gate_assistant(index_dir: Path) -> Any:
    """The assistant the gate measures: offline reader, the seeds indexed into `index_dir`."""
    from qa.assistant import Assistant

    assistant = Assistant.from_config(index_dir=index_dir, reader="offline")
    assistant.index([assistant.settings.seeds_dir], rebuild=True)
    return assistant


def baseline_of(run: EvalRun) -> dict:
    s = run.summary
    return {
        "reader": run.reader,
        "embedding_model": run.settings.get("embedding_model"),
        "questions": len(run.results),
        "f1": s.overall["f1"],
        "exact_match": s.overall["exact_match"],
        "has_answer_f1": s.has_answer["f1"],
        "no_answer_accuracy": s.abstention["no_answer_accuracy"],
        "tolerance_points": TOLERANCE,
        "recorded": date.today().isoformat(),
        "command": COMMAND,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BASELINE, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with tempfile.TemporaryDirectory(prefix="qa-baseline-") as tmp:
        run = evaluate(gate_assistant(Path(tmp)), load_dataset(QUESTIONS).questions)
    record = baseline_of(run)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    logging.getLogger(__name__).warning("wrote %s: %s", args.out, json.dumps(record))


if __name__ == "__main__":
    main()
