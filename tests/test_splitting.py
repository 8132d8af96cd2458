import pytest

from index.splitting import build_passages, split_sentences


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_splits_on_stops_and_keeps_quotes_with_their_sentence():
    text = "“Countries should unite,” Wang said. “These measures will fail.” Lavrov agreed."
    assert sentences(text) == [
        "“Countries should unite,” Wang said.",
        "“These measures will fail.”",
        "Lavrov agreed.",
    ]


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = "Mr. Smith met Dr. Jones in the U.S. capital. J. R. Tolkien wrote it. Then it ended."
    assert sentences(text) == [
        "Mr. Smith met Dr. Jones in the U.S. capital.",
        "J. R. Tolkien wrote it.",
        "Then it ended.",
    ]


def test_line_breaks_end_sentences_and_offsets_point_into_the_source():
    text = "Title line\n\nFirst sentence here. Second one!\nThird?"
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == [
        "Title line",
        "First sentence here.",
        "Second one!",
        "Third?",
    ]


def test_passages_hold_up_to_three_sentences_with_one_of_overlap():
    text = " ".join(f"Sentence number {i}." for i in range(7))
    passages = [text[p.start : p.end] for p in build_passages(text, max_sentences=3, overlap=1)]
    assert passages == [
        "Sentence number 0. Sentence number 1. Sentence number 2.",
        "Sentence number 2. Sentence number 3. Sentence number 4.",
        "Sentence number 4. Sentence number 5. Sentence number 6.",
    ]


def test_short_text_is_one_passage_and_a_sentence_that_fits_is_kept_whole():
    assert [(p.start, p.end) for p in build_passages("Just one.")] == [(0, 9)]
    sentence = "word " * 19 + "end."  # 99 characters
    text = sentence + " Short one."
    passages = build_passages(text, max_chars=100)
    assert text[passages[0].start : passages[0].end] == sentence


def test_a_long_sentence_is_cut_at_spaces_into_near_equal_pieces_that_fit():
    long = "word " * 200 + "end."  # 1,004 characters, no sentence end before the last
    passages = [long[p.start : p.end] for p in build_passages(long, max_chars=300)]
    assert [len(p) for p in passages] == [249, 249, 249, 254]
    assert " ".join(passages) == long  # every word kept, in order, none cut in two


@pytest.mark.parametrize(
    "text",
    [
        "lorem ipsum dolor sit amet " * 11_112,  # 300 KB with no sentence end
        "x" * 300_000,  # no white space at all
        "第一句没有句号" * 20_000,  # CJK, no spaces
        "A. " + "b" * 5_000 + " c. " + "Mr. Smith went on " * 400,
    ],
)
def test_no_passage_is_longer_than_max_chars_whatever_the_text(text):
    for max_chars in (600, 80):
        passages = build_passages(text, max_chars=max_chars)
        assert passages and max(p.end - p.start for p in passages) <= max_chars
        assert all(text[p.start : p.end].strip() == text[p.start : p.end] for p in passages)
        covered = sum(p.end - p.start for p in passages)
        assert covered >= len(text.replace(" ", "")) * 0.99  # nothing dropped
