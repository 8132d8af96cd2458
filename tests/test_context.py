"""Reading a sentence in context: a sentence that names its subject by a pronoun is read with the one
before it, and the answer still comes from the sentence itself, as an exact span of its passage."""

import pytest
from haystack import Document
from haystack.dataclasses import ExtractedAnswer

from qa.context import LEAD, in_context, needs_context

BIO = "Marta Lindqvist is a marine biologist. She was born in Umea in 1968. Her father was an engineer."


def picked(doc: Document, sentence: str) -> ExtractedAnswer:
    start = (doc.content or "").index(sentence)
    return ExtractedAnswer(
        query="q", score=0.5, data=sentence, document=doc,
        document_offset=ExtractedAnswer.Span(start, start + len(sentence)),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("She was born in Umea in 1968.", True),
        ("The town's mayor since 2019 has been Tomas Okerlund.", True),
        ("“They left at dawn,” he said.", True),
        ("Marta Lindqvist is a marine biologist.", False),
        ("In 2004 she founded the project.", False),
    ],
)
def test_a_sentence_opening_with_a_pronoun_or_a_description_needs_context(sentence, expected):
    assert needs_context(sentence) is expected


def test_the_sentence_is_widened_to_the_one_before_it_in_its_passage():
    doc = Document(content=BIO)
    [widened] = in_context([picked(doc, "She was born in Umea in 1968.")], [doc])
    assert widened.data == "Marta Lindqvist is a marine biologist. She was born in Umea in 1968."
    span = widened.document_offset
    assert BIO[span.start : span.end] == widened.data
    assert widened.data[widened.meta[LEAD] :] == "She was born in Umea in 1968."


def test_a_passage_opening_with_the_sentence_borrows_the_one_before_from_an_overlapping_passage():
    first = Document(content="Marta Lindqvist is a marine biologist. She was born in Umea in 1968.")
    second = Document(content="She was born in Umea in 1968. Her father was an engineer.")
    [widened] = in_context([picked(second, "She was born in Umea in 1968.")], [first, second])
    assert widened.document is first
    assert widened.data == first.content


def test_a_sentence_that_names_its_subject_or_has_nothing_before_it_is_read_alone():
    doc = Document(content=BIO)
    alone = Document(content="She was born in Umea in 1968.")
    named = picked(doc, "Marta Lindqvist is a marine biologist.")
    lonely = picked(alone, "She was born in Umea in 1968.")
    assert in_context([named], [doc]) == [named]
    assert in_context([lonely], [alone]) == [lonely]


@pytest.mark.slow
def test_the_real_reader_answers_about_a_person_named_in_the_sentence_before(real_assistant):
    assert real_assistant.settings.sentence_context  # the default
    answer = real_assistant.read("When was Marta Lindqvist born?", [BIO])
    assert answer.text == "1968"
    assert answer.sources[0].text[answer.sources[0].answer_start : answer.sources[0].answer_end] == "1968"


def test_a_sentence_before_that_needs_context_itself_brings_the_one_before_it():
    doc = Document(content=BIO)
    [widened] = in_context([picked(doc, "Her father was an engineer.")], [doc])
    assert widened.data == BIO
    assert widened.data[widened.meta[LEAD] :] == "Her father was an engineer."
