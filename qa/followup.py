"""Follow-up questions: rewrite "When was she detained?" with the entity the conversation is about.

The rewrite replaces the first third-person pronoun of the question with the most recent named
entity of the previous turns (capitalised phrases of the last user question, then of the last answer).
When the question has no pronoun it is left alone; when there is a pronoun but no entity, the last user
question is appended so retrieval still sees the context.
"""

from __future__ import annotations

import re

_PRONOUNS = {
    "he": "subject", "she": "subject", "they": "subject", "it": "subject",
    "him": "object", "them": "object",
    "his": "possessive", "their": "possessive", "its": "possessive",
    "her": "ambiguous",
}  # fmt: skip
_PRONOUN_RE = re.compile(r"\b(" + "|".join(_PRONOUNS) + r")\b", re.IGNORECASE)
_ENTITY = re.compile(r"(?:[A-Z][\w’'-]*\.?(?:\s+(?:of|the|and|de|van|von)\s+|\s+)?)+")
_NOT_ENTITIES = {
    "who", "what", "when", "where", "why", "how", "which", "whom", "whose", "is", "was", "did", "does",
    "do", "are", "were", "the", "a", "an", "in", "on", "and", "according", "tell", "me", "also",
}  # fmt: skip
_AFTER_HER_OBJECT = {"to", "in", "on", "for", "from", "with", "at", "by", "?", "", "and", "as", "be"}


def entities(text: str) -> list[str]:
    """Capitalised phrases in `text`, without a leading question word."""
    found = []
    for m in _ENTITY.finditer(text):
        words = m.group(0).strip().rstrip(".").split()
        while words and words[0].lower() in _NOT_ENTITIES:
            words = words[1:]
        while words and words[-1].lower() in {"of", "the", "and", "de", "van", "von"}:
            words = words[:-1]
        if words:
            found.append(" ".join(words))
    return found


def _possessive(entity: str) -> str:
    return entity + ("’" if entity.endswith("s") else "’s")


def rewrite(question: str, history: list[dict] | None) -> str:
    """The question made self-contained using `history` ([{"role", "content"}], oldest first)."""
    if not history:
        return question
    match = _PRONOUN_RE.search(question)
    if match is None:
        return question
    users = [m["content"] for m in history if m.get("role") == "user" and m.get("content")]
    answers = [m["content"] for m in history if m.get("role") == "assistant" and m.get("content")]
    candidates = []
    if users:
        candidates += entities(users[-1])
    if answers:
        candidates += entities(answers[-1])
    if not candidates:
        return f"{question} ({users[-1]})" if users else question
    entity = candidates[0]
    word = match.group(1).lower()
    role = _PRONOUNS[word]
    if role == "ambiguous":
        rest = question[match.end() :].strip()
        nxt = rest.split(maxsplit=1)[0].strip("?.!,").lower() if rest else ""
        role = "object" if nxt in _AFTER_HER_OBJECT or nxt.endswith("ed") else "possessive"
    replacement = _possessive(entity) if role == "possessive" else entity
    return question[: match.start()] + replacement + question[match.end() :]


def with_context(question: str, history: list[dict] | None) -> str:
    """The question followed by the previous user question (retrieval sees both)."""
    users = [m["content"] for m in history or [] if m.get("role") == "user" and m.get("content")]
    return f"{question} {users[-1]}" if users else question


def resolve_followup(question: str, history: list[dict] | None, mode: str) -> str:
    """The query to answer for `question` in a conversation, by the configured follow-up mode."""
    if mode == "rewrite":
        return rewrite(question, history)
    if mode == "context":
        return with_context(question, history)
    return question
