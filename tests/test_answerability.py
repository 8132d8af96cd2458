"""The answer-or-abstain decision: saved weights name the signals they weigh."""

import json

import pytest

from qa.answerability import FEATURES, Calibrator, signals
from qa.errors import ConfigError
from qa.training.calibration import Observation, fit, observed


def test_a_calibrator_weighs_the_signals_its_file_names_and_refuses_unknown_ones(tmp_path):
    saved = {"features": ["span_score"], "weights": [10.0], "bias": -5.0, "threshold": 0.3}
    (tmp_path / "answerability.json").write_text(json.dumps(saved), encoding="utf-8")
    calibrator = Calibrator.load(tmp_path)
    assert calibrator.probability(signals(0.9, {}, "Who?", "Metternich")) > 0.9
    assert calibrator.probability(signals(0.1, {}, "Who?", "Metternich")) < 0.1
    saved["features"] = ["mystery"]
    (tmp_path / "answerability.json").write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(ConfigError, match="recalibrate"):
        Calibrator.load(tmp_path)


def test_fit_on_a_subset_of_signals_learns_that_a_higher_span_score_means_right():
    rows = [
        Observation(x=[s, 0.5, 0.5, 1.0, 0.5, 1.0, 2.0, 0.0], f1=float(s > 0.5), answerable=True)
        for s in [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9] * 5
    ]
    calibrator = fit(rows, features=("span_score",))
    assert calibrator.features == ("span_score",)
    low = calibrator.probability(dict(zip(FEATURES, rows[0].x, strict=True)))
    high = calibrator.probability(dict(zip(FEATURES, rows[-1].x, strict=True)))
    assert low < 0.5 < high


def test_calibration_names_only_the_signals_the_reader_computed():
    # no classifier beside the reader: its signal is 0 throughout, and naming it would make the
    # calibrated reader refuse to load ("weighs a classifier, but has none")
    rows = [
        Observation(x=[s, s / 2, 0.5, 1.0, 0.5, 1.0, 3 * s, 0.0], f1=float(s > 0.5), answerable=True)
        for s in [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]
    ]
    assert observed(rows) == ("span_score", "dense_score", "null_margin")


def test_a_file_from_before_signals_were_named_weighs_the_first_five(tmp_path):
    saved = {"weights": [10.0, 0.0, 0.0, 0.0, 0.0], "bias": -5.0, "threshold": 0.3}
    (tmp_path / "answerability.json").write_text(json.dumps(saved), encoding="utf-8")
    calibrator = Calibrator.load(tmp_path)
    assert calibrator.probability(signals(0.9, {}, "Who?", "Metternich", {"sentence_score": 2.0})) > 0.9


def reader_weighing(folder, signal: str):
    """A copy of the bundled reader whose calibrator weighs the span score and `signal`."""
    import shutil

    from qa.readers import BUNDLED_READER

    shutil.copytree(BUNDLED_READER, folder)
    saved = {"features": ["span_score", signal], "weights": [1.0, 0.5], "bias": 0.0, "threshold": 0.5}
    (folder / "answerability.json").write_text(json.dumps(saved), encoding="utf-8")
    return folder


@pytest.mark.slow
def test_the_reader_no_answer_logit_is_reported_when_weighed_or_uncalibrated(tmp_path, real_index_dir):
    from conftest import EXAMPLE_QUESTION
    from qa import Assistant

    def margins(model, **settings) -> tuple[float, ...]:
        assistant = Assistant.from_config(
            index_dir=real_index_dir, reader="offline", offline_model=str(model), **settings
        )
        return tuple(
            assistant.ask(q).signals["null_margin"] for q in (EXAMPLE_QUESTION, "Who won the 2018 World Cup?")
        )

    weighed = reader_weighing(tmp_path / "weighed", "null_margin")
    answered, off_topic = margins(weighed, answer_ranking="span")
    assert answered > off_topic  # the span stands further above "no answer" when the text answers
    (weighed / "answerability.json").unlink()  # uncalibrated: reported, so a calibration can weigh it
    assert margins(weighed, answer_ranking="span") == (answered, off_topic)
    # neither weighed nor ranked by: still reported, it comes from the reader's one pass (issue 18.4)
    not_weighed = margins(reader_weighing(tmp_path / "not", "sentence_score"), answer_ranking="span")
    assert not_weighed == pytest.approx((answered, off_topic), abs=1e-4)


@pytest.mark.slow
def test_the_answerability_classifier_is_weighed_when_its_calibrator_names_it(tmp_path, real_index_dir):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from conftest import EXAMPLE_QUESTION
    from qa import Assistant
    from qa.readers import CLASSIFIER

    model = reader_weighing(tmp_path / "reader", "classifier")
    with pytest.raises(ConfigError, match="qa train-answerability"):  # weighed, but not there
        Assistant.from_config(index_dir=real_index_dir, reader="offline", offline_model=str(model)).warm_up()
    tokenizer = AutoTokenizer.from_pretrained(model)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, num_labels=1)  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(model / CLASSIFIER)
    tokenizer.save_pretrained(model / CLASSIFIER)
    assistant = Assistant.from_config(index_dir=real_index_dir, reader="offline", offline_model=str(model))
    first = assistant.ask(EXAMPLE_QUESTION).signals["classifier"]
    second = assistant.ask("Who won the 2018 World Cup?").signals["classifier"]
    assert first != 0.0 and first != second  # a logit for each (question, sentence)
