"""Questions as people type them: typos and keyword-style questions, put the way the reader reads.

- `correct_spelling`: a word of the question that is neither an English word (a whole word in the
  reader's vocabulary) nor in the passages retrieved, and that is one deletion away from a passage
  word on either side ("repiars" -> "repairs", "wehn" -> "when", "deductable" -> "deductible"), is
  replaced by that word: the reader and the sentence picker then see the document's spelling.
- `as_question`: "school office phone number" is asked as "what is school office phone number?",
  the form the reader was trained on (SQuAD's questions).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_OPENERS = frozenset(
    ("who", "whom", "whose", "what", "when", "where", "which", "why", "how", "is", "are", "was", "were",
     "do", "does", "did", "can", "could", "will", "would", "should", "shall", "may", "might", "must",
     "has", "have", "had", "am", "tell", "list", "name", "give", "explain", "describe")
)  # fmt: skip


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))} | {word}


def correct_spelling(question: str, texts: Iterable[str], known: frozenset[str] | set[str]) -> str:
    """`question` with its misspelt words replaced by the passages' nearest word (see the module)."""
    counts = Counter(w.lower() for text in texts for w in _WORD.findall(text))
    index: dict[str, list[str]] = {}
    for word in counts:
        if len(word) >= 3:
            for form in _deletes(word):
                index.setdefault(form, []).append(word)

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        if len(low) < 4 or low in counts or low in known:
            return word
        if word[0].isupper() and match.start() > 0:
            return word  # a name ("Carla") is asked as written, never "corrected" to another one
        near = {w for form in _deletes(low) for w in index.get(form, ()) if abs(len(w) - len(low)) <= 1}
        if not near:
            return word
        # one sharing the first letter, then the most frequent in the passages
        best = max(sorted(near), key=lambda w: (w[0] == low[0], counts[w]))
        return best.capitalize() if word[0].isupper() else best

    return _WORD.sub(fix, question)


def as_question(question: str) -> str:
    """A keyword-style question ("grant number") as one the reader knows ("what is grant number?");
    one with a question word in its first three words ("in which year ...", "whats the fee") is left
    as it is, and so is one with no word at all."""
    if not any(ch.isalnum() for ch in question):
        return question
    for word in (w.lower().strip("?.!,'’") for w in question.split()[:3]):
        stem = next((word[: -len(end)] for end in _CONTRACTIONS if word.endswith(end)), word)
        if word in _OPENERS or stem in _OPENERS:
            return question
    return f"what is {question.strip().rstrip('?')}?"


_CONTRACTIONS = ("'s", "’s", "s")  # what's, what’s, whats
