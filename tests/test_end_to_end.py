"""The answering path with the real bundled models, as a user meets it."""

import json
import os
import subprocess
import sys

import pytest

from conftest import (
    EXAMPLE_ANSWER,
    EXAMPLE_QUESTION,
    EXAMPLE_SENTENCE,
    OFF_TOPIC_QUESTION,
    SURE_ANSWER,
    SURE_QUESTION,
)
from qa import NO_ANSWER_TEXT
from qa.answer import UNSURE_TEXT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was Meng Wanzhou detained in Canada?", "December 2019"),
        ("Which two Canadian citizens did China recently try?", "Michael Spavor and Michael Kovrig"),
        ("Who is the US Secretary of State?", "Antony Blinken"),
    ],
)
def test_short_exact_answers_with_the_span_marked_in_its_source(real_assistant, question, expected):
    answer = real_assistant.ask(question)
    assert answer.text == expected and not answer.no_answer and answer.band == "sure"
    evidence = answer.evidence
    assert evidence.document == "ap-china-russia-sanctions.txt"
    assert evidence.text[evidence.answer_start : evidence.answer_end] == expected
    assert answer.reader == "offline:minilm-squad2 (bundled)"


def test_example_question_is_answered_from_its_passage_with_the_answer_marked(real_assistant):
    """The example's answer is in view: the shipped bands give it as "not sure" (README), the
    candidate right and marked in the passage retrieval ranks first."""
    answer = real_assistant.ask(EXAMPLE_QUESTION)
    assert answer.text == EXAMPLE_ANSWER and not answer.no_answer
    assert answer.band == "unsure" and answer.evidence_sentence == EXAMPLE_SENTENCE
    evidence = answer.evidence
    assert evidence is answer.sources[0]  # retrieval ranks its passage first
    assert evidence.text[evidence.answer_start : evidence.answer_end] == EXAMPLE_ANSWER
    sure = real_assistant.ask(SURE_QUESTION)
    assert sure.band == "sure" and sure.display_text == SURE_ANSWER and sure.to_dict()["band"] == "sure"


def test_a_not_sure_reply_is_a_hedge_with_the_closest_sentence_marked(unsure_assistant):
    answer = unsure_assistant.ask(EXAMPLE_QUESTION)
    assert answer.band == "unsure" and not answer.no_answer and not answer.sure
    assert answer.text == EXAMPLE_ANSWER  # the candidate, for a person to judge
    assert answer.display_text == f"{UNSURE_TEXT} “{EXAMPLE_ANSWER}”"
    assert answer.evidence.document == "ap-china-russia-sanctions.txt"
    assert answer.evidence_sentence == EXAMPLE_SENTENCE
    sentence, start, end = answer.evidence_quote
    assert sentence[start:end] == EXAMPLE_ANSWER
    data = answer.to_dict()
    assert data["band"] == "unsure" and data["answer"] == EXAMPLE_ANSWER and data["no_answer"] is False

    off_topic = unsure_assistant.ask(OFF_TOPIC_QUESTION)  # nothing close: still "doesn't say"
    assert off_topic.band == "none" and off_topic.no_answer and off_topic.text is None
    assert off_topic.display_text == NO_ANSWER_TEXT and off_topic.evidence is None


@pytest.mark.parametrize(
    "question",
    ["What is the capital of France?", "How do I bake sourdough bread?", "Who won the 2018 World Cup?"],
)
def test_off_topic_questions_abstain(real_assistant, question):
    answer = real_assistant.ask(question)
    assert answer.no_answer and answer.text is None and answer.band == "none"
    assert answer.display_text == "The document doesn't say."
    assert answer.sources  # the closest passages it looked at


def test_follow_up_is_answered_about_the_person_of_the_previous_turn(real_assistant):
    history = [
        {"role": "user", "content": "Who is Meng Wanzhou?"},
        {"role": "assistant", "content": "an executive of the Chinese telecommunications giant Huawei"},
    ]
    answer = real_assistant.ask("When was she detained?", history=history)
    assert "December 2019" in (answer.text or "")
    assert answer.rewritten_question == "When was Meng Wanzhou detained?"


def test_cli_json_answer_from_a_fresh_process(real_index_dir):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "qa.cli",
        "ask",
        SURE_QUESTION,
        "--json",
        "--index-dir",
        str(real_index_dir),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["answer"] == SURE_ANSWER and data["no_answer"] is False and data["band"] == "sure"
    marked = [s for s in data["sources"] if s["answer_start"] is not None]
    assert len(marked) == 1
    assert marked[0]["text"][marked[0]["answer_start"] : marked[0]["answer_end"]] == SURE_ANSWER
    assert data["reader"].startswith("offline:")
