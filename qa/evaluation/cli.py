"""`qa eval DATASET`: score the assistant on a question set and write a run folder.

Registered on the `qa` group by `qa.cli`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from qa.errors import BadInputError, ConfigError, friendly_errors
from qa.progress import Progress, terminal_bar

DEFAULT_RUNS = Path("runs")


def check_needs() -> None:
    """What `qa eval` needs beyond answering, checked before it starts (not after the questions)."""
    try:
        import matplotlib  # noqa: F401  (chart.png)
    except ImportError as exc:
        raise ConfigError(
            f"qa eval draws chart.png with matplotlib, which is not installed ({exc}); "
            "run `.venv/bin/pip install -e .` (or `pip install matplotlib`)"
        ) from exc


def _say(message: str) -> None:
    click.echo(f"{message}...", err=True)


def progress_lines(desc: str, unit: str) -> Progress:
    """A bar on a terminal; elsewhere (a log, CI) a line at every tenth of the work."""
    bar = terminal_bar(desc, unit)
    if bar is not None:
        return bar
    shown = {"tenth": -1}

    def update(done: int, total: int, loss: float | None = None) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != shown["tenth"]:
            shown["tenth"] = tenth
            click.echo(f"{desc} {done}/{total} {unit}s", err=True)

    return update


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
    check_needs()
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
        progress=progress_lines("answered", "question"),
        index_progress=progress_lines("indexed", "passage"),
        status=_say,
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
