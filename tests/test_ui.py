"""The chat app: rendering, uploads, and round trips through a launched app with gradio_client."""

from __future__ import annotations

import html
import threading
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE_ANSWER, EXAMPLE_QUESTION, OFF_TOPIC_QUESTION, serve
from qa import NO_ANSWER_TEXT, Answer, Source
from qa.uploads import MAX_FILE_BYTES, check_uploads

HARBOUR = (
    "# Harbour notes\n\nThe lighthouse keeper of Port Elin is Agnes Varga.\n"
    "She painted the lighthouse blue in 1998 after the great storm.\n"
)


def texts(chat: list[dict], role: str, with_title: bool = False) -> list[str]:
    """The text of the chat's messages of `role` (evidence messages only when `with_title`)."""
    return [
        part["text"]
        for m in chat
        if m["role"] == role and bool((m.get("metadata") or {}).get("title")) == with_title
        for part in m["content"]
    ]


# ---- rendering --------------------------------------------------------------------------------
def test_passage_markup_is_escaped_before_the_answer_is_highlighted():
    from ui.render import passage_html

    text = "<script>alert(1)</script> The keeper is *Agnes* <b>Varga</b>."
    start = text.index("*Agnes*")
    html = passage_html(Source("notes.md", text, 0.9, start, start + len("*Agnes* <b>Varga</b>")))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<mark class="qa-answer">*Agnes* &lt;b&gt;Varga&lt;/b&gt;</mark>' in html
    assert "\n\n" not in passage_html(Source("a.txt", "one\n\ntwo", 0.5))  # one HTML block


def test_answer_comes_first_then_collapsed_evidence_with_document_and_score(fake_assistant):
    from ui.render import answer_messages

    answer = fake_assistant.ask(EXAMPLE_QUESTION)
    short, evidence = answer_messages(answer)
    assert EXAMPLE_ANSWER in short["content"] and "metadata" not in short
    assert evidence["metadata"]["title"] == "Source: ap-china-russia-sanctions.txt"
    assert evidence["metadata"]["status"] == "done"  # closed: the chat stays readable
    assert "status" not in answer_messages(answer, open_=True)[1]["metadata"]  # the latest answer's: open
    assert evidence["metadata"]["log"] == f"score {answer.score:.2f}"
    assert f'<mark class="qa-answer">{html.escape(answer.text)}</mark>' in evidence["content"]


def test_abstention_says_so_and_shows_the_closest_passages(fake_assistant):
    from ui.render import CLOSEST_SHOWN, answer_messages

    answer = fake_assistant.ask("What is the capital of Peru?")
    short, closest = answer_messages(answer)
    assert answer.no_answer and short["content"] == NO_ANSWER_TEXT
    assert closest["metadata"]["title"] == f"Closest passages ({CLOSEST_SHOWN})"
    assert closest["content"].count('class="qa-passage"') == CLOSEST_SHOWN
    assert "<mark" not in closest["content"]


def test_a_not_sure_reply_is_a_distinct_hedge_with_the_closest_sentence_and_its_document():
    from ui.render import answer_messages, markdown_reply

    text = "Harbour notes. The keeper is <b>Agnes</b> Varga, since 1998. She painted it blue."
    start = text.index("<b>Agnes</b> Varga")
    source = Source("notes <1>.md", text, 0.8, start, start + len("<b>Agnes</b> Varga"))
    unsure = Answer("Who keeps it?", "<b>Agnes</b> Varga", False, 0.3, [source], "r", band="unsure")
    short, evidence = answer_messages(unsure, open_=True)
    assert short["content"].startswith('<div class="qa-unsure"><p class="qa-hedge">I&#x27;m not sure.')
    assert (
        '<blockquote class="qa-closest">The keeper is <mark class="qa-answer qa-candidate">'
        "&lt;b&gt;Agnes&lt;/b&gt; Varga</mark>, since 1998.</blockquote>"
    ) in short["content"]  # only its sentence, escaped, the candidate marked
    assert '<p class="qa-doc">notes &lt;1&gt;.md</p>' in short["content"]
    assert "\n" not in short["content"]  # one HTML block for the markdown renderer
    assert evidence["metadata"]["title"] == "Closest passage: notes \\<1\\>.md"  # not "Source"
    reply = markdown_reply(unsure)
    assert reply.startswith("I'm not sure. The closest the documents come is: “\\<b\\>Agnes")

    sure = Answer("Who keeps it?", "<b>Agnes</b> Varga", False, 0.9, [source], "r", band="sure")
    short, evidence = answer_messages(sure)
    assert "qa-unsure" not in short["content"] and evidence["metadata"]["title"].startswith("Source: ")
    assert markdown_reply(sure).startswith("\\<b\\>Agnes")


def test_the_history_sent_to_ask_is_plain_question_and_answer_text():
    from ui.history import clean_history, plain_history

    answer = Answer("Who is Meng Wanzhou?", "an executive of Huawei", False, 0.9, [], "overlap")
    turns = [("Who is Meng Wanzhou?", answer), ("Why?", "error: the index is missing")]
    assert plain_history(turns) == [
        {"role": "user", "content": "Who is Meng Wanzhou?"},
        {"role": "assistant", "content": "an executive of Huawei"},
    ]
    chatbot_value = [  # what a Gradio Chatbot holds: content parts, evidence with a metadata title
        {"role": "user", "content": [{"type": "text", "text": "Who is Meng Wanzhou?"}], "metadata": None},
        {"role": "assistant", "content": [{"type": "text", "text": "an executive of Huawei"}]},
        {"role": "assistant", "content": "<blockquote>…</blockquote>", "metadata": {"title": "Source: a"}},
    ]
    assert clean_history(chatbot_value) == plain_history(turns)
    assert clean_history([["Who is Meng Wanzhou?", "an executive of Huawei"]]) == plain_history(turns)


# ---- upload checks ----------------------------------------------------------------------------
def test_uploads_are_checked_by_content_size_and_type(tmp_path: Path):
    good = tmp_path / "harbour.md"
    good.write_text(HARBOUR, encoding="utf-8")
    fake_pdf = tmp_path / "notes.pdf"
    fake_pdf.write_text("plain text pretending to be a PDF", encoding="utf-8")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    word = tmp_path / "letter.docx"
    word.write_bytes(b"PK\x03\x04")
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00")

    check = check_uploads([good, fake_pdf, binary, big, word, program])
    assert check.accepted == [good]
    refused = "\n".join(check.refused)
    assert "notes.pdf: content is a text file, not what .pdf promises" in refused
    assert "photo.txt: content is a PNG image, not what .txt promises" in refused
    assert "big.txt: 10.5 MB is over the 10 MB limit" in refused
    assert "letter.docx: content is a zip archive, not what .docx promises" in refused
    assert "setup.exe: unsupported file type .exe; use .txt, .md, .pdf, .docx, .html" in refused


def test_the_upload_box_names_the_types_in_the_words_of_the_refusal(fake_assistant, tmp_path):
    import gradio as gr

    from ui.app import build_app

    upload = next(b for b in build_app(fake_assistant).blocks.values() if isinstance(b, gr.File))
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00")
    refusal = check_uploads([program]).refused[0]
    named = upload.label.removeprefix("Add ").removesuffix(" files (10 MB each)")
    assert refusal.endswith(f"; use {named}"), (upload.label, refusal)
    assert named.startswith(".txt, .md, .pdf, .docx, .html, .pptx, .xlsx, .csv, .epub, .png")


# ---- a launched app ---------------------------------------------------------------------------
def test_the_chat_binds_to_localhost_and_documents_its_api(app, client):
    from ui.app import MAX_UPLOAD_BYTES

    assert app.server_name == "127.0.0.1"
    assert app.max_file_size == MAX_UPLOAD_BYTES  # bigger uploads are refused before they are stored
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert [p["parameter_name"] for p in api["/chat"]["parameters"]] == ["message", "history"]
    assert {"/chat", "/add_documents", "/remove_document"} <= set(api)
    assert "/respond" not in api  # the UI's own event stays out of the documented API


def test_chat_round_trip(client):
    reply, details = client.predict(EXAMPLE_QUESTION, api_name="/chat")
    assert EXAMPLE_ANSWER in reply
    assert details["answer"] == reply and details["no_answer"] is False
    evidence = next(s for s in details["sources"] if s["answer_start"] is not None)
    assert evidence["text"][evidence["answer_start"] : evidence["answer_end"]] == reply


def test_follow_up_round_trip_uses_the_history(client):
    first, _ = client.predict("Who is Meng Wanzhou?", [], api_name="/chat")
    history = [{"role": "user", "content": "Who is Meng Wanzhou?"}, {"role": "assistant", "content": first}]
    reply, details = client.predict("When was she detained?", history, api_name="/chat")
    assert details["rewritten_question"] == "When was Meng Wanzhou detained?"
    assert "December 2019" in reply
    alone, _ = client.predict("When was she detained?", [], api_name="/chat")
    assert alone == "The document doesn't say."


def test_a_blank_question_is_refused_with_a_clear_message(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="the question is empty"):
        client.predict("   ", api_name="/chat")


def test_concurrent_sessions_keep_their_own_history(app):
    """Two people chat at once through the UI's event; each follow-up uses its own conversation."""
    from gradio_client import Client

    conversations = {"a": ["Who is Meng Wanzhou?", "When was she detained?"],
                     "b": ["Who was sanctioned by China?", "When was she detained?"]}  # fmt: skip
    chats: dict[str, list] = {}
    start = threading.Barrier(2)

    def talk(name: str) -> None:
        session = Client(app.local_url, verbose=False)  # one browser session each
        start.wait()
        for question in conversations[name]:
            _, chats[name] = session.predict(question, api_name="/respond")

    threads = [threading.Thread(target=talk, args=(name,)) for name in conversations]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert texts(chats["a"], "user") == conversations["a"]
    assert texts(chats["b"], "user") == conversations["b"]
    assert "Searched for: <em>When was Meng Wanzhou detained?</em>" in texts(chats["a"], "assistant", True)[1]
    assert "Meng" not in texts(chats["b"], "assistant", True)[1]
    assert "December 2019" in texts(chats["a"], "assistant")[1]


def test_upload_round_trip_adds_refuses_and_removes(client, tmp_path: Path):
    from gradio_client import handle_file

    good = tmp_path / "harbour.md"
    good.write_text(HARBOUR, encoding="utf-8")
    disguised = tmp_path / "scan.pdf"
    disguised.write_text("not a PDF at all", encoding="utf-8")

    status, table = client.predict([handle_file(good), handle_file(disguised)], api_name="/add_documents")
    assert "Added **harbour.md** (1 passage)." in status
    assert "scan.pdf: content is a text file, not what .pdf promises" in status
    names = [row[0] for row in table["data"]]
    assert names == ["ap-china-russia-sanctions.txt", "harbour.md"]

    reply, details = client.predict("Who is the lighthouse keeper of Port Elin?", api_name="/chat")
    assert "Agnes Varga" in reply
    assert details["sources"][0]["document"] == "harbour.md"

    status, table, _ = client.predict("harbour.md", api_name="/remove_document")
    assert status == "Removed **harbour.md**."
    assert [row[0] for row in table["data"]] == ["ap-china-russia-sanctions.txt"]
    status, _, _ = client.predict("ap-china-russia-sanctions.txt", api_name="/remove_document")
    assert "only document" in status


def test_questions_are_answered_while_documents_are_being_indexed(
    fake_assistant, client, monkeypatch, tmp_path
):
    from gradio_client import handle_file

    release = threading.Event()
    real_index = fake_assistant.index

    def slow_index(*args, **kwargs):
        release.wait(timeout=60)
        return real_index(*args, **kwargs)

    monkeypatch.setattr(fake_assistant, "index", slow_index)
    good = tmp_path / "harbour.md"
    good.write_text(HARBOUR, encoding="utf-8")
    upload = client.submit([handle_file(good)], api_name="/add_documents")
    time.sleep(0.5)
    started = time.perf_counter()
    reply, _ = client.predict(EXAMPLE_QUESTION, api_name="/chat")
    assert EXAMPLE_ANSWER in reply and not upload.done()
    assert time.perf_counter() - started < 20
    release.set()
    status, _ = upload.result(timeout=60)
    assert "Added **harbour.md**" in status


@pytest.mark.slow
def test_chat_round_trip_with_the_real_models(real_assistant):
    from gradio_client import Client

    served = serve(real_assistant)
    try:
        client = Client(served.local_url, verbose=False)
        reply, details = client.predict("When was Meng Wanzhou detained in Canada?", api_name="/chat")
    finally:
        served.close()
    assert reply == "December 2019"
    assert details["reader"] == real_assistant.reader
    assert details["band"] == "sure"


@pytest.mark.slow
def test_chat_round_trip_says_not_sure_and_doesnt_say_with_the_real_models(unsure_assistant):
    from gradio_client import Client

    served = serve(unsure_assistant)
    try:
        client = Client(served.local_url, verbose=False)
        reply, details = client.predict(EXAMPLE_QUESTION, api_name="/chat")
        off_topic, off_details = client.predict(OFF_TOPIC_QUESTION, api_name="/chat")
    finally:
        served.close()
    assert reply == f"I'm not sure. The closest the documents come is: “{EXAMPLE_ANSWER}”"
    assert details["band"] == "unsure" and details["answer"] == EXAMPLE_ANSWER
    assert details["no_answer"] is False
    assert off_topic == NO_ANSWER_TEXT and off_details["band"] == "none" and off_details["no_answer"]
