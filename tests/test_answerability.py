"""The answer-or-abstain decision: signals of the span's form, saved weights that name their signals."""

import json

import pytest

from qa.answerability import FEATURES, Calibrator, signals, type_fit
from qa.calibration import Observation, fit
from qa.errors import ConfigError


@pytest.mark.parametrize(
    ("question", "span", "expected"),
    [
        ("When was the treaty signed?", "in June 1815", 1.0),
        ("When was the treaty signed?", "Vienna", 0.0),
        ("How many articles did it have?", "121 articles", 1.0),
        ("How many articles did it have?", "the final act", 0.0),
        ("Who was sanctioned by China?", "10 Europeans and four institutions", 1.0),
        ("Who signed it?", "the final act", 0.0),
        ("Why did it end?", "a long war", 0.5),
    ],
)
def test_type_fit_says_whether_the_span_has_the_form_the_question_asks_for(question, span, expected):
    assert type_fit(question, span) == expected


def test_a_span_that_repeats_the_question_is_marked():
    passage = "The treaty was signed by Metternich."
    seen = signals(0.6, {}, "Who signed the treaty?", passage, "the treaty", 0.5)
    assert seen["span_in_question"] == 1.0
    assert seen["runner_up_gap"] == pytest.approx(0.1)
    assert set(seen) == set(FEATURES)


def test_a_calibrator_saved_with_fewer_signals_still_loads_and_unknown_ones_are_refused(tmp_path):
    old = {"features": list(FEATURES[:5]), "weights": [10.0, 0, 0, 0, 0], "bias": -5.0, "threshold": 0.3}
    (tmp_path / "answerability.json").write_text(json.dumps(old), encoding="utf-8")
    calibrator = Calibrator.load(tmp_path)
    values = signals(0.9, {}, "Who?", "Metternich", "Metternich")
    assert calibrator.probability(values) > 0.9
    old["features"][0] = "mystery"
    (tmp_path / "answerability.json").write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(ConfigError, match="recalibrate"):
        Calibrator.load(tmp_path)


def test_fit_on_a_subset_of_signals_learns_that_a_higher_span_score_means_right():
    rows = [
        Observation(x=[s, 0, 0, 0, 0, 0, 0.5, 0, 1], f1=float(s > 0.5), answerable=True)
        for s in [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9] * 5
    ]
    calibrator = fit(rows, features=("span_score",))
    assert calibrator.features == ("span_score",)
    low = calibrator.probability(dict(zip(FEATURES, rows[0].x, strict=True)))
    high = calibrator.probability(dict(zip(FEATURES, rows[-1].x, strict=True)))
    assert low < 0.5 < high
