"""The `qa` command: one verb per job. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from qa.answer import UNSURE, UNSURE_TEXT, Answer
from qa.errors import ConfigError, friendly_errors
from qa.progress import IndexProgress

logger = logging.getLogger("qa")


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s: %(message)s" if verbose else "%(message)s",
        stream=sys.stderr,
    )
    for noisy in ("haystack", "httpx", "sentence_transformers", "transformers", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


config_option = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="QA_CONFIG",
    help="YAML settings (default: $QA_CONFIG, then config/default.yaml).",
)
index_dir_option = click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Index folder (default from config).",
)
collection_option = click.option(
    "--collection", metavar="NAME", help="The collection to use (default: the default collection)."
)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
def qa(verbose: bool) -> None:
    """Ask questions about your documents, offline."""
    _configure_logging(verbose)


def _assistant(config: Path | None, index_dir: Path | None, collection: str | None = None) -> Any:
    from qa.assistant import Assistant

    return Assistant.from_config(config, index_dir=index_dir, collection=collection)


@qa.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@config_option
@collection_option
@click.option("--rebuild", is_flag=True, help="Start from an empty index instead of adding to it.")
@friendly_errors
def index_command(
    paths: tuple[Path, ...],
    index_dir: Path | None,
    config: Path | None,
    collection: str | None,
    rebuild: bool,
) -> None:
    """Index documents, or folders of them (default: the seeds folder): .txt, .md, .pdf, .docx, .html,
    .pptx, .xlsx, .csv, .epub, and scans (.pdf pages without text, .png, .jpg, .tiff) with Tesseract OCR."""
    from index.indexer import skipped_summary
    from index.reading import NothingReadableError

    assistant = _assistant(config, index_dir, collection)
    targets = list(paths) or [assistant.settings.seeds_dir]
    try:
        report = assistant.index(targets, rebuild=rebuild, progress=IndexProgress())
    except NothingReadableError as exc:
        click.echo(
            f"error: no readable document in the given paths; {skipped_summary(exc.skipped)}", err=True
        )
        for message in exc.skipped:
            click.echo(f"  {message}", err=True)
        sys.exit(2)
    counts = assistant.documents()
    read = report.read
    passages = sum(counts.get(name, 0) for name in read)
    outcomes = {"added": report.added, "updated": report.updated, "unchanged": report.unchanged}
    parts = ", ".join(f"{len(names)} {what}" for what, names in outcomes.items() if names)
    skipped = f"; {report.skipped_summary()}" if report.skipped else ""
    click.echo(f"indexed {_count(len(read), 'file')} ({_count(passages, 'passage')}): {parts}{skipped}")
    for message in report.skipped:
        click.echo(f"  {message}")
    held = "the index" if collection is None else f"collection {assistant.collection!r}"
    click.echo(
        f"{held} holds {_count(len(counts), 'document')} ({_count(report.passages, 'passage')}) "
        f"in {assistant.store.where}"
    )


def _marked(text: str, start: int, end: int, color: bool) -> str:
    answer = text[start:end]
    mark = click.style(answer, bold=True, underline=True) if color else f"[[{answer}]]"
    return text[:start] + mark + text[end:]


def render_answer(answer: Answer, color: bool) -> str:
    quote = answer.evidence_quote if answer.band == UNSURE else None
    evidence = answer.evidence
    if quote is not None and evidence is not None:  # the hedge, then the closest sentence, marked
        sentence, start, end = quote
        hedge = click.style(UNSURE_TEXT, bold=True, fg="yellow") if color else UNSURE_TEXT
        marked = _marked(sentence, start, end, color)
        score = f"  (score {answer.score:.2f}, reader {answer.reader})"
        lines = [hedge, f"  {marked}", f"  — {evidence.where}"]
        for also in answer.alternatives:  # the runner-up, from another sentence
            lines += [
                "or:",
                f"  {_marked(also.sentence, also.answer_start, also.answer_end, color)}",
                f"  — {also.as_source().where}",
            ]
        return "\n".join([*lines, score])
    lines = [click.style(answer.display_text, bold=True) if color else answer.display_text]
    lines.append(f"  (score {answer.score:.2f}, reader {answer.reader})")
    if evidence is not None and evidence.answer_start is not None and evidence.answer_end is not None:
        marked = _marked(evidence.text, evidence.answer_start, evidence.answer_end, color)
        lines += ["", f"Source: {evidence.where}", marked]
    elif answer.sources:
        lines += ["", "Closest passage:", f"{answer.sources[0].document}: {answer.sources[0].text}"]
    return "\n".join(lines)


@qa.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--top-k", type=click.IntRange(min=1), help="Passages to read.")
@index_dir_option
@config_option
@collection_option
@friendly_errors
def ask_command(
    question: str, as_json: bool, top_k: int | None, index_dir: Path | None, config: Path | None,
    collection: str | None,
) -> None:  # fmt: skip
    """Answer QUESTION from the indexed documents (indexing the seeds first if there is no index)."""
    assistant = _assistant(config, index_dir, collection)
    assistant.check_question(question)
    if collection is None and not assistant.has_index():
        click.echo(
            f"no index at {assistant.index_dir}; building it from {assistant.settings.seeds_dir}", err=True
        )
    answer = assistant.ask(question, top_k=top_k)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        click.echo(render_answer(answer, color=sys.stdout.isatty()))


@qa.command("chat")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--no-login",
    is_flag=True,
    help="Serve a non-loopback --host without a login (QA_AUTH=user:password) on purpose.",
)
@config_option
@index_dir_option
@friendly_errors
def chat_command(host: str, port: int, no_login: bool, config: Path | None, index_dir: Path | None) -> None:
    """Open the chat in the browser (a Gradio app).

    Set QA_AUTH=user:password[,user:password...] to require a login; it is required when --host is
    not a loopback address, unless --no-login waives it.
    """
    try:  # the UI sits on top of qa; imported only for this verb
        from ui.access import AUTH_VAR, check_exposure, logins, trusted_proxies
        from ui.app import launch
    except ImportError as exc:
        raise ConfigError(f"the chat needs the ui extra ({exc}); run `pip install -e '.[ui]'`") from exc
    auth = logins(os.environ.get(AUTH_VAR))
    assistant = _assistant(config, index_dir)
    check_exposure(host, auth or assistant.users.list() or None, no_login=no_login)  # or the store's
    trusted_proxies()  # a bad QA_TRUSTED_PROXIES is one line now, not after the models load
    _check_port(host, port)
    if assistant.has_index():
        click.echo("loading the models and the index...", err=True)
    else:
        click.echo(
            f"no index at {assistant.index_dir}: indexing {assistant.settings.seeds_dir} first...", err=True
        )

    def ready(url: str) -> None:
        passages = assistant.documents()
        click.echo(f"reader: {assistant.reader}", err=True)
        click.echo(
            f"indexed: {_count(len(passages), 'document')}, {_count(sum(passages.values()), 'passage')}"
            f" in {assistant.store.where}",
            err=True,
        )
        click.echo(f"chat: {url} (Ctrl-C to stop)", err=True)

    launch(assistant, host=host, port=port, auth=auth, quiet=True, ready=ready)


def _check_port(host: str, port: int) -> None:
    """ConfigError naming --port when `host`:`port` cannot be listened on (another server holds it),
    before anything slow is loaded."""
    import socket

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ConfigError(f"cannot listen on --host {host}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"port {port} on {host} is in use (another qa chat or qa serve?); "
                "stop it or pick another port with --port"
            ) from exc


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@qa.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=1416, show_default=True, type=click.IntRange(1, 65535))
@click.option("--chat", is_flag=True, help="Serve the chat UI at /chat too (one process for both).")
@click.option(
    "--no-login",
    is_flag=True,
    help="Serve a non-loopback --host without API keys (QA_API_KEYS) or chat logins (QA_AUTH) on purpose.",
)
@config_option
@index_dir_option
@friendly_errors
def serve_command(
    host: str, port: int, chat: bool, no_login: bool, config: Path | None, index_dir: Path | None
) -> None:
    """Serve the assistant to other programs: REST (POST /ask, GET /documents, GET /health), an
    OpenAI-compatible chat (/v1/chat/completions, model "qa") and an MCP tool (ask_documents, at /mcp).

    Models load once, before the server listens. Set QA_API_KEYS=key[,key...] to require
    `Authorization: Bearer KEY`, and QA_AUTH for the chat's logins; both are required when --host is
    not a loopback address, unless --no-login waives them.
    """
    try:  # the server sits on top of qa; imported only for this verb
        from ui.access import API_KEYS_VAR, AUTH_VAR, api_keys, check_exposure, logins, trusted_proxies
        from ui.server import create_app, serve
    except ImportError as exc:
        raise ConfigError(
            f"the server needs the serve extra ({exc}); run `pip install -e '.[serve]'`"
        ) from exc
    keys = api_keys(os.environ.get(API_KEYS_VAR))
    auth = logins(os.environ.get(AUTH_VAR)) if chat else None
    assistant = _assistant(config, index_dir)
    users = assistant.users.list()  # `qa users add`: their logins and keys count as credentials
    check_exposure(host, keys or users or None, no_login=no_login, setting=f"{API_KEYS_VAR}=key")
    if chat:
        check_exposure(host, auth or users or None, no_login=no_login)
        if keys and auth is None and not users and not no_login:
            raise ConfigError(
                f"{API_KEYS_VAR} is set but {AUTH_VAR} is not, so the chat at /chat/ would have no login: "
                f"set {AUTH_VAR}=user:password (or pass --no-login to serve the chat open on purpose)"
            )
    trusted = trusted_proxies()
    _check_port(host, port)
    click.echo("loading the models and the index...", err=True)
    open_chat = chat and auth is None and not users and no_login
    app = create_app(assistant, chat=chat, auth=auth, api_keys=keys, host=host, open_chat=open_chat)
    if open_chat:
        click.echo(
            "the chat at /chat/ has no login (--no-login): anyone who can reach it can ask, add and "
            "remove documents",
            err=True,
        )
    click.echo(f"serving on http://{host}:{port} (API docs at /docs)", err=True)
    serve(app, host, port, trusted)


def _register_verbs() -> None:
    """Verbs that live in their own modules (imported here, after the helpers they use exist)."""
    from qa.collections_cli import collections_group, users_group
    from qa.db import db
    from qa.engine_table import engines_command
    from qa.evaluation.cli import eval_command
    from qa.training.cli import train_answerability_command, train_reader_command

    qa.add_command(eval_command, "eval")
    qa.add_command(db, "db")
    qa.add_command(engines_command, "engines")
    qa.add_command(collections_group, "collections")
    qa.add_command(users_group, "users")
    qa.add_command(train_reader_command, "train-reader")
    qa.add_command(train_answerability_command, "train-answerability")


_register_verbs()


def main() -> None:
    qa(prog_name="qa")


if __name__ == "__main__":  # pragma: no cover
    main()
