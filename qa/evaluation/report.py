"""A run folder: summary.json, questions.csv/.json, report.md and chart.png; and the short text
table `qa eval` prints for people."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from qa.evaluation.chart import write_chart
from qa.evaluation.metrics import RECALL_AT
from qa.evaluation.runner import EvalRun

SUMMARY = "summary.json"
QUESTIONS_CSV = "questions.csv"
QUESTIONS_JSON = "questions.json"
REPORT = "report.md"
CHART = "chart.png"
CSV_COLUMNS = (
    "id", "type", "question", "gold", "predicted", "abstained", "score", "exact_match", "f1", "gold_rank",
    "latency_ms", "rewritten_question",
)  # fmt: skip


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def write_run(run: EvalRun, folder: Path, summary: dict | None = None) -> Path:
    """Write every file of the run into `folder` (created); `summary` replaces `run.to_dict()` in
    summary.json (e.g. with a comparison added). Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = run.to_dict() if summary is None else summary
    (folder / SUMMARY).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    rows = [r.to_dict() for r in run.results]
    (folder / QUESTIONS_JSON).write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", "utf-8")
    with (folder / QUESTIONS_CSV).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                row
                | {
                    "gold": " | ".join(row["gold"]),
                    "predicted": row["predicted"] or "",
                    "gold_rank": "" if row["gold_rank"] is None else row["gold_rank"],
                    "rewritten_question": row["rewritten_question"] or "",
                }
            )
    title = f"{Path(run.dataset).name} · {run.mode} · {run.reader}"
    write_chart(run.results, run.summary.by_type, folder / CHART, title=title, threshold=run.threshold)
    (folder / REPORT).write_text(markdown(run), encoding="utf-8")
    return folder


def headline_rows(run: EvalRun) -> list[tuple[str, str]]:
    s = run.summary
    rows = [
        (f"{name} ({block['count']})", f"EM {_num(block['exact_match'])}  F1 {_num(block['f1'])}")
        for name, block in (("overall", s.overall), ("has answer", s.has_answer), ("no answer", s.no_answer))
        if block["count"]
    ]
    b = s.bands
    if b:
        rows.append(
            (
                "bands",
                f"sure {b['sure']}  not sure {b['unsure']}  doesn't say {b['none']}  "
                f"(EM/F1 strict: a 'not sure' reply counts as no answer)",
            )
        )
        rows.append(
            (
                "sure answers",
                f"precision {_num(b['sure_precision'])}  coverage {_num(b['sure_coverage'])}  "
                f"answer in view {_num(b['answer_in_view'])}  "
                f"sure on unanswerable {_num(b['sure_on_unanswerable'])}",
            )
        )
    a = s.abstention
    rows.append(
        (
            "abstention",
            f"precision {_num(a['precision'])}  recall {_num(a['recall'])}  "
            f"(no-answer accuracy {_num(a['no_answer_accuracy'])}, "
            f"has-answer abstention {_num(a['has_answer_abstention_rate'])})",
        )
    )
    if a.get("answerability_auc") is not None:
        rows.append(("answerability", f"ROC AUC {a['answerability_auc']:.3f} (answer probability)"))
    if s.retrieval:
        r = s.retrieval
        recall = "  ".join(f"R@{k} {_num(r[f'recall@{k}'])}" for k in RECALL_AT)
        rows.append(("retrieval", f"{recall}  MRR {r['mrr']:.3f}"))
    rows.append(("latency", f"p50 {_ms(s.latency_ms['p50'])}  p95 {_ms(s.latency_ms['p95'])}"))
    return rows


def text_summary(run: EvalRun, folder: Path | None = None) -> str:
    """The short table for people."""
    lines = [f"{run.dataset}: {len(run.results)} questions, {run.mode}, reader {run.reader}"]
    rows = headline_rows(run)
    width = max(len(name) for name, _ in rows)
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    if folder is not None:
        lines.append(f"written to {folder}")
    return "\n".join(lines)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(run: EvalRun) -> str:
    s = run.summary
    parts = [
        f"# Evaluation: {Path(run.dataset).name}",
        "",
        f"{len(run.results)} questions · mode **{run.mode}** · reader **{run.reader}** · "
        f"threshold {_num(run.threshold, 2)} · {run.created}",
        "",
        _md_table(
            ["", "questions", "exact match", "F1"],
            [
                [name, str(b["count"]), _num(b["exact_match"]), _num(b["f1"])]
                for name, b in (
                    ("overall", s.overall),
                    ("has answer", s.has_answer),
                    ("no answer", s.no_answer),
                )
            ],
        ),
        "",
        _md_table(
            ["measure", "value"],
            [
                [name, value]
                for name, value in headline_rows(run)
                if not name.startswith(("overall", "has", "no "))
            ],
        ),
        "",
        f"![F1 by question type and answer probabilities]({CHART})",
        "",
        "## By question type",
        "",
        _md_table(
            ["type", "questions", "exact match", "F1"],
            [[t, str(b["count"]), _num(b["exact_match"]), _num(b["f1"])] for t, b in s.by_type.items()],
        ),
        "",
    ]
    misses = [r for r in run.results if r.f1 < 0.5][:25]
    if misses:
        parts += [
            f"## Wrong answers ({sum(r.f1 < 0.5 for r in run.results)}; first {len(misses)})",
            "",
            _md_table(
                ["id", "question", "gold", "band", "predicted", "score", "gold rank"],
                [
                    [
                        r.id,
                        r.question,
                        " / ".join(r.gold) or "(no answer)",
                        r.band or "–",
                        _short(r.predicted or r.candidate or "") or "(abstained)",
                        f"{r.score:.2f}",
                        "–" if r.gold_rank is None else str(r.gold_rank or "not retrieved"),
                    ]
                    for r in misses
                ],
            ),
            "",
        ]
    if run.corpus:
        parts += ["## Corpus", "", "```json", json.dumps(run.corpus, indent=2), "```", ""]
    parts += ["## Configuration", "", "```json", json.dumps(run.settings, indent=2), "```", ""]
    return "\n".join(parts)


__all__ = ["CHART", "QUESTIONS_CSV", "QUESTIONS_JSON", "REPORT", "SUMMARY", "text_summary", "write_run"]
