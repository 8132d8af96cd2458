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


_DETERMINERS = {"the", "a", "an", "my", "our", "your", "this", "that", "their", "his", "her"}
_PHRASE_ENDS = {
    "get", "gets", "called", "cost", "costs", "take", "takes", "end", "ends", "start", "starts", "mean",
    "means", "run", "runs", "open", "opens", "close", "closes", "need", "needs", "have", "has", "be",
    "is", "are", "was", "were", "do", "does", "did", "go", "goes", "come", "comes", "say", "says",
}  # fmt: skip
_PREPOSITIONS = {"for", "in", "on", "at", "of", "with", "from", "to", "by", "about", "during"}
_ASKING = {
    "who", "whom", "whose", "what", "what's", "when", "where", "which", "why", "how", "is", "are", "was",
    "were", "do", "does", "did", "can", "could", "will", "would", "should", "has", "have", "had",
}  # fmt: skip
_COUNTING = re.compile(r"^(how (?:much|many)|which|what) (\w+)\b", re.IGNORECASE)
_FRAGMENT_OPENERS = re.compile(r"^\s*(?:and|what about|how about|but)\b[\s,]*", re.IGNORECASE)


def subject_phrase(question: str) -> str | None:
    """The thing a question typed without capitals is about: the first phrase opening with "the",
    "a", "my" ... up to a verb or the end ("how long is the tenancy" -> "the tenancy")."""
    words = question.strip().rstrip("?.!").split()
    for i, word in enumerate(words):
        if word.lower() in _DETERMINERS and i + 1 < len(words):
            phrase = [word]
            for nxt in words[i + 1 : i + 7]:
                if nxt.lower() in _PHRASE_ENDS or (nxt.lower() in _PREPOSITIONS and nxt.lower() != "of"):
                    break
                phrase.append(nxt)
            return " ".join(phrase) if len(phrase) > 1 else None
    return None


_WH_FRAGMENT = re.compile(
    r"^(?:(?:by|for|until|till|since|from|at|in|on|to)\s+)?(?:when|where|who|whom|why|what time|which one|"
    r"how (?:long|much|many|often|far|old|soon))$",
    re.IGNORECASE,
)
_WH_OPENING = re.compile(
    r"^\s*(?:who|whom|whose|what|when|where|which|why|how)(?:['’]s|['’]re)?\b"
    r"(?:\s+(?:much|many|long|often|far|old|soon|hot|big|large|tall|heavy|high|\w+(?=\s+(?:do|does|did|is|"
    r"are|was|were|will|would|can|could|should|has|have|had)\b)))?\s*",
    re.IGNORECASE,
)
_NAME_NUMBER = re.compile(r"\b[A-Za-z][\w.+-]* \d[\w.]*\b")  # "iOS 14", "android 8", "windows 10"


def _asked_again(wh: str, previous: str) -> str:
    """The previous question asking `wh` instead ("by when?" after "who's ordering the lights" ->
    "by when ordering the lights?"): its own question words go, so the reader looks for a time."""
    opening = _WH_OPENING.match(previous)
    body = previous[opening.end() :] if opening else previous
    return f"{wh} {body}?" if body else f"{wh}?"


def _fragment(question: str, previous: str) -> str | None:
    """An elliptical follow-up ("and for students?", "and sugar?", "what about subsidence", "by
    when?") as the previous question asked of the new thing; None when the question stands on its
    own (it asks something: "and when does it end?" is read as "when does it end?")."""
    opener = _FRAGMENT_OPENERS.match(question)
    rest = question[opener.end() :] if opener else question
    rest = rest.strip().rstrip("?.!").strip()
    words = rest.split()
    if not words or len(words) > 7 or not any(ch.isalnum() for ch in rest):
        return None
    first = words[0].lower()
    before = previous.strip().rstrip("?.!")
    if _WH_FRAGMENT.match(rest):  # "by when?", "and for how long?", "and where?"
        return _asked_again(rest, before)
    if opener is None:  # only "by when?", "for students?", "the cfo?" stand for the previous question
        if len(words) > 2 or (first not in _PREPOSITIONS and first not in _DETERMINERS):
            return None
    elif first in _ASKING:
        return None
    named = rest.split(maxsplit=1)[1] if first in _PREPOSITIONS and len(words) > 1 else rest
    similar = list(_NAME_NUMBER.finditer(before)) if _NAME_NUMBER.fullmatch(named) else []
    if similar:  # "and for iOS 14?" after "last version that runs on android 8"
        last = similar[-1]
        return f"{before[: last.start()]}{named}{before[last.end() :]}?"
    if first in _PREPOSITIONS:  # "and for students?" after "how much is a day pass for adults"
        cut = before.lower().rfind(f" {first} ")
        if cut != -1:
            return f"{before[:cut]} {rest}?"
        return f"{before} {rest}?"  # "and for emergencies?" after "what's the claims number"
    phrase = subject_phrase(before)
    if first in _DETERMINERS and phrase:  # "and the monthly one?" after "... the one-time allowance"
        return f"{before.replace(phrase, rest, 1)}?"
    if first in _DETERMINERS and len(words) == 2:  # "and the cfo?" after "who is brightline's ceo"
        kept = before.rsplit(maxsplit=1)
        if len(kept) == 2:
            return f"{kept[0]} {words[1]}?"
    counted = _COUNTING.match(before)
    if len(words) == 1 and counted and counted.group(2).lower() not in _ASKING | _PHRASE_ENDS:
        # "and sugar?" after "how much butter goes in the cake"
        return f"{before[: counted.start(2)]}{rest}{before[counted.end(2) :]}?"
    if opener is not None and opener.group(0).strip().lower() in ("what about", "how about"):
        return f"{before} for {rest}?"  # "what about subsidence" after "what's the standard excess"
    return f"{before} ({rest})?"


_WHO = re.compile(r"^\s*who(?:m)?(?:'s|\s+is|\s+was|\s+are|\s+were)?\s+(.*?)[\s?.!]*$", re.IGNORECASE)


def _asks_for_place_or_time(users: list[str]) -> bool:
    return bool(users) and users[-1].strip().lower().startswith(("where", "when", "what time", "how long"))


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
        if personal and answers and _asks_for_person(users[-1]):
            return _answered(answers[-1]) + asked
        # "she" after "where was ines carvalho born" is not the place answered
        named = entities(answers[-1]) if answers and not (personal and _asks_for_place_or_time(users)) else []
        # "it" after a question typed without capitals: the thing that question was about
        thing = [] if personal or asked else [p for p in [subject_phrase(users[-1])] if p]
        return asked + thing + named
    answered = []
    if answers:
        whole = _answer_phrase(answers[-1])
        answered = ([whole] if whole else []) + entities(answers[-1])
    found = [phrase for phrase in asked + answered if plural(phrase)]
    if not found and answers and _asks_for_person(users[-1]):
        return entities(answers[-1])  # "their" after "who makes tidewater": the company answered
    return found


def _possessive(entity: str) -> str:
    if entity.endswith(("'s", "’s")):
        return entity
    return entity + ("’" if entity.endswith("s") else "’s")


def rewrite(question: str, history: list[dict] | None) -> str:
    """The question made self-contained using `history` ([{"role", "content"}], oldest first)."""
    if not history:
        return question
    users = [m["content"] for m in history if m.get("role") == "user" and m.get("content")]
    if not users:  # a conversation of greetings only: nothing was asked to refer back to
        return question
    fragment = _fragment(question, users[-1])
    if fragment is not None:
        return fragment
    opener = _FRAGMENT_OPENERS.match(question)
    if opener and any(ch.isalnum() for ch in question[opener.end() :]):
        question = question[opener.end() :]  # "and when does it end?" asks "when does it end?"
    match = _PRONOUN_RE.search(question)
    if match is None:
        return question
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
