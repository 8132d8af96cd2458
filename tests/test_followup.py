import pytest

from qa.followup import entities, rewrite

MENG = [
    {"role": "user", "content": "Who is Meng Wanzhou?"},
    {"role": "assistant", "content": "an executive of the Chinese telecommunications giant Huawei"},
]


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("When was she detained?", MENG, "When was Meng Wanzhou detained?"),
        ("Who wants her extradited?", MENG, "Who wants Meng Wanzhou extradited?"),
        ("Why was her detention criticised?", MENG, "Why was Meng Wanzhou’s detention criticised?"),
        ("Where did they meet?", [{"role": "user", "content": "What did Wang Yi and Sergei Lavrov say?"}],
         "Where did Wang Yi and Sergei Lavrov meet?"),
        ("What did he say?", [{"role": "user", "content": "who is the foreign minister of china"},
                              {"role": "assistant", "content": "Wang Yi"}], "What did Wang Yi say?"),
        ("Who was sanctioned by China?", MENG, "Who was sanctioned by China?"),
        ("When was she detained?", None, "When was she detained?"),
        ("When was she detained?", [{"role": "user", "content": "who is the executive?"}],
         "When was she detained? (who is the executive?)"),
    ],
)  # fmt: skip
def test_rewrite(question, history, expected):
    assert rewrite(question, history) == expected


SANCTIONED = [
    {"role": "user", "content": "Who was sanctioned by China?"},
    {"role": "assistant", "content": "10 Europeans and four institutions"},
]


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("What were they forbidden to do?", SANCTIONED,
         "What were 10 Europeans and four institutions forbidden to do?"),
        ("Who sanctioned them?", SANCTIONED, "Who sanctioned 10 Europeans and four institutions?"),
        ("What did they announce?", [{"role": "user", "content": "What did the Europeans do?"},
                                     {"role": "assistant", "content": "The document doesn't say."}],
         "What did Europeans announce?"),
        # no plural antecedent: the single name is not put in place of "they"; the question gets context
        ("What did they say?", [{"role": "user", "content": "What did China do?"},
                                {"role": "assistant", "content": "imposed sanctions on Huawei"}],
         "What did they say? (What did China do?)"),
    ],
)  # fmt: skip
def test_a_plural_pronoun_never_takes_a_single_name(question, history, expected):
    assert rewrite(question, history) == expected


def test_entities_skip_question_words():
    assert entities("Who is Meng Wanzhou?") == ["Meng Wanzhou"]
    assert entities("What did the European Union do?") == ["European Union"]


def test_after_a_question_asking_for_a_person_he_or_she_is_the_person_answered():
    history = [
        {"role": "user", "content": "Who is Russia's foreign minister?"},
        {"role": "assistant", "content": "Sergei Lavrov"},
    ]
    assert rewrite("Who is his counterpart?", history) == "Who is Sergei Lavrov’s counterpart?"
    # a question about a person it names keeps that person ("Who is Meng Wanzhou?" -> "she")
    assert rewrite("When was she detained?", MENG) == "When was Meng Wanzhou detained?"


def test_follow_up_modes():
    from qa.followup import resolve_followup

    assert resolve_followup("When was she detained?", MENG, "rewrite") == "When was Meng Wanzhou detained?"
    assert (
        resolve_followup("When was she detained?", MENG, "context")
        == "When was she detained? Who is Meng Wanzhou?"
    )
    assert resolve_followup("When was she detained?", MENG, "off") == "When was she detained?"


# (follow-up, its conversation, the same question asked in full): issue 32's test pairs
PAIRS = [
    (
        "When was she detained?",
        [
            {"role": "user", "content": "Who is Meng Wanzhou?"},
            {"role": "assistant", "content": "a Huawei executive"},
        ],
        "When was Meng Wanzhou detained?",
    ),
    (
        "What did he say countries should unite to oppose?",
        [
            {"role": "user", "content": "Who is China's foreign minister?"},
            {"role": "assistant", "content": "Wang Yi"},
        ],
        "What did Wang Yi say countries should unite to oppose?",
    ),
    (
        "Which country wants her extradited?",
        [
            {"role": "user", "content": "Who was detained in Canada in December 2019?"},
            {"role": "assistant", "content": "Meng Wanzhou"},
        ],
        "Which country wants Meng Wanzhou extradited?",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("followup", "history", "full"), PAIRS)
def test_a_follow_up_is_answered_as_the_same_question_asked_in_full(real_assistant, followup, history, full):
    asked = real_assistant.ask(followup, history=history)
    direct = real_assistant.ask(full)
    assert asked.band == direct.band != "none"
    assert asked.text == direct.text


def turn(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("and for students?", turn("how much is a day pass for adults", "£13"),
         "how much is a day pass for students?"),
        ("and sugar?", turn("how much butter goes in the cake", "150 g"), "how much sugar goes in the cake?"),
        ("and the monthly one?", turn("how much is the one-time home office allowance", "EUR 400"),
         "how much is the monthly one?"),
        ("and when does it end?", turn("how long is the tenancy", "12 months"), "when does the tenancy end?"),
        ("and who did she marry", turn("where was ines carvalho born", "Vila Serrana"),
         "who did she marry (where was ines carvalho born)"),
        ("by when?", turn("who's ordering the security lights", "Sunil Choudhary"),
         "by when ordering the security lights?"),
        ("and for how long?", turn("what temperature do i bake the plum cake at", "180 °C"),
         "for how long do i bake the plum cake at?"),
        ("and where?", turn("when is the agm", "5 May"), "where is the agm?"),
        ("and for iOS 14?", turn("last version that runs on android 8?", "3.1.4"),
         "last version that runs on iOS 14?"),
        ("what about subsidence", turn("what's the standard excess", "£250"),
         "what's the standard excess for subsidence?"),
        ("and the cfo?", turn("who is brightline's ceo", "Priya Wendt"), "who is brightline's cfo?"),
        ("what's their support email", turn("who makes tidewater", "Saltmarsh Software"),
         "what's Saltmarsh Software’s support email"),
    ],
)  # fmt: skip
def test_follow_ups_typed_as_people_type_them(question, history, expected):
    """Lower case, no names, fragments: issue 32's follow-up conversations."""
    assert rewrite(question, history) == expected


def test_a_question_standing_on_its_own_is_left_alone():
    history = turn("how much is a day pass for adults", "£13")
    for question in ("Who signed?", "Opening hours?", "and", "and?"):
        assert rewrite(question, history) == question
    greeting = [{"role": "assistant", "content": "Hello! Ask me about your documents."}]
    assert rewrite("Is it open?", greeting) == "Is it open?"
