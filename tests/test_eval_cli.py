"""`qa eval` as a user runs it: the run folder, the printed table and JSON, --compare, bad datasets."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_evaluation import squad_file

from conftest import DATA
from qa.cli import qa

ARTICLE_SET = DATA / "article_questions.jsonl"


def run(config: Path, *args: str):
    return CliRunner().invoke(qa, ["eval", *args, "--config", str(config)], catch_exceptions=False)


def test_eval_writes_the_run_folder_and_prints_a_short_table(fake_config, tmp_path):
    out = tmp_path / "run"
    result = run(fake_config, str(ARTICLE_SET), "--limit", "6", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "6 questions" in result.stdout and "reader offline:word-overlap" in result.stdout
    for line in (
        "overall (6)",
        "has answer (6)",
        "abstention",
        "retrieval",
        "R@5",
        "latency",
        f"written to {out}",
    ):
        assert line in result.stdout
    assert "%|" not in result.stderr  # no progress bar when not on a terminal ...
    assert "building it from" in result.stderr  # the fake config starts with no index
    said = result.stderr.splitlines()  # ... but lines saying what it is doing, as it goes
    stages = ["loading the models and the index...", "asking 6 questions..."]
    assert [line for line in said if line in stages] == stages
    answered = [line for line in said if line.startswith("answered ")]
    assert answered[0] == "answered 1/6 questions" and answered[-1] == "answered 6/6 questions"
    assert said.index(stages[1]) < said.index(answered[0])
    assert sorted(p.name for p in out.iterdir()) == [
        "chart.png", "questions.csv", "questions.json", "report.md", "summary.json",
    ]  # fmt: skip

    summary = json.loads((out / "summary.json").read_text())
    assert summary["questions"] == 6 and summary["format"] == "jsonl" and summary["mode"] == "retrieval"
    assert summary["reader"] == "offline:word-overlap" and summary["config"]["embedding_model"] == "hash"
    assert set(summary["retrieval"]) == {"recall@1", "recall@3", "recall@5", "mrr", "count"}
    assert summary["latency_ms"]["p50"] > 0

    rows = list(csv.DictReader((out / "questions.csv").open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["q001", "q002", "q003", "q004", "q005", "q006"]
    assert rows[0]["gold"] == "10 Europeans and four institutions | 10 Europeans"
    assert "10 Europeans" in rows[0]["predicted"] and rows[0]["gold_rank"] == "1"
    assert {"question", "exact_match", "f1", "score"} <= set(rows[0])

    report = (out / "report.md").read_text()
    assert "| overall | 6 |" in report and "![" in report and "(chart.png)" in report
    png = (out / "chart.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_eval_json_prints_summary_json(fake_config, tmp_path):
    out = tmp_path / "run"
    result = run(fake_config, str(ARTICLE_SET), "--limit", "3", "--json", "--out", str(out))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == json.loads((out / "summary.json").read_text())
    assert printed["overall"]["count"] == 3


def test_eval_writes_into_runs_by_default(fake_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(fake_config, str(ARTICLE_SET), "--limit", "1")
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("eval-article_questions-") and (folder / "summary.json").is_file()


def test_eval_squad_reader_only_is_reported_as_reader_only(fake_config, tmp_path):
    out = tmp_path / "run"
    result = run(fake_config, str(squad_file(tmp_path)), "--reader-only", "--json", "--out", str(out))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["mode"] == "reader-only" and summary["format"] == "squad"
    assert summary["retrieval"] is None
    assert summary["has_answer"]["count"] == 3 and summary["no_answer"]["count"] == 2


def test_eval_squad_with_retrieval_indexes_the_paragraphs(fake_config, tmp_path):
    result = run(fake_config, str(squad_file(tmp_path)), "--json", "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["corpus"]["index"] == "temporary" and summary["corpus"]["paragraphs"] == 3
    assert summary["retrieval"]["count"] == 3
    said = result.stderr.splitlines()
    assert "indexing the 3 paragraphs into a temporary index..." in said
    assert f"indexed {summary['corpus']['passages']}/{summary['corpus']['passages']} passages" in said


def test_compare_lists_what_got_better_and_worse(fake_config, tmp_path):
    before = tmp_path / "before"
    assert run(fake_config, str(ARTICLE_SET), "--limit", "4", "--out", str(before)).exit_code == 0
    # make the earlier run look different: q001 was abstained on, q002 was answered exactly
    rows = json.loads((before / "questions.json").read_text())
    rows[0] |= {"predicted": None, "f1": 0.0}
    rows[1] |= {"predicted": "Wang Yi", "f1": 1.0}
    (before / "questions.json").write_text(json.dumps(rows))

    after = tmp_path / "after"
    result = run(fake_config, str(ARTICLE_SET), "--limit", "4", "--out", str(after), "--compare", str(before))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert f"compared with {before}" in text
    assert "better (1):\n  q001 F1 0.00 -> 0.29" in text and "(abstained) -> '" in text
    assert "worse (1):\n  q002 F1 1.00 -> 0.00" in text and "'Wang Yi' -> " in text
    assert "unchanged: 2" in text
    summary = json.loads((after / "summary.json").read_text())
    assert summary["compared_with"]["better"] == ["q001"] and summary["compared_with"]["worse"] == ["q002"]
    assert "q002" in (after / "compare.md").read_text()


def test_compare_with_a_folder_that_is_not_a_run_fails_before_evaluating(fake_config, tmp_path):
    result = run(fake_config, str(ARTICLE_SET), "--out", str(tmp_path / "run"), "--compare", str(tmp_path))
    assert result.exit_code != 0
    assert result.stderr.startswith("error: --compare") and "qa eval --out" in result.stderr
    assert not (tmp_path / "run").exists()


def test_eval_checks_what_it_needs_before_it_starts(fake_config, tmp_path):
    """Without matplotlib (chart.png) `qa eval` says what to install at once, not after the questions."""
    out = tmp_path / "run"
    code = "import sys; sys.modules['matplotlib'] = None; from qa.cli import main; main()"
    args = ["eval", str(ARTICLE_SET), "--out", str(out), "--config", str(fake_config)]
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "matplotlib" in result.stderr, result.stderr
    assert "pip install -e ." in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not (fake_config.parent / "index").exists()  # nothing was run


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "not found; pass a .jsonl question set or a SQuAD .json file"),
        ("this is not json\n", "line 1: not JSON"),
        ('{"data": [{"title": "t", "paragraphs": [{"context": "c"}]}]}', 'missing "qas"'),
        ('{"questions": []}', 'missing "question"'),
    ],
)
def test_bad_dataset_is_one_line_on_stderr_and_a_non_zero_exit(fake_config, tmp_path, content, expected):
    path = tmp_path / "set.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run(fake_config, str(path), "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: dataset ")
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_reader_only_on_a_question_set_says_to_use_squad(fake_config, tmp_path):
    result = run(fake_config, str(ARTICLE_SET), "--reader-only", "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert "--reader-only needs the gold paragraphs" in result.stderr and "SQuAD" in result.stderr
