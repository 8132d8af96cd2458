"""The three bands (qa/bands.py), questions as people type them (qa/phrasing.py), and how qa eval
scores bands (qa/evaluation/metrics.py): unit tests with made-up candidates, no models."""

from __future__ import annotations

import json

import pytest
from haystack import Document
from haystack.dataclasses import ExtractedAnswer

from qa.answer import Alternative, Answer, Source
from qa.bands import (
    FEATURES,
    BandModel,
    alternatives,
    candidates,
    echo,
    kind_fit,
    question_kind,
    span_kind,
)
from qa.errors import ConfigError
from qa.evaluation.metrics import QuestionResult, band_figures
from qa.phrasing import as_question, correct_spelling

PASSAGE = "The deposit of £1,200 is returned within 14 days. Rent is due on the 1st of each month."


def reader_answer(span: str, margin: float = 2.0, passage: str = PASSAGE) -> ExtractedAnswer:
    start = passage.index(span)
    doc = Document(content=passage, meta={"document": "lease.md", "dense_score": 0.6})
    return ExtractedAnswer(
        query="q",
        score=0.8,
        data=span,
        document=doc,
        document_offset=ExtractedAnswer.Span(start, start + len(span)),
        meta={"null_margin": margin, "sentence_score": 1.2},
    )


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("how much is the deposit", "number"),
        ("wehn is rent due", "other"),  # a typo hides the kind: the reader reads it put right
        ("when is rent due?", "when"),
        ("By when must stalls be booked?", "when"),
        ("who signs it", "who"),
        ("where do i leave the keys", "where"),
        ("what colour is the door", "other"),
    ],
)
def test_the_kind_of_thing_asked(question, kind):
    assert question_kind(question) == kind


def test_a_date_does_not_answer_where_and_a_number_answers_how_many():
    assert kind_fit("where was she born", "in March 1968") == 0.0
    assert kind_fit("when does it open", "at 9 a.m.") == 1.0
    assert span_kind("you may cancel online") == "words" and span_kind("by 3 May") == "time"
    assert kind_fit("how many days", "14 days") == 1.0
    assert kind_fit("who chairs the board", "Ada Brandt") == 1.0
    assert kind_fit("what colour is it", "blue") == 0.5


def test_a_span_that_only_repeats_the_question_is_never_a_candidate():
    assert echo("when is the rent due", "the rent") == 1.0
    found = candidates(
        "when is the rent due", [reader_answer("Rent", 5.0), reader_answer("the 1st of each month")]
    )
    assert [c.answer.data for c in found] == ["the 1st of each month"]
    # ... unless the question offers a choice and the span makes it
    either = "Is the deposit £1,200 or £1,500?"
    assert [c.answer.data for c in candidates(either, [reader_answer("£1,200")])] == ["£1,200"]
    assert set(found[0].values) == set(FEATURES)
    assert found[0].sentence == "Rent is due on the 1st of each month."


def test_the_model_picks_its_best_candidate_and_bands_it():
    model = BandModel(weights=tuple(1.0 if f == "rank_score" else 0.0 for f in FEATURES), sure=0.6, close=0.5)
    found = candidates(
        "how much is the deposit", [reader_answer("14 days", -1.0), reader_answer("£1,200", 3.0)]
    )
    best = model.rate(found, [0.0, 0.0])[0]
    assert best.answer.data == "£1,200"
    assert model.band(0.7, closeness=0.1) == "sure"
    assert model.band(0.5, closeness=0.9) == "unsure"
    assert model.band(0.5, closeness=0.1) == "none"


def test_bands_json_round_trips_and_an_unknown_signal_says_how_to_refit(tmp_path):
    unverified = tuple(f for f in FEATURES if f != "verifier")  # no verifier in tmp_path
    model = BandModel(
        weights=tuple(range(len(unverified))), bias=-1.5, sure=0.7, close=0.4, features=unverified
    )
    model.save(tmp_path)
    assert BandModel.load(tmp_path, sure=0.1) == model
    data = json.loads((tmp_path / "bands.json").read_text())
    data["features"][0] = "mystery"
    (tmp_path / "bands.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"unknown signals \['mystery'\].*qa\.training\.bands"):
        BandModel.load(tmp_path, sure=0.1)
    data["features"] = list(FEATURES[:2])
    (tmp_path / "bands.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=rf"{len(unverified)} weights for 2 signals"):
        BandModel.load(tmp_path, sure=0.1)
    (tmp_path / "bands.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"not a band model"):
        BandModel.load(tmp_path, sure=0.1)


def test_without_bands_json_the_readers_threshold_decides_sure_or_none(tmp_path):
    model = BandModel.load(tmp_path, sure=0.3)
    assert model.band(0.31, closeness=5.0) == "sure" and model.band(0.29, closeness=5.0) == "none"


def test_an_unsure_reply_is_worded_as_a_hedge_with_its_sentence():
    source = Source(
        "lease.md",
        PASSAGE,
        0.9,
        answer_start=PASSAGE.index("14 days"),
        answer_end=PASSAGE.index(" days.") + 5,
    )
    answer = Answer("when is the deposit returned", "14 days", False, 0.4, [source], "r", band="unsure")
    assert answer.display_text.startswith("I'm not sure. The closest the documents come is:")
    assert answer.evidence_sentence == "The deposit of £1,200 is returned within 14 days."
    assert answer.to_dict()["band"] == "unsure" and not answer.no_answer
    assert Answer("q", None, True, 0.0, [], "r").band == "none"
    with pytest.raises(ValueError, match="band 'maybe'"):
        Answer("q", "x", False, 0.0, [], "r", band="maybe")


@pytest.mark.parametrize(
    ("rated", "shown"),
    [
        ([(0.6, "A."), (0.3, "A."), (0.2, "B.")], [2]),  # the first from another sentence
        ([(0.6, "A."), (0.3, "B."), (0.2, "C.")], [1]),  # one runner-up
        ([(0.6, "A."), (0.05, "B.")], []),  # less than a tenth as likely: not shown
        ([(0.6, "A."), (0.5, "A.")], []),  # no other sentence
        ([], []),
    ],
)
def test_an_unsure_reply_shows_runners_up_from_other_sentences_when_close(rated, shown):
    assert alternatives(rated) == shown
    more = [(0.6, "A."), (0.3, "B."), (0.2, "B."), (0.1, "C."), (0.01, "D.")]
    assert alternatives(more, most=3) == [1, 3]  # one a sentence, none under a tenth as likely


def test_the_runner_up_is_shown_by_every_renderer():
    from qa.cli import render_answer
    from ui.mcp_tool import tool_result
    from ui.render import markdown_reply, unsure_html

    rent = "Rent is due on the 1st of each month."
    source = Source("lease.md", PASSAGE, 0.9, PASSAGE.index("14 days"), PASSAGE.index("14 days") + 7)
    runner_up = Alternative("the 1st of each month", rent, 15, 36, "lease.md", 0.2, "page 2")
    answer = Answer(
        "when is it due", "14 days", False, 0.4, [source], "r", band="unsure", alternatives=[runner_up]
    )
    assert answer.evidence_sentences == ["The deposit of £1,200 is returned within 14 days.", rent]
    assert answer.to_dict()["alternatives"][0]["sentence"] == rent
    assert "or:\n  Rent is due on [[the 1st of each month]]." in render_answer(answer, color=False)
    assert "lease.md, page 2" in render_answer(answer, color=False)
    assert "Or:" in markdown_reply(answer) and "**the 1st of each month**" in markdown_reply(answer)
    assert 'qa-alternative">Rent is due on <mark class="qa-answer qa-candidate">the 1st' in (
        unsure_html(answer) or ""
    )
    assert tool_result(answer)[1]["alternatives"][0]["answer"] == "the 1st of each month"
    sure = Answer("q", "14 days", False, 0.9, [source], "r", band="sure")
    assert sure.to_dict()["alternatives"] == [] and "Or:" not in markdown_reply(sure)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("cost of repiars", "cost of repairs"),
        ("wehn does the ofice open", "when does the office open"),
        ("what's the deductable", "what's the deductible"),
        ("what does the cast say", "what does the cast say"),  # an English word is left alone
    ],
)
def test_typos_are_put_right_against_the_passages_words(typed, read):
    passages = ["The cost of repairs is £4.7 million. The deductible is £250. When the office opens, call."]
    english = {"what", "does", "the", "cast", "say", "cost", "of", "s", "open"}
    assert correct_spelling(typed, passages, english) == read


def test_a_keyword_question_is_asked_as_a_question():
    assert as_question("school office phone number") == "what is school office phone number?"
    for asked in ("Who signs it?", "what's the fee", "whats the fee", "when’s it due", "In which year?", "?"):
        assert as_question(asked) == asked


def test_a_name_is_never_corrected_to_another():
    passages = ["Carl Meyer and Mena Ruiz signed the lease."]
    assert correct_spelling("did Carla sign", passages, {"did", "sign"}) == "did Carla sign"
    assert (
        correct_spelling("Lese signed by whom", passages, {"signed", "by", "whom"}) == "Lease signed by whom"
    )


def result(band: str, f1: float, gold: list[str], in_view: bool | None = None) -> QuestionResult:
    predicted = "x" if band == "sure" else None
    return QuestionResult(
        "q", "q", "t", gold, predicted, 0.5, float(f1 == 1), f1, None, 1.0, band=band, in_view=in_view
    )


def test_qa_eval_counts_sure_precision_coverage_and_answer_in_view():
    results = [
        result("sure", 1.0, ["a"], True),  # right and sure
        result("sure", 0.0, ["a"], False),  # wrong and sure
        result("unsure", 0.0, ["a"], True),  # not sure, its sentence holds the answer
        result("none", 0.0, ["a"], False),
        result("sure", 0.0, []),  # sure on an unanswerable question: wrong
        result("unsure", 1.0, []),
    ]
    figures = band_figures(results)
    assert figures["sure"] == 3 and figures["unsure"] == 2 and figures["none"] == 1
    assert figures["sure_precision"] == pytest.approx(100 / 3, abs=0.01)
    assert figures["sure_coverage"] == 25.0
    assert figures["answer_in_view"] == 50.0
    assert figures["sure_on_unanswerable"] == 50.0


@pytest.mark.slow
def test_bands_false_keeps_the_earlier_yes_no_decision(real_index_dir):
    """The previous decision stays selectable: without bands a reply is sure or doesn't say."""
    from qa import Assistant

    banded = Assistant.from_config(index_dir=real_index_dir, reader="offline", no_answer_threshold=0.99)
    earlier = Assistant.from_config(
        index_dir=real_index_dir, reader="offline", bands=False, no_answer_threshold=0.99
    )
    question = "Who was sanctioned by China?"
    assert banded.ask(question).band == "unsure"
    assert earlier.ask(question).band == "none"
