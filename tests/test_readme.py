"""The README's commands and examples, run as written in a copy of the project, as a newcomer would.

Every code block of the README is either run here or named in `RUN_ELSEWHERE` with the test that runs
it, so a new example cannot go untested. What a block prints is checked against what the README says
it prints: the session's output line by line ("..." stands for text left out, scores within 0.02),
the `# comments` after `print(...)` in the Python examples.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_index import make_pdf

from conftest import DATA, EXAMPLE_ANSWER, ROOT, SEEDS, serve

README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent  # the environment's `qa`, as after `source .venv/bin/activate`
ACTIVATE = "source .venv/bin/activate"
# blocks run by other tests (or by CI itself), by a piece of their text
RUN_ELSEWHERE = {
    "python3 -m venv .venv": "the first command: CI's test command builds the same environment",
    "apt-get update": "the test command itself: .ci/run",
    "qa chat                       #": "tests/test_browser.py drives the chat",
    "qa serve": "tests/test_server.py starts the server",
    "curl -s http://127.0.0.1:1416": "tests/test_server.py::test_the_readme_curl_and_openai_examples_work",
    "from openai import OpenAI": "tests/test_server.py (the same test)",
    "qa users add alice": "tests/test_collections.py::test_the_readme_team_commands_work",
}


def blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block, in order."""
    return re.findall(r"^```(\w+)\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)


def block(language: str, containing: str) -> str:
    [code] = [code for lang, code in blocks() if lang == language and containing in code]
    return code


def elsewhere(code: str) -> bool:
    return any(piece in code for piece in RUN_ELSEWHERE)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of what a clone holds that the examples read, and the files they name (my-notes/, report.pdf)"""
    folder = tmp_path_factory.mktemp("clone") / "doc-qa"
    shutil.copytree(ROOT / "config", folder / "config")
    shutil.copytree(SEEDS, folder / "seeds")
    (folder / "tests" / "data").mkdir(parents=True)
    shutil.copy(DATA / "article_questions.jsonl", folder / "tests" / "data")
    (folder / "my-notes").mkdir()
    (folder / "my-notes" / "harbour.md").write_text(
        "# Harbour notes\n\nThe lighthouse keeper of Port Elin is Agnes Varga.\n", encoding="utf-8"
    )
    (folder / "report.pdf").write_bytes(make_pdf("The treaty was signed in Vienna in 1815."))
    return folder


def shell(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`command` in bash in `cwd`, with the environment active; stdout and stderr together."""
    environ = {k: v for k, v in os.environ.items() if k not in ("QA_CONFIG", "QA_DATABASE_URL")}
    environ |= {"PATH": f"{BIN}{os.pathsep}{environ['PATH']}", "HF_HUB_OFFLINE": "1", **env}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=environ,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600,
    )  # fmt: skip


def python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return shell(f"{sys.executable} - <<'EOF'\n{code}EOF\n", cwd)


def printed_comments(code: str) -> list[str]:
    """What the example says its print() calls show: the `# comment` after each."""
    return [m.group(1).strip() for m in re.finditer(r"print\(.*\)\s+#\s*(.+)$", code, flags=re.MULTILINE)]


def _pattern(expected: str) -> re.Pattern:
    """An output line as the README shows it: "..." is text left out; a score is any number."""
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.compile(re.sub(r"score\\ \d\\\.\d+", r"score\\ (\\d\\.\\d+)", pattern))


def matches(expected: str, actual: str) -> bool:
    m = _pattern(expected).fullmatch(actual)
    if m is None:
        return False
    shown = re.search(r"score (\d\.\d+)", expected)
    return shown is None or abs(float(m.group(1)) - float(shown.group(1))) <= 0.02


def assert_shows(expected: list[str], actual: list[str], what: str) -> None:
    """Each expected line appears in `actual`, in order (other lines, e.g. logs, may come between)."""
    position = 0
    for line in expected:
        found = next((i for i in range(position, len(actual)) if matches(line, actual[i])), None)
        assert found is not None, f"{what}: README line {line!r} not printed; printed:\n" + "\n".join(actual)
        position = found + 1


def session() -> list[tuple[str, list[str]]]:
    """(command, the lines the README shows it printing) of the README's console session."""
    steps: list[tuple[str, list[str]]] = []
    for line in block("console", "$ qa ask").splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif line.strip():
            steps[-1][1].append(line.rstrip())
    return steps


# ---- the README a newcomer follows ----------------------------------------------------------------
def test_every_code_block_is_run_here_or_by_a_named_test():
    here = {
        "source .venv/bin/activate", "$ qa ask", "qa eval tests/data/article_questions.jsonl",
        "from qa import Assistant", "from gradio_client import Client", 'eval "$(qa db start)"',
        "I'm not sure. The closest the documents come is:",
    }  # fmt: skip
    for _, code in blocks():
        assert elsewhere(code) or any(piece in code for piece in here), f"untested README block:\n{code}"


def test_the_environment_is_activated_before_bare_qa_and_pip_commands():
    """After the first command (which names `.venv/bin/...`), the README says once to activate the
    environment, before any block runs a bare `qa` or `pip`."""
    first_bare = min(
        README.index(code)
        for language, code in blocks()
        if language in ("bash", "console") and re.search(r"(^|\$ |&& )(qa|pip) ", code, flags=re.MULTILINE)
    )
    assert ACTIVATE in README and README.index(ACTIVATE) < first_bare
    assert "python3 -m venv .venv && .venv/bin/pip install" in README.split(ACTIVATE, 1)[0]


@pytest.mark.slow
def test_the_session_prints_what_the_readme_shows(project):
    steps = session()
    assert [command.split()[:2] for command, _ in steps] == [["qa", "ask"]] * 3 + [["qa", "index"]]
    for command, expected in steps:
        result = shell(command, project)
        assert result.returncode == 0, (command, result.stdout)
        if "--json" not in command:
            assert_shows(expected, result.stdout.splitlines(), command)
            continue
        printed = json.loads(result.stdout.splitlines()[-1])
        shown = "\n".join(expected)
        for key in ("question", "answer", "reader"):
            assert f'"{key}": {json.dumps(printed[key], ensure_ascii=False)}' in shown, key
        assert f'"no_answer": {json.dumps(printed["no_answer"])}' in shown
        assert abs(float(re.search(r'"score": ([\d.]+)', shown).group(1)) - printed["score"]) <= 0.02
        first = printed["sources"][0]
        assert f'"answer_start": {first["answer_start"]}, "answer_end": {first["answer_end"]}' in shown
        keys = {*printed, *first, *printed["timings_ms"]}
        assert set(re.findall(r'"(\w+)":', shown)) <= keys
    assert "harbour.md" in shell("qa ask 'Who is the lighthouse keeper of Port Elin?' --json", project).stdout


@pytest.mark.slow
def test_the_not_sure_reply_prints_what_the_readme_shows(project):
    expected = [line.rstrip() for line in block("text", "I'm not sure.").splitlines() if line.strip()]
    result = shell("qa ask 'Who was sanctioned by China?'", project)
    assert result.returncode == 0, result.stdout
    assert_shows(expected, result.stdout.splitlines(), "the not-sure reply")


@pytest.mark.slow
def test_the_eval_example_scores_the_named_question_set(project):
    result = shell(block("bash", "qa eval "), project)
    assert result.returncode == 0, result.stdout
    assert "95 questions" in result.stdout
    [run] = (project / "runs").iterdir()
    assert {"summary.json", "questions.csv", "report.md", "chart.png"} <= {p.name for p in run.iterdir()}


@pytest.mark.slow
def test_the_python_example_runs_and_prints_what_its_comments_say(project):
    code = block("python", "from qa import Assistant")
    result = python(code, project)
    assert result.returncode == 0, result.stdout
    printed = result.stdout.splitlines()
    comments = printed_comments(code)
    assert len(comments) == 3  # an answer, an abstention, a follow-up
    for comment in comments:
        assert any(matches(comment, line) for line in printed), (comment, printed)


@pytest.mark.slow
def test_the_python_example_prints_a_not_sure_reply_as_a_hedge_with_its_sentence(project):
    """The example's "unsure" branch, run: with the sure threshold out of reach (QA_CONFIG) its first
    question is not sure, and it prints the hedge, the closest sentence and the document."""
    code = block("python", "from qa import Assistant")
    config = (project / "config" / "default.yaml").read_text(encoding="utf-8")
    cautious = project / "config" / "cautious.yaml"
    cautious.write_text(config.replace("no_answer_threshold: null", "no_answer_threshold: 0.99"), "utf-8")
    result = shell(f"{sys.executable} - <<'EOF'\n{code}EOF\n", project, QA_CONFIG=str(cautious))
    assert result.returncode == 0, result.stdout
    hedge = "I'm not sure. The closest the documents come is: “December 2019” - "
    [line] = [line for line in result.stdout.splitlines() if line.startswith(hedge)]
    assert "the detention in Canada in December 2019 of Meng Wanzhou" in line
    assert line.endswith(" - ap-china-russia-sanctions.txt")
    assert any(re.fullmatch(r"The document doesn't say\. \d+", line) for line in result.stdout.splitlines())


@pytest.mark.slow
def test_the_gradio_client_example_answers(project, real_assistant):
    code = block("python", "from gradio_client import Client")
    app = serve(real_assistant)
    try:
        result = python(code.replace("http://127.0.0.1:7860/", app.local_url), project)
    finally:
        app.close()
    assert result.returncode == 0, result.stdout
    [comment] = printed_comments(code)
    assert comment == "December 2019" and result.stdout.splitlines()[-1] == comment


@pytest.mark.slow
@pytest.mark.postgres
def test_the_pgvector_example_runs(project):
    code = block("bash", 'eval "$(qa db start)"')
    runnable = "\n".join(line for line in code.splitlines() if not line.startswith("pip install"))
    try:
        result = shell(runnable, project)
    finally:
        shell("qa db stop", project)
    assert result.returncode == 0, result.stdout
    assert EXAMPLE_ANSWER in result.stdout and "stopped the database" in result.stdout
    assert "Warning" not in result.stdout
