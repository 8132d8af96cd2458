"""Quality gate: the article set and the own-documents set must not get worse than their baselines.

The real offline assistant (bundled embedder and reader) answers each gate set over a fresh index of
its documents (seeds/ for the article set); F1 and no-answer accuracy may not drop more than 2 points
below the recorded baseline. The models are deterministic, so this is stable. After a deliberate
change of reader or retrieval, re-record with `python -m qa.evaluation.baseline` (docs/evaluation.md).
"""

import json

import pytest

from qa.evaluation import evaluate, load_dataset
from qa.evaluation.baseline import COMMAND, GATE_SETS, TOLERANCE

GATES = {gate.name: gate for gate in GATE_SETS}


@pytest.fixture(scope="module", params=sorted(GATES))
def gate_run(request, real_assistant, tmp_path_factory):
    gate = GATES[request.param]
    assistant = real_assistant
    documents = gate.paths()
    if documents is not None:  # the real models, over an index of the set's own documents
        from qa import Assistant

        assistant = Assistant.from_config(index_dir=tmp_path_factory.mktemp(gate.name), reader="offline")
        assistant.index(documents, rebuild=True)
    run = evaluate(assistant, load_dataset(gate.questions).questions)
    return gate, run, json.loads(gate.baseline.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_the_baseline_was_recorded_with_the_reader_under_test(gate_run):
    gate, run, baseline = gate_run
    assert run.reader == baseline["reader"], (
        f"the {gate.name} baseline was recorded with {baseline['reader']}, the assistant now uses "
        f"{run.reader}; re-record it with `{COMMAND}`"
    )
    assert len(run.results) == baseline["questions"]


@pytest.mark.slow
@pytest.mark.parametrize(("metric", "value"), [("f1", "overall"), ("no_answer_accuracy", "abstention")])
def test_gate_sets_do_not_drop_below_their_baselines(gate_run, metric, value):
    gate, run, baseline = gate_run
    measured, recorded = getattr(run.summary, value)[metric], baseline[metric]
    assert measured >= recorded - TOLERANCE, (
        f"{metric} on the {gate.name} set fell to {measured:.1f} from the recorded {recorded:.1f} "
        f"(allowed: {TOLERANCE} points); if the change is intended, re-record with `{COMMAND}`"
    )
