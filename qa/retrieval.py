"""Hybrid retrieval: BM25 and dense (FAISS) candidates fused by reciprocal rank fusion."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from haystack import Document, component, default_from_dict, default_to_dict

from index.stores import IndexView

RRF_K = 60
DEFAULT = "default"  # the collection of a question that names none


@component
class HybridRetriever:
    """Top passages by reciprocal rank fusion of BM25 and dense search over an index view (any store).

    The indexes are runtime state, like document store connections, one per collection: `use(index,
    collection)` swaps one atomically, so a rebuilt index serves the next question without rebuilding
    the pipeline, and each question names its collection as a run input, so questions to different
    collections run at once on one set of models without sharing state. Each returned passage
    carries `dense_score` (cosine) and `bm25_score` in its meta for the answerability decision.
    """

    def __init__(self, *, top_k: int = 5, candidates: int = 20) -> None:
        self.top_k = top_k
        self.candidates = candidates
        self.indexes: dict[str, IndexView] = {}

    @property
    def index(self) -> IndexView | None:
        """The default collection's index."""
        return self.indexes.get(DEFAULT)

    def use(self, index: IndexView, collection: str = DEFAULT) -> None:
        self.indexes[collection] = index  # one dict assignment: atomic for the questions running

    def forget(self, collection: str) -> None:
        self.indexes.pop(collection, None)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, top_k=self.top_k, candidates=self.candidates)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridRetriever:
        return default_from_dict(cls, data)

    @component.output_types(documents=list[Document], retrieve_ms=float)
    def run(
        self, query: str, query_embedding: list[float], top_k: int | None = None, collection: str = DEFAULT
    ) -> dict[str, Any]:
        started = time.perf_counter()
        index = self.indexes.get(collection)  # a collection with no index yet finds nothing
        if index is None or not index.sources:
            return {"documents": [], "retrieve_ms": 0.0}
        k = top_k or self.top_k
        n = max(self.candidates, k)
        dense = index.dense_search([float(x) for x in query_embedding], n)  # a numpy vector from the embedder
        keyword = index.keyword_search(query, n)
        fused: dict[str, float] = {}
        cosine = dict(dense)
        bm25 = dict(keyword)
        for rank, (doc_id, _) in enumerate(dense):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, (doc_id, _) in enumerate(keyword):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        top_cos = max(cosine.values(), default=0.0)
        top_bm25 = max(bm25.values(), default=0.0)
        documents = []
        found = index.passages(best)  # a passage another server removed since the search is left out
        for doc_id in (i for i in best if i in found):
            doc = found[doc_id]
            meta = {
                **doc.meta,
                "dense_score": cosine.get(doc_id, 0.0),
                "bm25_score": bm25.get(doc_id, 0.0),
                "top_dense_score": top_cos,
                "top_bm25_score": top_bm25,
            }
            # RRF of a passage ranked first by both retrievers is 2/(K+1): rescale to [0, 1].
            documents.append(replace(doc, score=fused[doc_id] * (RRF_K + 1) / 2, meta=meta, embedding=None))
        return {"documents": documents, "retrieve_ms": (time.perf_counter() - started) * 1000}
