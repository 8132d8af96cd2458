"""Fuzzing (hypothesis): whatever a person or a program sends through the Python API, the CLI, `/chat`,
a document or a config file, the answer is an answer or one clear error, never a traceback, and
nothing already indexed is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ARTICLE, EXAMPLE_ANSWER, EXAMPLE_QUESTION, write_config
from qa import Answer, Assistant, QAError

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
messages = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "x"]), "content": st.text(max_size=300)}
)
histories = st.none() | st.lists(messages | json_values, max_size=6) | json_values


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "seeds").mkdir()
    shutil.copy(ARTICLE, folder / "seeds" / ARTICLE.name)
    return write_config(
        folder, embedding_model="hash", reader="offline", offline_model="overlap",
        index_dir=str(folder / "index"), seeds_dir=str(folder / "seeds"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def assistant(config) -> Assistant:
    assistant = Assistant.from_config(config)
    assistant.warm_up()
    return assistant


@FUZZ
@given(question=st.text(max_size=3000) | json_values, history=histories)
def test_the_python_api_answers_or_raises_one_clear_error(assistant, question, history):
    try:
        answer = assistant.ask(question, history=history)
    except QAError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(answer, Answer)
        assert len(answer.rewritten_question or "") <= 2 * assistant.settings.max_question_chars + 1


@FUZZ
@given(history=json_values)
def test_any_json_history_from_a_script_is_cleaned_or_refused(history):
    from ui.history import clean_history

    try:
        cleaned = clean_history(history)
    except QAError:
        return
    assert all(m["role"] in ("user", "assistant") and isinstance(m["content"], str) for m in cleaned)


@FUZZ
@given(
    data=st.binary(max_size=2000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    suffix=st.sampled_from([".txt", ".md", ".pdf", ".docx", ""]),
    prefix=st.sampled_from([b"", b"%PDF-1.4\n", b"\xff\xfe", b"\xef\xbb\xbf"]),
)
def test_any_file_is_indexed_or_refused_and_nothing_indexed_is_lost(
    assistant, tmp_path_factory, data, suffix, prefix
):
    before = set(assistant.documents())
    path = tmp_path_factory.mktemp("doc") / f"fuzzed{suffix}"
    path.write_bytes(prefix + data)
    try:
        assistant.index([path])
    except QAError as exc:
        assert "\n" not in str(exc)
    assert before <= set(assistant.documents())
    assert EXAMPLE_ANSWER in (assistant.ask(EXAMPLE_QUESTION).text or "")


yaml_text = st.text(max_size=300) | st.dictionaries(
    st.sampled_from(["reader", "top_k", "retrieval", "splitter", "followups", "max_question_chars", "x"]),
    json_values,
    max_size=4,
).map(lambda d: __import__("yaml").safe_dump(d))


@FUZZ
@given(text=yaml_text)
def test_any_config_file_loads_or_names_what_is_wrong(tmp_path_factory, text):
    from qa.config import load_settings

    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_settings(path)
    except QAError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(question=st.text(max_size=200))
def test_the_cli_prints_an_answer_or_one_error_line(config, question):
    from click.testing import CliRunner

    from qa.cli import qa

    result = CliRunner().invoke(
        qa, ["ask", "--config", str(config), "--", question]
    )  # as a script passes input
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code:
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


@pytest.fixture(scope="module")
def chat_client(assistant):
    from gradio_client import Client
    from test_ui import serve

    app = serve(assistant)
    yield Client(app.local_url, verbose=False)
    app.close()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=st.text(max_size=300) | json_values, history=histories)
def test_chat_requests_get_a_reply_or_an_error_and_the_server_stays_up(chat_client, message, history):
    from gradio_client.exceptions import AppError

    try:
        reply, details = chat_client.predict(message, history, api_name="/chat")
    except AppError as exc:
        assert str(exc) and "Traceback" not in str(exc)
    else:
        assert isinstance(reply, str) and "sources" in details
    assert EXAMPLE_ANSWER in chat_client.predict(EXAMPLE_QUESTION, api_name="/chat")[0]


# ---- the real reader and embedder: questions up to the limits, in several scripts -----------------

LIMIT = 2000  # config/default.yaml's max_question_chars
SCRIPTS = {
    "latin": st.characters(min_codepoint=0x20, max_codepoint=0x24F),
    "cjk": st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    "symbols": st.characters(categories=["S", "P", "No"]),
    "surrogates": st.characters(categories=["Cs", "Ll"]),  # lone halves of UTF-16 pairs amid letters
    "anything": st.characters(codec=None, exclude_categories=[]),
}
EDGE_QUESTIONS = {
    "latin, 1,000 characters": ("Who was sanctioned by China and why " * 30)[:1000],
    "latin, at the limit": ("Who was sanctioned by China and why " * 60)[:LIMIT],
    "cjk, 200 characters": "中国制裁了谁" * 33 + "中国",
    "cjk, at the limit": ("中国制裁了谁？" * 300)[:LIMIT],
    "symbols, at the limit": ("∑∂√©®™☃★♞" * 250)[:LIMIT],
    "emoji, at the limit": "😀" * LIMIT,
    "a lone surrogate": "Who was sanctioned by China?\ud800",
    "surrogates only": "\ud800\udc00\udfff" * 100,
    "one word of 2,000 letters": "a" * LIMIT,
    "mixed scripts": ("Who 誰 was ما sanctioned प्रतिबंध by China? " * 60)[:LIMIT],
}


def _answered_or_refused(assistant: Assistant, question: str) -> None:
    """A question within the limits is answered (the reader reads what fits); any other is refused
    with one line; and the answer goes out as UTF-8 JSON, as the server sends it."""
    import json

    allowed = bool(question.strip()) and len(question.strip()) <= assistant.settings.max_question_chars
    try:
        answer = assistant.ask(question)
    except QAError as exc:
        assert not allowed, f"refused a question the limits allow: {exc}"
        assert str(exc) and "\n" not in str(exc)
        return
    assert allowed and isinstance(answer, Answer)
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("name", EDGE_QUESTIONS)
def test_long_and_odd_questions_up_to_the_limit_are_answered_by_the_real_models(real_assistant, name):
    _answered_or_refused(real_assistant, EDGE_QUESTIONS[name])


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_any_question_in_any_script_is_answered_or_refused_by_the_real_models(real_assistant, script):
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(question=st.text(SCRIPTS[script], min_size=1, max_size=LIMIT + 50))
    def check(question: str) -> None:
        _answered_or_refused(real_assistant, question)

    check()


@pytest.mark.slow
def test_a_long_question_in_the_history_does_not_break_a_follow_up(real_assistant):
    history = [
        {"role": "user", "content": "中国制裁了谁" * 300 + "\ud800"},
        {"role": "assistant", "content": "\udfff" + "x" * 3000},
    ]
    answer = real_assistant.ask("What did they do?", history=history)
    assert isinstance(answer, Answer)
