"""The `qa` command as a user runs it: JSON contract, readable output, bad input, no tracebacks."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import (
    EXAMPLE_ANSWER,
    EXAMPLE_QUESTION,
    EXAMPLE_SENTENCE,
    OFF_TOPIC_QUESTION,
    UNSURE_THRESHOLD,
    write_config,
)
from qa.cli import qa


def run(config: Path, *args: str):
    return CliRunner().invoke(qa, [*args, "--config", str(config)], catch_exceptions=False)


def test_ask_builds_the_index_from_seeds_and_prints_the_json_contract(fake_config):
    result = run(fake_config, "ask", EXAMPLE_QUESTION, "--json")
    assert result.exit_code == 0, result.output
    assert "building it from" in result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "question", "answer", "no_answer", "band", "score", "sources", "reader", "timings_ms", "engine",
        "collection", "alternatives",
    }  # fmt: skip
    assert data["collection"] == "default"
    assert data["alternatives"] == []  # a "not sure" reply's runner-up only
    assert data["band"] == "sure"
    assert data["engine"] == "none"  # hash embedder and word-overlap reader: no model runs
    assert data["question"] == EXAMPLE_QUESTION
    assert EXAMPLE_ANSWER in data["answer"] and data["no_answer"] is False
    assert 0.0 <= data["score"] <= 1.0
    assert data["reader"] == "offline:word-overlap"
    assert len(data["sources"]) == 8  # retrieval.top_k
    for source in data["sources"]:
        assert set(source) == {"document", "text", "score", "answer_start", "answer_end", "location"}
    marked = [s for s in data["sources"] if s["answer_start"] is not None]
    assert len(marked) == 1
    s = marked[0]
    assert s["text"][s["answer_start"] : s["answer_end"]] == data["answer"]


def test_ask_top_k_limits_the_sources(fake_config):
    data = json.loads(run(fake_config, "ask", EXAMPLE_QUESTION, "--json", "--top-k", "2").stdout)
    assert len(data["sources"]) == 2


def test_ask_for_people_marks_the_answer_in_its_passage(fake_config):
    result = run(fake_config, "ask", EXAMPLE_QUESTION)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert EXAMPLE_ANSWER in lines[0]
    assert "Source: ap-china-russia-sanctions.txt" in result.stdout
    assert "[[" in result.stdout and EXAMPLE_ANSWER in result.stdout.split("[[", 1)[1].split("]]")[0]


@pytest.mark.slow
def test_ask_prints_each_band_as_such_with_the_real_models(real_index_dir, tmp_path):
    # a sure threshold below its probability: the example is sure whatever the calibration
    sure = write_config(tmp_path, reader="offline", index_dir=str(real_index_dir), no_answer_threshold=0.05)
    result = run(sure, "ask", EXAMPLE_QUESTION)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == EXAMPLE_ANSWER
    assert "Source: ap-china-russia-sanctions.txt" in result.stdout and "not sure" not in result.stdout

    (tmp_path / "unsure").mkdir()
    unsure = write_config(
        tmp_path / "unsure", reader="offline", index_dir=str(real_index_dir),
        no_answer_threshold=UNSURE_THRESHOLD,
    )  # fmt: skip
    result = run(unsure, "ask", EXAMPLE_QUESTION)
    assert result.exit_code == 0, result.output
    hedge, sentence, document, *runners_up, score = result.stdout.splitlines()
    assert hedge == "I'm not sure. The closest the documents come is:"
    marked = EXAMPLE_SENTENCE.replace(EXAMPLE_ANSWER, f"[[{EXAMPLE_ANSWER}]]")
    assert sentence == f"  {marked}"  # the closest sentence, the candidate marked
    assert document == "  — ap-china-russia-sanctions.txt"
    assert score.startswith("  (score 0.")
    data = json.loads(run(unsure, "ask", EXAMPLE_QUESTION, "--json").stdout)
    assert data["band"] == "unsure" and data["answer"] == EXAMPLE_ANSWER and data["no_answer"] is False
    # the runner-up from another sentence, when there is one, is printed after it, marked the same way
    expected = []
    for also in data["alternatives"]:
        text, start, end = also["sentence"], also["answer_start"], also["answer_end"]
        assert text[start:end] == also["text"] and text != EXAMPLE_SENTENCE
        expected += ["or:", f"  {text[:start]}[[{also['text']}]]{text[end:]}", f"  — {also['document']}"]
    assert runners_up == expected

    result = run(unsure, "ask", OFF_TOPIC_QUESTION)
    assert result.stdout.splitlines()[0] == "The document doesn't say."
    assert "Closest passage:" in result.stdout
    data = json.loads(run(unsure, "ask", OFF_TOPIC_QUESTION, "--json").stdout)
    assert data["band"] == "none" and data["answer"] is None and data["no_answer"] is True


@pytest.mark.parametrize(
    ("question", "message"),
    [("   ", "the question is empty"), ("x" * 2001, "keep it under 2000")],
)
def test_bad_questions_are_one_line_errors_with_exit_2(fake_config, question, message):
    result = run(fake_config, "ask", question)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_index_command_reports_and_rebuilds(fake_config, tmp_path):
    doc = tmp_path / "extra.txt"
    doc.write_text("Extra facts. More facts.", encoding="utf-8")
    result = run(fake_config, "index")
    assert result.exit_code == 0 and "1 added" in result.stdout
    result = run(fake_config, "index", str(doc))
    assert "1 added" in result.stdout
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"\x00\x01")
    result = run(fake_config, "index", str(doc), str(bad))
    assert "indexed 1 file (1 passage): 1 unchanged; skipped 1: 1 wrong content" in result.stdout
    assert "\n  bad.md: content is binary" in result.stdout
    result = run(fake_config, "index", str(doc), "--rebuild")
    assert result.exit_code == 0
    assert "the index holds 1 document (1 passage)" in result.stdout


def test_index_of_nothing_usable_is_an_error(fake_config, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\xff\x00")
    result = run(fake_config, "index", str(bad))
    assert result.exit_code == 2
    assert "bad.txt" in result.stderr and "no readable" in result.stderr


def test_unknown_config_key_is_a_one_line_error(tmp_path):
    config = write_config(tmp_path, colour="blue")
    result = CliRunner().invoke(qa, ["ask", "Who?", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown config key 'colour'; allowed keys:" in result.stderr


def test_mismatched_index_names_the_rebuild_command(fake_config, tmp_path):
    assert run(fake_config, "index").exit_code == 0
    other = write_config(tmp_path / "..", embedding_model="bundled", index_dir=str(tmp_path / "index"))
    result = CliRunner().invoke(qa, ["ask", "Who?", "--config", str(other)])
    assert result.exit_code == 1
    assert "qa index --rebuild" in result.stderr and "Traceback" not in result.stderr


def test_config_comes_from_the_environment_variable(fake_config):
    result = CliRunner(env={"QA_CONFIG": str(fake_config)}).invoke(qa, ["ask", EXAMPLE_QUESTION, "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["reader"] == "offline:word-overlap"


def test_console_script_runs_as_a_process(fake_config):
    env = {**os.environ, "QA_CONFIG": str(fake_config)}
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", ""], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: the question is empty; type a question about the documents"


@pytest.mark.postgres
def test_qa_db_is_made_for_eval_and_prints_no_platformdirs_warning(tmp_path):
    """`eval "$(qa db start)"` runs only export lines (a person reads stderr), and no command warns that
    XDG_RUNTIME_DIR is not set (it is not, in containers and over ssh)."""
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    folder = str(tmp_path / "db")

    def db(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "qa.cli", "db", *args, "--dir", folder],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip

    runs = [db("status"), db("start"), db("status"), db("stop"), db("stop")]
    for proc in runs:
        assert "Warning" not in proc.stderr and "XDG_RUNTIME_DIR" not in proc.stderr, proc.stderr
    started = runs[1]
    assert started.returncode == 0
    assert [line.split("=")[0] for line in started.stdout.splitlines()] == ["export QA_DATABASE_URL"]
    assert "qa db stop" in started.stderr
    script = f'eval "$({sys.executable} -m qa.cli db start --dir {folder})"; echo "$QA_DATABASE_URL"'
    shell = subprocess.run(
        ["bash", "-c", script],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert shell.stdout.startswith("postgresql://"), shell.stderr
    assert db("stop").returncode == 0


def test_qa_chat_says_what_it_serves_and_where(fake_config):
    """Start-up names the reader, what is indexed (or that the seeds are being indexed) and the URL;
    no hint at Gradio's `share=True`, which is not an option of `qa chat`."""
    import queue
    import threading
    import urllib.request

    from conftest import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "chat", "--port", str(port), "--config", str(fake_config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "QA_AUTH": ""},
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    said: list[str] = []
    try:
        while not any(line.startswith("chat: ") for line in said):
            said.append(lines.get(timeout=120).rstrip("\n"))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
            assert page.status == 200
        time_to_print_more = 2
        try:
            while True:
                said.append(lines.get(timeout=time_to_print_more).rstrip("\n"))
        except queue.Empty:
            pass
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    seeds = fake_config.parent / "seeds"
    assert said[0].startswith("no index at ") and said[0].endswith(f": indexing {seeds} first..."), said
    assert "reader: offline:word-overlap" in said
    assert [line for line in said if re.fullmatch(r"indexed: 1 document, \d\d+ passages in .+", line)], said
    assert f"chat: http://127.0.0.1:{port}/ (Ctrl-C to stop)" in said
    assert not [line for line in said if "share" in line or "Running on" in line], said


def test_a_store_whose_extra_is_not_installed_says_what_to_install(fake_config, tmp_path):
    (tmp_path / "pg").mkdir()
    config = write_config(tmp_path / "pg", **{**_settings(fake_config), "store": "pgvector"})
    code = (
        "import sys; sys.modules['haystack_integrations.document_stores.pgvector'] = None; "
        "from qa.cli import main; main()"
    )
    env = {**os.environ, "QA_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = subprocess.run(
        [sys.executable, "-c", code, "ask", EXAMPLE_QUESTION, "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "pip install -e '.[pgvector]'" in result.stderr, result.stderr


def _settings(config: Path) -> dict:
    import yaml

    return yaml.safe_load(config.read_text(encoding="utf-8"))


def test_qa_db_start_without_the_pgvector_extra_names_it(tmp_path):
    code = "import sys; sys.modules['psycopg'] = None; from qa.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "db", "start", "--dir", str(tmp_path / "db")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "pip install -e '.[pgvector]'" in result.stderr, result.stderr


@pytest.mark.parametrize("command", ["chat", "serve"])
def test_a_busy_port_is_one_line_naming_port_before_anything_loads(fake_config, command):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "qa.cli", command, "--port", str(port), "--config", str(fake_config)],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "QA_AUTH": "", "QA_API_KEYS": ""},
        )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "--port" in result.stderr and "GRADIO_SERVER_PORT" not in result.stderr
    assert not (fake_config.parent / "index").exists()  # nothing was loaded or indexed first
