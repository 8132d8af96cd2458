"""One PNG a person would rather look at than read: F1 by question type, and the answer-probability
distribution of right and wrong decisions with the abstention threshold on it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qa.evaluation.metrics import QuestionResult

# (label, colour, test) for the score histogram; every result falls in exactly one group
_OUTCOMES = (
    ("sure, right (F1 ≥ 0.5)", "#2e7d32", lambda r: r.sure and r.answerable and r.f1 >= 0.5),
    ("sure, wrong", "#c62828", lambda r: r.sure and (not r.answerable or r.f1 < 0.5)),
    ("not sure, answer in view", "#a5d6a7", lambda r: not r.sure and r.band == "unsure" and bool(r.in_view)),
    ("not sure / doesn't say, no answer", "#90caf9", lambda r: not r.sure and not r.answerable),
    (
        "not sure / doesn't say, answer missed",
        "#ff9800",
        lambda r: not r.sure and r.answerable and not r.in_view,
    ),
)


def write_chart(
    results: Sequence[QuestionResult], by_type: dict, path: Path, *, title: str, threshold: float | None
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [1, 1.3]})
    fig.suptitle(title, fontsize=12)

    types = sorted(by_type, key=lambda t: by_type[t]["f1"] or 0.0)
    scores = [by_type[t]["f1"] or 0.0 for t in types]
    bars = left.barh([f"{t} ({by_type[t]['count']})" for t in types], scores, color="#5c6bc0")
    left.bar_label(bars, labels=[f"{s:.0f}" for s in scores], padding=3, fontsize=8)
    left.set_xlim(0, 105)
    left.set_xlabel("F1 (%)")
    left.set_title("F1 by question type (questions)")

    bins = [i / 20 for i in range(21)]
    stacked = [[r.score for r in results if test(r)] for _, _, test in _OUTCOMES]
    right.hist(
        stacked,
        bins=bins,
        stacked=True,
        color=[c for _, c, _ in _OUTCOMES],
        label=[f"{label} ({len(s)})" for (label, _, _), s in zip(_OUTCOMES, stacked, strict=True)],
        edgecolor="white",
    )
    if threshold is not None:
        right.axvline(threshold, color="black", linestyle="--", linewidth=1.2)
        right.annotate(
            f"sure from {threshold:.2f}",
            (threshold, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            va="top",
            fontsize=8,
        )
    right.set_xlim(0, 1)
    right.set_xlabel("answer probability (sure at or above the threshold)")
    right.set_ylabel("questions")
    right.set_title("The three bands: sure, not sure, doesn't say")
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["write_chart"]
