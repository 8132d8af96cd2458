"""Record the quality gate's baselines: `python -m qa.evaluation.baseline`.

Evaluates each gate set exactly as tests/test_quality_gate.py does (the offline reader, a fresh index
of the set's documents) and writes the numbers the gate compares against beside its questions:
the article set (tests/data/article_questions.jsonl over seeds/) and the own-documents set
(tests/data/own_documents/). Re-record whenever the reader or the retrieval changes on purpose.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from qa.config import PROJECT_ROOT
from qa.evaluation.datasets import load_dataset
from qa.evaluation.runner import EvalRun, evaluate

DATA = PROJECT_ROOT / "tests" / "data"
COMMAND = "python -m qa.evaluation.baseline"
TOLERANCE = 2.0  # points the gate allows below the baseline


@dataclass(frozen=True)
class GateSet:
    name: str
    questions: Path
    documents: Path | None  # None: the configured seeds
    baseline: Path

    def paths(self) -> list[Path] | None:
        """What the gate indexes: the documents of `documents` that its questions name (the folder
        grows as the question set does; a gate stays on what its baseline was recorded over), or
        the whole folder when its questions name none; None: the seeds."""
        if self.documents is None:
            return None
        rows = [
            json.loads(line)
            for line in self.questions.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        named = sorted({row["document"] for row in rows if row.get("document")})
        return [self.documents / name for name in named] if named else [self.documents]


GATE_SETS = (
    GateSet("article", DATA / "article_questions.jsonl", None, DATA / "article_baseline.json"),
    GateSet(
        "own_documents",
        DATA / "own_documents" / "questions.jsonl",
        DATA / "own_documents" / "documents",
        DATA / "own_documents" / "baseline.json",
    ),
)


def gate_assistant(index_dir: Path, documents: list[Path] | None = None) -> Any:
    """The assistant the gate measures: offline reader, `documents` (default: the seeds) indexed
    into `index_dir`."""
    from qa.assistant import Assistant

    assistant = Assistant.from_config(index_dir=index_dir, reader="offline")
    assistant.index(documents or [assistant.settings.seeds_dir], rebuild=True)
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
    names = [s.name for s in GATE_SETS]
    parser.add_argument("--only", choices=names, help="record one set (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for gate in GATE_SETS:
        if args.only and gate.name != args.only:
            continue
        with tempfile.TemporaryDirectory(prefix="qa-baseline-") as tmp:
            assistant = gate_assistant(Path(tmp), gate.paths())
            run = evaluate(assistant, load_dataset(gate.questions).questions)
        record = baseline_of(run)
        gate.baseline.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        logging.getLogger(__name__).warning("wrote %s: %s", gate.baseline, json.dumps(record))


if __name__ == "__main__":
    main()
