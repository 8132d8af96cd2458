"""`qa collections list|create|delete|share|unshare` and `qa users add|list|remove|key`.

The command line is the machine's operator (`Caller.LOCAL`): it sees and changes every collection
and every user. Bad input is one line and a non-zero exit, and changes nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from qa.errors import BadInputError, friendly_errors

# its own options, as qa/evaluation/cli.py has: importing qa.cli here would import it a second time
# under `python -m qa.cli` (as __main__ and as qa.cli), registering these verbs half made
config_option = click.option(
    "--config", "config", type=click.Path(dir_okay=False, path_type=Path), envvar="QA_CONFIG",
    help="YAML settings (default: $QA_CONFIG, then config/default.yaml).",
)  # fmt: skip
index_dir_option = click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path),
    help="Index folder (default from config).",
)  # fmt: skip


def _assistant(config: Path | None, index_dir: Path | None) -> Any:
    from qa.assistant import Assistant

    return Assistant.from_config(config, index_dir=index_dir)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@click.group("collections")
def collections_group() -> None:
    """Named sets of documents, each private to its owner or shared (qa collections --help)."""


@collections_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@config_option
@index_dir_option
@friendly_errors
def list_command(as_json: bool, config: Path | None, index_dir: Path | None) -> None:
    """List the collections with their owner, who they are shared with and their documents."""
    found = _assistant(config, index_dir).collections()
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in found], ensure_ascii=False))
        return
    for c in found:
        owner = c.owner or "(operator)"
        shared = ""
        if c.shared_with:
            shared = f", shared {'read-write' if c.access == 'write' else 'read-only'} with " + ", ".join(
                c.shared_with
            )
        click.echo(f"{c.name}  owner {owner}{shared or ', private'}; {_count(c.documents, 'document')}")


@collections_group.command("create")
@click.argument("name")
@click.option("--owner", metavar="USER", help="The user who owns it (default: the operator).")
@config_option
@index_dir_option
@friendly_errors
def create_command(name: str, owner: str | None, config: Path | None, index_dir: Path | None) -> None:
    """Create the empty collection NAME, private to its owner until shared."""
    made = _assistant(config, index_dir).create_collection(name, owner=owner)
    click.echo(
        f"created collection {made.name!r}, owned by {made.owner or 'the operator'} and private; "
        f"add documents with `qa index --collection {made.name} PATHS`"
    )


@collections_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Delete without asking.")
@config_option
@index_dir_option
@friendly_errors
def delete_command(name: str, yes: bool, config: Path | None, index_dir: Path | None) -> None:
    """Delete the collection NAME and all its documents, for good."""
    assistant = _assistant(config, index_dir)
    found = next((c for c in assistant.collections() if c.name == name), None)
    if found is None or name == assistant.DEFAULT_COLLECTION:
        assistant.delete_collection(name)  # refused: the one line that says why, before asking
    documents = found.documents if found else 0
    question = f"delete collection {name!r} and its {_count(documents, 'document')} for good?"
    try:
        sure = yes or click.confirm(question, default=False)
    except click.Abort:  # no answer (end of input)
        sure = False
    if not sure:
        click.echo("\nnothing deleted; pass --yes to delete without being asked", err=True)
        sys.exit(1)
    assistant.delete_collection(name)
    click.echo(f"deleted collection {name!r} ({_count(documents, 'document')})")


def _shared_line(made: Any) -> str:
    if not made.shared_with:
        return f"collection {made.name!r} is private to {made.owner or 'the operator'}"
    how = "read-write" if made.access == "write" else "read-only"
    return f"collection {made.name!r} is shared {how} with {', '.join(made.shared_with)}"


@collections_group.command("share")
@click.argument("name")
@click.option("--with", "with_", required=True, metavar="USER|everyone", help="Who may read it.")
@click.option("--write", is_flag=True, help="May change it too (add and remove documents).")
@config_option
@index_dir_option
@friendly_errors
def share_command(name: str, with_: str, write: bool, config: Path | None, index_dir: Path | None) -> None:
    """Share the collection NAME with a user or with everyone, read-only (or read-write with --write)."""
    made = _assistant(config, index_dir).share_collection(name, with_, write=write)
    click.echo(_shared_line(made))


@collections_group.command("unshare")
@click.argument("name")
@click.option("--with", "with_", required=True, metavar="USER|everyone", help="Who may no longer read it.")
@config_option
@index_dir_option
@friendly_errors
def unshare_command(name: str, with_: str, config: Path | None, index_dir: Path | None) -> None:
    """Stop sharing the collection NAME with a user or with everyone."""
    made = _assistant(config, index_dir).unshare_collection(name, with_)
    click.echo(_shared_line(made))


@click.group("users")
def users_group() -> None:
    """The people who log in to the chat and the server, and their API keys."""


def _read_password() -> str:
    """Asked twice with hidden input on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return str(click.prompt("password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise BadInputError(
            "no password on stdin; pipe one line, e.g. `printf '%s\\n' \"$PW\" | qa users add NAME`"
        )
    return line


@users_group.command("add")
@click.argument("name")
@config_option
@index_dir_option
@friendly_errors
def users_add_command(name: str, config: Path | None, index_dir: Path | None) -> None:
    """Add the user NAME (the password is asked twice, or read from stdin when it is not a terminal)."""
    assistant = _assistant(config, index_dir)
    from qa.rights import check_user_name

    check_user_name(name)  # before asking for a password
    assistant.users.add(name, _read_password())
    click.echo(f"added user {name!r}; give them an API key with `qa users key {name}`")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@config_option
@index_dir_option
@friendly_errors
def users_list_command(as_json: bool, config: Path | None, index_dir: Path | None) -> None:
    """List the users."""
    names = _assistant(config, index_dir).users.list()
    if as_json:
        click.echo(json.dumps(names))
    elif names:
        click.echo("\n".join(names))
    else:
        click.echo("no users; add one with `qa users add NAME`", err=True)


@users_group.command("remove")
@click.argument("name")
@config_option
@index_dir_option
@friendly_errors
def users_remove_command(name: str, config: Path | None, index_dir: Path | None) -> None:
    """Remove the user NAME and their API keys (the collections they own stay, owned by the operator)."""
    _assistant(config, index_dir).users.remove(name)
    click.echo(f"removed user {name!r} and their keys")


@users_group.command("key")
@click.argument("name")
@config_option
@index_dir_option
@friendly_errors
def users_key_command(name: str, config: Path | None, index_dir: Path | None) -> None:
    """Make a new API key for the user NAME and print it (once: only its hash is kept)."""
    key = _assistant(config, index_dir).users.new_key(name)
    click.echo(f"a new API key for {name} (shown once; send it as `Authorization: Bearer KEY`):", err=True)
    click.echo(key)


__all__ = ["collections_group", "users_group"]
