"""The generator of synthetic user-document questions (qa/training/user_documents.py): fast, no models."""

from __future__ import annotations

import json
import random

import pytest

from qa.training.squad import parse_squad
from qa.training.user_documents import KINDS, counts, generate, main, styled, typo


@pytest.fixture(scope="module")
def squad() -> dict:
    return generate(64, seed=7)


def _qas(squad: dict) -> list[tuple[str, dict]]:
    return [(p["context"], qa) for a in squad["data"] for p in a["paragraphs"] for qa in p["qas"]]


def test_answers_are_exact_minimal_spans(squad: dict) -> None:
    answerable = [(c, qa) for c, qa in _qas(squad) if not qa["is_impossible"]]
    assert len(answerable) >= 300
    for context, qa in answerable:
        (answer,) = qa["answers"]
        start, text = answer["answer_start"], answer["text"]
        assert context[start : start + len(text)] == text, qa["id"]
        assert text == text.strip() and ": " not in text and "|" not in text, text  # no label, no cell


def test_unanswerable_questions_carry_no_answers(squad: dict) -> None:
    impossible = [qa for _, qa in _qas(squad) if qa["is_impossible"]]
    assert impossible and all(qa["answers"] == [] for qa in impossible)
    near = [qa for qa in impossible if qa["id"].endswith("-near")]
    not_here = [qa for qa in impossible if qa["id"].endswith("-nothere")]
    assert near and not_here and len(near) + len(not_here) == len(impossible)
    share = len(near) / len(_qas(squad))
    assert 0.1 < share < 0.3


def test_contexts_are_short_snippets(squad: dict) -> None:
    for article in squad["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            assert 1 <= len(context.splitlines()) <= 5  # up to 4 lines and a heading
            assert len(context.split()) <= 90


def test_deterministic_for_a_seed() -> None:
    assert json.dumps(generate(20, seed=3)) == json.dumps(generate(20, seed=3))
    assert json.dumps(generate(20, seed=3)) != json.dumps(generate(20, seed=4))


def test_at_least_twelve_kinds(squad: dict) -> None:
    assert len(KINDS) >= 12
    assert len(counts(squad)["kinds"]) == len(KINDS)


def test_typos_in_some_questions_never_in_answers() -> None:
    rng = random.Random(0)
    context = "Monthly rent: £950\nDeposit: £1,100"
    results = [styled("how much is the monthly payment for the apartment", rng, context) for _ in range(400)]
    typoed = [q for q, has_typo in results if has_typo]
    assert 0.05 < len(typoed) / len(results) < 0.2
    for q in typoed:
        assert q.lower() != "how much is the monthly payment for the apartment"
        assert "monthly" in q.lower()  # a word of the context keeps its spelling
    assert typo("password", random.Random(1)) != "password"


def test_typoed_questions_appear_in_generated_data(squad: dict) -> None:
    phrasing_words: set[str] = set()
    for build in KINDS.values():
        doc = build(random.Random(1))
        for _, phrasings in doc.asks + doc.nears:
            for p in phrasings:
                phrasing_words.update(p.lower().replace("?", " ").split())
    odd = [
        qa
        for _, qa in _qas(squad)
        if any(
            len(w) >= 5 and w not in phrasing_words for w in qa["question"].lower().replace("?", " ").split()
        )
    ]
    assert odd  # some question words are not any template's spelling: typos


def test_squad_json_loads_with_parse_squad(squad: dict, tmp_path) -> None:
    questions, paragraphs = parse_squad(squad)
    assert squad["version"] == "v2.0"
    assert len(questions) == len(_qas(squad)) and paragraphs
    assert any(not q.answerable for q in questions) and any(q.answerable for q in questions)
    out = tmp_path / "ud.json"
    main(["--out", str(out), "--documents", "20", "--seed", "3"])
    questions, _ = parse_squad(json.loads(out.read_text()))
    assert questions
