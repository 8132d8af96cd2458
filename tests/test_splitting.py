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


def test_a_long_sentence_is_kept_whole_and_short_text_is_one_passage():
    long = "word " * 200 + "end."
    text = long + " Short one."
    passages = build_passages(text, max_chars=100)
    assert text[passages[0].start : passages[0].end] == long.strip()
    assert [(p.start, p.end) for p in build_passages("Just one.")] == [(0, 9)]
