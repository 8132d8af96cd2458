"""Where an answer's time goes (Answer.timings_ms: load, embed, retrieve, read, decide, total), and a
follow-up after a huge message costs what a short one does (issue 30)."""

from __future__ import annotations

import resource
import time

import pytest

from conftest import EXAMPLE_QUESTION

STAGES = ("load", "embed", "retrieve", "read", "decide", "total")
BIG = "The EU sanctions were discussed at length in Brussels. " * 4000  # 220 KB


def _check_split(timings: dict[str, float]) -> None:
    assert tuple(timings) == STAGES
    assert all(value >= 0 for value in timings.values())
    parts = sum(timings[k] for k in ("load", "embed", "retrieve", "read", "decide"))
    assert parts <= timings["total"] + 1.0  # the stages do not overlap


def test_an_answer_says_where_its_time_went(fake_assistant):
    fake_assistant.ask(EXAMPLE_QUESTION)  # the first question loads the index: "load"
    answer = fake_assistant.ask(EXAMPLE_QUESTION)
    _check_split(answer.timings_ms)
    assert answer.to_dict()["timings_ms"] == answer.timings_ms


@pytest.mark.slow
def test_a_warm_answer_is_split_into_embed_retrieve_read_and_decide(real_assistant):
    answer = real_assistant.ask(EXAMPLE_QUESTION)
    timings = answer.timings_ms
    _check_split(timings)
    # the embedder and the reader time themselves (their `embed_ms` / `read_ms` outputs)
    assert timings["embed"] > 0 and timings["read"] > 0 and timings["retrieve"] > 0
    assert timings["read"] > timings["retrieve"]  # a model pass costs more than a FAISS + BM25 lookup
    gold = real_assistant.read(EXAMPLE_QUESTION, ["China sanctioned 10 Europeans and four institutions."])
    assert gold.timings_ms["read"] > 0 and gold.timings_ms["embed"] == gold.timings_ms["retrieve"] == 0


def _reader_questions(assistant, ask):
    """The questions the reader was given while `ask()` ran."""
    reader = assistant._get_pipeline().get_component("reader")
    seen: list[str] = []
    real_run = reader.run

    def run(query, documents, top_k=None):
        seen.append(query)
        return real_run(query=query, documents=documents, top_k=top_k)

    reader.run = run
    try:
        answer = ask()
    finally:
        reader.run = real_run
    return seen, answer


@pytest.mark.slow
@pytest.mark.parametrize("role", ["user", "assistant"])
def test_a_follow_up_after_a_200_kb_message_reads_a_question_in_the_time_of_a_short_one(real_assistant, role):
    short = [
        {"role": "user", "content": "What did the EU do to China?"},
        {"role": "assistant", "content": "It imposed sanctions."},
    ]
    huge = [dict(m) for m in short]
    huge[0 if role == "user" else 1]["content"] += " " + BIG
    question = "When did they do it?"
    real_assistant.ask(question, history=short)  # warm
    times = {}
    for name, history in (("short", short), ("huge", huge), ("short again", short)):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        asking = lambda h=history: real_assistant.ask(question, history=h)  # noqa: E731
        seen, answer = _reader_questions(real_assistant, asking)
        times[name] = time.perf_counter() - started
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
        assert grown_mb < 100, (name, grown_mb)
        [read] = seen
        # what the reader reads is a question (the follow-up, with at most the question before it),
        # never the conversation
        assert BIG[:60] not in read and len(read) < 300, read[:300]
        assert "?" in read and answer.question == question
    assert times["huge"] < max(3 * min(times["short"], times["short again"]), 1.0), times
