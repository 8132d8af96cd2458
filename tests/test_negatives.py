"""Rule-made unanswerable questions: each kind changes the question's meaning, never makes it answerable."""

import random

from qa.training.negatives import (
    all_negatives,
    antonym,
    condition,
    exclusion,
    kind_of,
    negated,
    rule_negatives,
)
from qa.training.squad import SquadQuestion

CONTEXT = (
    "The first bridge over the river was built in 1820 by the city council. It was the largest bridge "
    "in the region. Merchants supported the toll, which increased trade with Kanye West's town."
)


def ask(question: str, answer: str = "the city council") -> SquadQuestion:
    return SquadQuestion("q1", question, [answer], [CONTEXT.index(answer)], CONTEXT, "Bridge")


def test_negation_adds_not_after_the_subject_or_removes_it():
    rng = random.Random(0)
    assert negated(ask("Who did the city build?"), rng) == "Who did the city not build?"
    assert negated(ask("What was the largest bridge?"), rng) == "What was not the largest bridge?"
    assert negated(ask("Who did not pay the toll?"), rng) == "Who did pay the toll?"


def test_antonym_and_exclusion_turn_a_word_into_its_opposite_only_when_the_text_lacks_it():
    rng = random.Random(0)
    assert antonym(ask("Who supported the toll?"), rng) == "Who opposed the toll?"
    first = ask("When was the first bridge built?", "1820")
    assert exclusion(first, rng) == "When was the last bridge built?"
    # "smallest" would be the opposite of "largest": the context does not hold it, so it is used
    assert exclusion(ask("Which was the largest bridge?"), rng) == "Which was the smallest bridge?"
    # a capitalised word inside a name is not a word to turn ("Kanye West" stays)
    assert antonym(ask("Whose town did Kanye West live in?"), rng) is None


def test_a_word_whose_opposite_is_in_the_context_is_left_alone():
    text = "Prices rose and then fell."
    q = SquadQuestion("q2", "When did prices rise?", ["then"], [text.index("then")], text, "T")
    assert antonym(q, random.Random(0)) is None  # "fall" is in the text: the question could be answerable


def test_an_impossible_condition_names_a_year_the_context_never_mentions():
    made = condition(ask("Who built the first bridge?"), random.Random(0))
    assert made is not None and made.startswith("Who built the first bridge in ")
    year = made.rsplit(" ", 1)[-1].rstrip("?")
    assert year.isdigit() and year not in CONTEXT
    assert condition(ask("Who built the bridge in 1820?"), random.Random(0)) is None


def test_the_mix_follows_the_shares_and_every_made_question_is_unanswerable_on_its_context():
    asked = ["Who did the city build?", "Who supported the toll?", "When was the first bridge built?"] * 40
    questions = [
        SquadQuestion(f"q{k}", q.question, q.answers, q.answer_starts, q.context, q.title)
        for k, q in enumerate(ask(text) for text in asked)
    ]
    made, counts = rule_negatives(questions, share=0.5, seed=1)
    assert sum(counts.values()) == len(made) > 0
    assert counts["antonym"] > counts["negation"]  # SQuAD 2.0: antonyms 20%, negations 9%
    assert all(not q.answerable and q.context == CONTEXT for q in made)
    assert {kind_of(q.id) for q in made} <= {"negation", "antonym", "exclusion", "condition"}
    originals = {q.question for q in questions}
    assert not any(q.question in originals for q in made)


def test_all_negatives_counts_swaps_beside_the_rules():
    questions = [ask("Who built the bridge over the river in 1820?")]
    _, counts = all_negatives(questions, swap=0.0, rules=0.0)
    assert counts == {"swap": 0}
    assert kind_of("abc/swap") == "swap" and kind_of("abc") is None
