"""A BM25 keyword index over passages, kept beside the FAISS vectors (FAISS has no BM25).

The scores live in a sparse matrix (bm25s): each word's column holds its BM25 term score in every
passage that has it, so a search adds up the columns of the question's words instead of visiting
every passage: at 100,000 passages a question takes 0.2 ms instead of 195 ms (p50, docs/scaling.md).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np

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


def score_matrix(
    words: np.ndarray, lengths: np.ndarray, columns: int, k1: float, b: float
) -> dict[str, np.ndarray]:
    """bm25s's matrix ("lucene": idf log(1 + (n - df + 0.5) / (df + 0.5)) times tf / (tf + norm)) in
    compressed sparse columns, one column per word, built with numpy in one pass instead of bm25s's
    loop over every passage. `words` are every passage's word numbers one after the other,
    `lengths` how many each passage has."""
    n = len(lengths)
    passages = np.repeat(np.arange(n, dtype=np.int64), lengths)
    pairs, tf = np.unique(words.astype(np.int64) * max(n, 1) + passages, return_counts=True)
    terms, rows = np.divmod(pairs, max(n, 1))  # sorted by word, then passage: the CSC order
    df = np.bincount(terms, minlength=columns)
    idf = np.log1p((n - df + 0.5) / (df + 0.5))
    norm = k1 * (1 - b + b * lengths[rows] / (lengths.mean() if lengths.any() else 1.0))
    return {
        "data": (idf[terms] * tf / (tf + norm)).astype(np.float32),
        "indices": rows.astype(np.int32),
        "indptr": np.concatenate([[0], np.cumsum(df)]).astype(np.int32),
    }


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


def word_overlap(terms: set[str], text: str) -> float:
    """The share of a question's words (`terms`, from `tokenize`) that `text` holds."""
    return len(terms & set(tokenize(text))) / len(terms) if terms else 0.0


class KeywordIndex:
    """Okapi BM25 (k1=1.5, b=0.75, Lucene's idf) over a fixed list of passage ids.

    `arrays` is the word-by-passage score matrix in compressed sparse columns (data, indices,
    indptr); `vocab` numbers the words. Both come from `build()` or from a saved index, where the
    arrays may be memory-mapped files.
    """

    def __init__(
        self,
        ids: list[str],
        vocab: list[str],
        arrays: dict[str, np.ndarray],
        k1: float = 1.5,
        b: float = 0.75,
    ) -> None:
        import bm25s

        if len(arrays["indptr"]) != len(vocab) + 1:
            raise ValueError(f"keyword index: {len(vocab)} words but {len(arrays['indptr']) - 1} columns")
        self.ids, self.vocab, self.arrays = ids, vocab, arrays
        self.k1, self.b = k1, b
        self._column = {w: i for i, w in enumerate(vocab)}
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        self._bm25.scores = {**arrays, "num_docs": len(ids)}
        self._bm25.vocab_dict = self._column
        self._bm25.nonoccurrence_array = None

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> KeywordIndex:
        return cls.from_tokens(ids, [tokenize(t) for t in texts])

    @classmethod
    def from_tokens(
        cls, ids: list[str], tokens: list[list[str]], k1: float = 1.5, b: float = 0.75
    ) -> KeywordIndex:
        vocab = list(dict.fromkeys(itertools.chain.from_iterable(tokens)))
        column = {w: i for i, w in enumerate(vocab)}
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        words = np.fromiter(
            map(column.__getitem__, itertools.chain.from_iterable(tokens)), np.int64, int(lengths.sum())
        )
        arrays = score_matrix(words, lengths, len(column), k1, b)
        return cls(ids, vocab, arrays, k1, b)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What a store saves: the settings and words (JSON) and the score matrix (arrays)."""
        return {"k1": self.k1, "b": self.b, "vocab": self.vocab}, self.arrays

    @classmethod
    def from_state(
        cls, ids: list[str], settings: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> KeywordIndex:
        return cls(ids, list(settings["vocab"]), arrays, float(settings["k1"]), float(settings["b"]))

    @classmethod
    def from_dict(cls, data: dict) -> KeywordIndex:
        """An index saved in format 1 (every passage's words, as JSON)."""
        return cls.from_tokens(data["ids"], data["tokens"], data["k1"], data["b"])

    def search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        """(passage id, BM25 score) of the best `top_k` passages with a positive score; equal
        scores in passage order."""
        terms = [self._column[w] for w in tokenize(query) if w in self._column]
        if not terms or not self.ids or top_k <= 0:
            return []
        # bm25s scores a term tf / (tf + norm), the classic formula tf * (k1 + 1) / (tf + norm):
        # the factor is put back on the few returned, not on every passage's score
        scores = self._bm25.get_scores_from_ids(terms)
        rows = np.flatnonzero(scores > 0)
        if len(rows) > top_k:
            kth = np.partition(scores[rows], len(rows) - top_k)[len(rows) - top_k]
            rows = rows[scores[rows] >= kth]
        rows = rows[np.lexsort((rows, -scores[rows]))][:top_k]
        return [(self.ids[r], float(scores[r]) * (self.k1 + 1)) for r in rows]
