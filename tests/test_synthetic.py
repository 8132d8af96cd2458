"""Synthetic cloze questions: exact answer spans, a wh-word that fits the answer, no answer leaked."""

from qa.training.synthetic import synthetic_questions

TEXT = (
    "The Congress of Vienna opened in September 1814 under Klemens von Metternich. "
    "Delegates from 216 states attended the meetings in the Austrian capital. "
    "Its final act was signed on 9 June 1815, nine days before Waterloo."
)


def test_every_answer_is_an_exact_span_of_its_context_and_absent_from_its_question():
    questions = synthetic_questions([("Vienna", TEXT)], negatives=0.0)
    assert len(questions) >= 4
    for q in questions:
        start = q.answer_starts[0]
        assert q.context[start : start + len(q.answers[0])] == q.answers[0]
        assert q.answers[0] not in q.question
        assert q.question.endswith("?")


def test_the_wh_word_fits_the_answer():
    questions = synthetic_questions([("Vienna", TEXT)], per_sentence=3, negatives=0.0)
    by_answer = {q.answers[0]: q.question for q in questions}
    assert by_answer["September 1814"].startswith("When ")
    assert by_answer["216 states"].startswith("How many ")
    assert by_answer["Klemens von Metternich"].startswith("Who ")


def test_no_answer_examples_are_asked_on_a_sentence_without_the_answer():
    questions = synthetic_questions([("Vienna", TEXT)], negatives=1.0, per_sentence=3)
    answered = {q.id: q.answers[0] for q in questions if q.answers}
    negatives = [q for q in questions if not q.answers]
    assert negatives
    for q in negatives:
        assert answered[q.id.removesuffix("/neg")] not in q.context


def test_the_same_seed_gives_the_same_questions():
    first = synthetic_questions([("Vienna", TEXT)], seed=3)
    assert first == synthetic_questions([("Vienna", TEXT)], seed=3)


def test_swapped_questions_ask_about_a_name_the_context_does_not_hold():
    from qa.training.squad import SquadQuestion
    from qa.training.synthetic import swapped_questions

    other = "Talleyrand represented France. Castlereagh represented Britain at the talks."
    asked = [
        SquadQuestion("a", "Who chaired the Congress of Vienna?", ["Metternich"], [TEXT.index("Metternich")],
                      TEXT, "Vienna"),
        SquadQuestion("b", "Who represented France?", ["Talleyrand"], [0], other, "Vienna"),
    ]  # fmt: skip
    swapped = swapped_questions(asked, share=1.0)
    assert swapped and all(not q.answerable for q in swapped)
    for q in swapped:
        original = next(a for a in asked if q.id == a.id + "/swap")
        assert q.context == original.context and q.question != original.question
        new_words = set(q.question.split()) - set(original.question.split())
        assert new_words and not any(w.strip("?") in q.context for w in new_words)
