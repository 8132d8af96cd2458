"""A small BM25 keyword index over passages, kept beside the FAISS vectors (FAISS has no BM25)."""

from __future__ import annotations

import math
import re
from collections import Counter

_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "she",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lower-cased words without stop words, with a light plural/possessive strip."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


class KeywordIndex:
    """Okapi BM25 (k1=1.5, b=0.75) over a fixed list of passage ids."""

    def __init__(self, ids: list[str], tokens: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.ids = ids
        self.tokens = tokens
        self.k1, self.b = k1, b
        self._tf = [Counter(t) for t in tokens]
        self._len = [len(t) for t in tokens]
        self._avg = (sum(self._len) / len(self._len)) if self._len else 0.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(tokens)
        self._idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> KeywordIndex:
        return cls(ids, [tokenize(t) for t in texts])

    def to_dict(self) -> dict:
        return {"ids": self.ids, "tokens": self.tokens, "k1": self.k1, "b": self.b}

    @classmethod
    def from_dict(cls, data: dict) -> KeywordIndex:
        return cls(data["ids"], data["tokens"], data["k1"], data["b"])

    def search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        """(passage id, BM25 score) of the best `top_k` passages with a positive score."""
        terms = [w for w in tokenize(query) if w in self._idf]
        scores = []
        for i, tf in enumerate(self._tf):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * self._len[i] / (self._avg or 1))
            for w in terms:
                f = tf.get(w)
                if f:
                    s += self._idf[w] * f * (self.k1 + 1) / (f + norm)
            if s > 0:
                scores.append((self.ids[i], s))
        scores.sort(key=lambda x: -x[1])
        return scores[:top_k]
