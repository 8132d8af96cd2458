"""`qa engines`: measure which engine runs the embedder, the reader and its verifier fastest on this CPU
(with the same results as torch fp32), record the choice, and print the table it measured
(index/engine_choice.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from qa.errors import friendly_errors


def model_folders(settings: Any) -> dict[str, tuple[str, str] | None]:
    """The folders of the models the engines run, by role: (folder, task), or None when that role's
    model does not run on them (the hash embedder, a hub model, the word-overlap reader)."""
    from index.embedding import BUNDLED, bundled_model_path
    from qa.readers import OVERLAP, choose_reader

    embedder = (bundled_model_path(), "embed") if settings.embedding_model == BUNDLED else None
    choice = choose_reader(settings)
    offline = choice.kind == "offline" and choice.model != OVERLAP and Path(choice.model).is_dir()
    from qa.verifier import load

    checker = load(choice.model) if offline else None
    return {
        "embedder": embedder,
        "reader": (choice.model, "qa") if offline else None,
        "verifier": (checker.folder, "classify") if checker is not None else None,
    }


def measure_all(settings: Any, *, refresh: bool = True) -> dict[str, Any]:
    """Each role's trials and chosen engine (measured now, or as recorded with `refresh=False`)."""
    from index import engine_choice

    cpu = engine_choice.cpu_identity()
    report: dict[str, Any] = {
        "cpu": cpu["model"],
        "cores": cpu["cores"],
        "flags": [f for f in engine_choice.NOTABLE_FLAGS if f in cpu["flags"]],
        "candidates": engine_choice.candidates(cpu),
        "cache": str(engine_choice.choices_path()),
    }
    for role, found in model_folders(settings).items():
        if found is None:
            report[role] = None
            continue
        folder, task = found
        if refresh:
            engine_choice.choose(folder, task, refresh=True)
        entry = engine_choice.cached(folder, task)
        report[role] = {"folder": folder, **(entry or {"engine": None, "trials": []})}
    return report


def render(report: dict[str, Any]) -> str:
    """The measured table: one row per engine, the embedder's and the reader's ms and quality."""
    flags = ", ".join(report["flags"]) or "none of note"
    lines = [f"CPU: {report['cpu']} ({report['cores']} cores; {flags})"]
    table: list[tuple[str, ...]] = [("engine", "embed ms", "read ms", "quality vs torch fp32", "chosen")]
    table += table_rows(report)
    widths = [max(len(str(r[i])) for r in table) for i in range(4)]
    for r in table:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r[:4], widths, strict=False)) + "  " + r[4])
    for role in ("embedder", "reader"):
        entry = report.get(role)
        if entry is None:
            lines.append(f"{role}: runs on no engine here (not a bundled-kind model)")
        elif entry["engine"] is None:
            lines.append(f"{role}: not measured on this CPU yet (run `qa engines`)")
        else:
            lines.append(f"{role}: {entry['engine']} (measured {entry['measured']})")
    lines.append(f"recorded in {report['cache']}; QA_ENGINE=NAME overrides the choice")
    return "\n".join(lines)


def table_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(engine, embed ms, read ms, quality, chosen roles) for each engine measured (`measure_all`)."""
    rows: dict[str, dict[str, Any]] = {}
    for role in ("embedder", "reader"):
        for trial in (report.get(role) or {}).get("trials", []):
            rows.setdefault(trial["engine"], {})[role] = trial
    found = []
    for engine, row in rows.items():
        embed, read = row.get("embedder"), row.get("reader")
        quality = "; ".join(
            f"{name} {'ok' if t['passed'] else 'REJECTED'} ({t['quality']})"
            for name, t in (("embed", embed), ("read", read))
            if t
        )
        chosen = " + ".join(name for name, t in (("embedder", embed), ("reader", read)) if t and t["chosen"])
        found.append((engine, _ms(embed), _ms(read), quality, chosen or "-"))
    return found


def _ms(trial: dict[str, Any] | None) -> str:
    if trial is None or trial.get("ms") is None:
        return "-"
    return f"{trial['ms']:.1f}"


@click.command("engines")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--cached", is_flag=True, help="Show the recorded choice without measuring again.")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="QA_CONFIG",
    help="YAML settings (default: $QA_CONFIG, then config/default.yaml).",
)
@friendly_errors
def engines_command(as_json: bool, cached: bool, config: Path | None) -> None:
    """Time each inference engine this CPU can run on the embedder and the reader, check each gives
    torch fp32's results, and record the fastest that does (what QA_ENGINE=auto uses)."""
    from qa.config import load_settings

    settings = load_settings(config)
    if not cached:
        click.echo("measuring the engines on this CPU (a few seconds)...", err=True)
    report = measure_all(settings, refresh=not cached)
    click.echo(json.dumps(report, ensure_ascii=False) if as_json else render(report))
