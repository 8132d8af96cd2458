"""The verifier (qa/verifier.py): a second opinion on each candidate span, one of the band model's
signals when a reader has one beside it (none ships: docs/reader.md). Unit tests with a made-up one."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from qa.bands import FEATURES, UNVERIFIED, VERIFIED, BandModel, candidates
from qa.errors import ConfigError
from qa.training.verifier import mark, training_rows
from qa.verifier import load, marked
from tests.test_bands import PASSAGE, reader_answer


def test_the_span_is_marked_in_its_sentence():
    sentence = "The deposit of £1,200 is returned within 14 days."
    start = sentence.index("14 days")
    assert marked(sentence, start, start + 7) == "The deposit of £1,200 is returned within « 14 days »."
    # training marks the first occurrence, and a span not in the sentence after it
    assert mark("Rent is 14 days late after 14 days.", "14 days") == "Rent is « 14 days » late after 14 days."
    assert mark("Rent is due.", "the 1st") == "Rent is due. « the 1st »"


class Recording:
    """A made-up verifier: remembers what it was asked, rates the longest span highest."""

    def __init__(self) -> None:
        self.asked: list = []

    def logits(self, question, quotes):
        self.asked.append((question, list(quotes)))
        return [float(end - start) for _, start, end in quotes]


def test_the_readers_best_candidates_get_the_verifiers_opinion_of_their_span_in_their_sentence():
    verifier = Recording()
    found = candidates(
        "how long until the deposit comes back",
        [reader_answer("14 days"), reader_answer("£1,200"), reader_answer("the 1st of each month")],
        verifier=verifier,
    )
    assert VERIFIED == 2  # the third is not asked about: it costs a sentence's reading
    assert [c.values["verifier"] for c in found] == [7.0, 6.0, UNVERIFIED]
    ((question, quotes),) = verifier.asked  # one call a question, for the best two at once
    assert question == "how long until the deposit comes back"
    assert [marked(*q) for q in quotes] == [
        "The deposit of £1,200 is returned within « 14 days ».",
        "The deposit of « £1,200 » is returned within 14 days.",
    ]
    # without a verifier the signal is 0, and a band model that does not weigh it is unchanged
    assert [c.values["verifier"] for c in candidates("how long", [reader_answer("14 days")])] == [0.0]


def test_a_band_model_that_weighs_the_verifier_needs_it_beside_the_reader(tmp_path):
    BandModel(weights=tuple([1.0] * len(FEATURES)), bias=0.0).save(tmp_path)
    with pytest.raises(ConfigError, match=r"weighs the verifier's opinion but .*verifier holds no verifier"):
        BandModel.load(tmp_path, sure=0.5)
    assert load(tmp_path) is None


def test_training_rows_keep_every_right_candidate_and_the_readers_best_wrong_one_first():
    record = {
        "question": "deposit?",
        "answers": ["£1,200"],
        "rows": [(span, PASSAGE, float(span == "£1,200")) for span in ("14 days", "£1,200", "Rent", "1st")],
    }
    rows = training_rows([record], negatives=2, rng=random.Random(0))
    assert [y for _, _, y in rows] == [1.0, 0.0, 0.0]
    assert rows[0][1].startswith("The deposit of « £1,200 »") and "« 14 days »" in rows[1][1]
    unanswerable = {**record, "answers": [], "rows": [(s, p, 0.0) for s, p, _ in record["rows"]]}
    assert len(training_rows([unanswerable], negatives=3, rng=random.Random(0))) == 3


@pytest.mark.slow
def test_a_reader_with_a_verifier_beside_it_gets_its_opinion(tmp_path, real_index_dir, monkeypatch):
    """The real reader with a tiny (untrained) verifier and a band model that weighs it: the
    assistant loads it, asks it about the reader's two best candidates, and `qa engines` lists it."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from qa import Assistant
    from qa.engine_table import model_folders
    from tests.conftest import write_config

    monkeypatch.setenv("QA_ENGINE", "torch-fp32")  # no export or measuring for a throwaway model
    reader = tmp_path / "reader"
    reader.mkdir()
    for part in Path("qa/models/reader").iterdir():
        if part.is_file() and part.name != "bands.json":
            (reader / part.name).symlink_to(part.resolve())
    tokenizer = AutoTokenizer.from_pretrained(reader)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, num_labels=1,
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(reader / "verifier")
    tokenizer.save_pretrained(reader / "verifier")
    shipped = json.loads(Path("qa/models/reader/bands.json").read_text(encoding="utf-8"))
    BandModel(
        tuple([*shipped["weights"], 0.5]), shipped["bias"], shipped["sure"], shipped["close"],
        (*shipped["features"], "verifier"),
    ).save(reader)  # fmt: skip

    settings = write_config(tmp_path, reader="offline", offline_model=str(reader))
    answer = Assistant.from_config(settings, index_dir=real_index_dir).ask("Who was sanctioned by China?")
    opinions = [values["verifier"] for _, _, values, _ in answer.candidates]
    assert len(opinions) > VERIFIED
    asked = [v for v in opinions if v != UNVERIFIED]
    assert len(asked) == VERIFIED and all(v != 0.0 for v in asked), opinions
    assert model_folders(Assistant.from_config(settings).settings)["verifier"] == (
        str(reader / "verifier"),
        "classify",
    )
