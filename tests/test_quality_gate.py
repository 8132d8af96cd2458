"""Quality gate: the article set must not get worse than its recorded baseline.

The real offline assistant (bundled embedder and reader, seeds indexed) answers all of
tests/data/article_questions.jsonl; F1 and no-answer accuracy may not drop more than 2 points below
tests/data/article_baseline.json. The models are deterministic, so this is stable. After a deliberate
change of reader or retrieval, re-record with `python -m qa.evaluation.baseline` (docs/evaluation.md).
"""

import json

import pytest

from conftest import DATA
from qa.evaluation import evaluate, load_dataset
from qa.evaluation.baseline import COMMAND, TOLERANCE

BASELINE = json.loads((DATA / "article_baseline.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def article_run(real_assistant):
    return evaluate(real_assistant, load_dataset(DATA / "article_questions.jsonl").questions)


@pytest.mark.slow
def test_the_baseline_was_recorded_with_the_reader_under_test(article_run):
    assert article_run.reader == BASELINE["reader"], (
        f"the baseline was recorded with {BASELINE['reader']}, the assistant now uses {article_run.reader}; "
        f"re-record it with `{COMMAND}`"
    )
    assert len(article_run.results) == BASELINE["questions"]


@pytest.mark.slow
@pytest.mark.parametrize(("metric", "value"), [("f1", "overall"), ("no_answer_accuracy", "abstention")])
def test_article_set_does_not_drop_below_the_baseline(article_run, metric, value):
    block = getattr(article_run.summary, value)
    measured, recorded = block[metric], BASELINE[metric]
    assert measured >= recorded - TOLERANCE, (
        f"{metric} on the article set fell to {measured:.1f} from the recorded {recorded:.1f} "
        f"(allowed: {TOLERANCE} points); if the change is intended, re-record with `{COMMAND}`"
    )
