"""Follow-up questions: rewrite "When was she detained?" with the entity the conversation is about.

The rewrite replaces the first third-person pronoun of the question with the most recent named
entity of the previous turns (capitalised phrases of the last user question, then of the last answer).
A plural pronoun ("they", "them", "their") only takes a plural antecedent: names joined by "and", or
the last answer when it reads plural ("10 Europeans and four institutions"), never a single name.
When the question has no pronoun it is left alone; when there is a pronoun but no fitting entity, the
last user question is appended so retrieval still sees the context.
"""

from __future__ import annotations

import re

from qa.answer import NO_ANSWER_TEXT

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
_PLURAL_PRONOUNS = {"they", "them", "their"}
_COUNTS = {
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "dozens",
    "hundreds", "thousands", "millions", "several", "many", "some", "both", "all",
}  # fmt: skip
_PLURAL_ANSWER_WORDS = 8  # a longer answer is a sentence, not a name to put in place of "they"
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


def plural(phrase: str) -> bool:
    """Whether `phrase` names several things: "A and B", "10 Europeans", "four institutions",
    "Europeans" (a last word in -s, not -ss/-us/-is)."""
    words = phrase.lower().replace(",", " ").split()
    if not words:
        return False
    if "and" in words[1:-1] or words[0] in _COUNTS or (words[0].isdigit() and words[0] != "1"):
        return True
    last = words[-1].strip("’'.")
    return len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is"))


def _answer_phrase(answer: str) -> str | None:
    """The last answer as a whole, when it is a short plural phrase ("10 Europeans and four institutions")."""
    phrase = answer.strip().rstrip(".")
    if answer.strip() == NO_ANSWER_TEXT or len(phrase.split()) > _PLURAL_ANSWER_WORDS:
        return None
    return phrase if plural(phrase) else None


_PERSONAL = {"he", "she", "him", "his", "her"}
_SHORT_ANSWER = 6  # words: an answer this short names a thing ("the agent") that "it" or "he" can be


def _answered(answer: str) -> list[str]:
    """What the last answer names: its capitalised phrases, else the whole of a short answer."""
    found = entities(answer)
    phrase = answer.strip().rstrip(".")
    if not found and answer.strip() != NO_ANSWER_TEXT and 0 < len(phrase.split()) <= _SHORT_ANSWER:
        found = [phrase]
    return found


_WHO = re.compile(r"^\s*who(?:m)?(?:'s|\s+is|\s+was|\s+are|\s+were)?\s+(.*?)[\s?.!]*$", re.IGNORECASE)


def _asks_for_person(question: str) -> bool:
    """A "who ..." question whose answer is the person ("Who is Russia's foreign minister?"), not one
    about a person it names ("Who is Meng Wanzhou?", where "she" is still Meng Wanzhou)."""
    match = _WHO.match(question)
    return match is not None and match.group(1).strip() not in entities(question)


def _antecedents(
    users: list[str], answers: list[str], *, plural_pronoun: bool, personal: bool = False
) -> list[str]:
    """Candidate antecedents, most likely first: entities of the last question, then of the last
    answer; after a "who ..." question a personal pronoun ("she", "his") means the person answered,
    so the answer comes first. For a plural pronoun only plural ones, the whole last answer before
    its own entities."""
    asked = entities(users[-1]) if users else []
    if not plural_pronoun:
        answered = _answered(answers[-1]) if answers else []
        return answered + asked if personal and answered and _asks_for_person(users[-1]) else asked + answered
    answered = []
    if answers:
        whole = _answer_phrase(answers[-1])
        answered = ([whole] if whole else []) + entities(answers[-1])
    return [phrase for phrase in asked + answered if plural(phrase)]


def _possessive(entity: str) -> str:
    if entity.endswith(("'s", "’s")):
        return entity
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
    word = match.group(1).lower()
    candidates = _antecedents(
        users, answers, plural_pronoun=word in _PLURAL_PRONOUNS, personal=word in _PERSONAL
    )
    if not candidates:
        return f"{question} ({users[-1]})" if users else question
    entity = candidates[0]
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
