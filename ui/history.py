"""The conversation as `Assistant.ask` wants it: plain question/answer text, oldest first.

The chat keeps each session's turns (question, Answer or error) in session state; what goes to
`ask(history=...)` is only their text, never the evidence HTML. The `/chat` API takes a history from
scripts, in the messages format (or a Gradio Chatbot value); `clean_history` reduces it to the same.
"""

from __future__ import annotations

from typing import Any

from qa import Answer, BadInputError

Turn = tuple[str, Any]  # (question, Answer | error message)
MAX_ITEMS = 40  # history items read from a script: follow-ups use the last turns only


def plain_history(turns: list[Turn]) -> list[dict]:
    """[{"role", "content"}] for the answered turns (errors are left out)."""
    history: list[dict] = []
    for question, reply in turns:
        if isinstance(reply, Answer):
            history.append({"role": "user", "content": question})
            history.append({"role": "assistant", "content": reply.display_text})
    return history


def _part(content: Any) -> str | None:
    """A string, or a Gradio text part {"type": "text", "text": ...}."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict) and content.get("type") == "text" and isinstance(content.get("text"), str):
        return content["text"]
    return None


def _text(content: Any) -> str | None:
    """A message's text: a string, a text part, or a flat list of them (deeper nesting is ignored)."""
    if isinstance(content, list):
        parts = [_part(part) for part in content]
        return " ".join(p for p in parts if p) or None
    return _part(content)


def clean_history(raw: Any) -> list[dict]:
    """A script's history as plain messages: {"role": "user"|"assistant", "content": str} dicts or
    [question, answer] pairs; evidence messages (with a metadata title) and files are dropped."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise BadInputError("history must be a list of {'role', 'content'} messages, oldest first")
    history: list[dict] = []
    for number, item in enumerate(raw[-MAX_ITEMS:], start=1):
        if isinstance(item, dict):
            metadata = item.get("metadata")
            if item.get("role") not in ("user", "assistant") or (
                isinstance(metadata, dict) and metadata.get("title")
            ):
                continue
            text = _text(item.get("content"))
            if text:
                history.append({"role": item["role"], "content": text})
        elif isinstance(item, list | tuple) and len(item) == 2:
            for role, content in zip(("user", "assistant"), item, strict=True):
                text = _text(content)
                if text:
                    history.append({"role": role, "content": text})
        else:
            raise BadInputError(
                f"history item {number} is a {type(item).__name__}, neither a {{'role', 'content'}} "
                "message nor a [question, answer] pair"
            )
    return history
