"""`qa eval DATASET`: score the assistant on a question set and write a run folder.

Registered on the `qa` group by `qa.cli`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from qa.errors import BadInputError, friendly_errors
from qa.progress import terminal_bar

DEFAULT_RUNS = Path("runs")


def default_run_dir(dataset_name: str, reader_only: bool) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return DEFAULT_RUNS / f"eval-{dataset_name}{'-reader-only' if reader_only else ''}-{stamp}"


@click.command("eval")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print summary.json instead of the table.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder to write.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N questions.")
@click.option("--top-k", type=click.IntRange(min=1), help="Passages to read per question.")
@click.option(
    "--reader-only", is_flag=True, help="SQuAD only: read each question's gold paragraph, no retrieval."
)
@click.option(
    "--compare",
    "compare_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="An earlier run folder: show what got better and worse.",
)
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Index folder (JSONL question sets).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="QA_CONFIG",
    help="YAML settings (default: $QA_CONFIG, then config/default.yaml).",
)
@friendly_errors
def eval_command(
    dataset: Path,
    as_json: bool,
    out: Path | None,
    limit: int | None,
    top_k: int | None,
    reader_only: bool,
    compare_dir: Path | None,
    index_dir: Path | None,
    config: Path | None,
) -> None:
    """Score answers on DATASET: a JSONL question set (asked over the index) or a SQuAD JSON file
    (its paragraphs indexed into a temporary index). Writes summary.json, questions.csv/.json,
    report.md and chart.png into the run folder."""
    from qa.assistant import Assistant
    from qa.evaluation.compare import COMPARE_MD, compare, load_run, render
    from qa.evaluation.datasets import SQUAD, load_dataset
    from qa.evaluation.report import text_summary, write_run
    from qa.evaluation.runner import evaluate_dataset

    data = load_dataset(dataset).limited(limit)
    if reader_only and data.format != SQUAD:
        raise BadInputError(f"--reader-only needs the gold paragraphs; {dataset} is JSONL, use a SQuAD file")
    if compare_dir is not None:
        load_run(compare_dir)  # fail now, not after the run
    assistant = Assistant.from_config(config, index_dir=index_dir)
    if data.format != SQUAD and not assistant.has_index():
        click.echo(
            f"no index at {assistant.index_dir}; building it from {assistant.settings.seeds_dir}", err=True
        )
    run = evaluate_dataset(
        assistant,
        data,
        reader_only=reader_only,
        top_k=top_k,
        progress=terminal_bar("questions", "question"),
        index_progress=terminal_bar("indexing", "passage"),
    )
    folder = out or default_run_dir(data.name, reader_only)
    summary = run.to_dict()
    comparison = None
    if compare_dir is not None:
        comparison = compare(compare_dir, summary, [r.to_dict() for r in run.results])
        summary["compared_with"] = {
            "run": str(compare_dir),
            "metrics": {label: {"before": b, "after": a} for label, b, a in comparison.metrics},
            "better": [c.id for c in comparison.better],
            "worse": [c.id for c in comparison.worse],
        }
    write_run(run, folder, summary=summary)
    if comparison is not None:
        (folder / COMPARE_MD).write_text(
            "# Comparison\n\n```\n" + render(comparison, limit=10_000) + "\n```\n", encoding="utf-8"
        )
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(text_summary(run, folder))
    if comparison is not None:
        click.echo(render(comparison))


__all__ = ["eval_command"]
