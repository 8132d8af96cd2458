"""Whether to answer or abstain: a calibrated probability that the best span is right.

A span reader's own null score separates answerable from unanswerable questions only in part, so the
decision is a logistic model over the reader's signals (span score, its margin over "no answer", its
sentence's rank) and the retrieval evidence (how close the best passages are to the question). Its
weights live beside a trained reader as `answerability.json` with the names of the signals they weigh,
fitted on held-out articles only (`qa train-reader --calibrate`). Without that file the span score is
the probability.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from index.keyword import tokenize
from qa.errors import ConfigError

FILE = "answerability.json"
READER_SIGNALS = ("sentence_score", "null_margin", "classifier")  # what the reader puts in an answer's meta
FEATURES = ("span_score", "dense_score", "top_dense_score", "bm25_score", "overlap", *READER_SIGNALS)
UNNAMED = FEATURES[:5]  # what a file without "features" (written before they were named) weighs


def signals(
    span_score: float,
    meta: dict,
    question: str,
    passage: str,
    reader: dict | None = None,
) -> dict[str, float]:
    """What the decision weighs, by name (see FEATURES). `reader` holds the answer's own signals
    (READER_SIGNALS, 0 when absent): `sentence_score`, the rank of the sentence the answer came from
    when the reader picks sentences; `null_margin`, how far the span's logit is above the reader's
    no-answer logit on that sentence (SQuAD 2.0's null-score difference); `classifier`, the
    answerability classifier's logit for (question, that sentence)."""
    q = set(tokenize(question))
    overlap = len(q & set(tokenize(passage))) / len(q) if q else 0.0
    return {
        "span_score": span_score,
        "dense_score": float(meta.get("dense_score", 0.0)),
        "top_dense_score": float(meta.get("top_dense_score", 0.0)),
        "bm25_score": math.log1p(float(meta.get("bm25_score", 0.0))),
        "overlap": overlap,
        **{name: float((reader or {}).get(name, 0.0)) for name in READER_SIGNALS},
    }


@dataclass(frozen=True)
class Calibrator:
    weights: tuple[float, ...] | None = None
    bias: float = 0.0
    threshold: float = 0.5
    features: tuple[str, ...] = FEATURES

    def probability(self, values: dict[str, float]) -> float:
        if self.weights is None:
            return min(1.0, max(0.0, values["span_score"]))
        z = self.bias + sum(w * values[n] for w, n in zip(self.weights, self.features, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def load(cls, model_dir: str | Path | None, default_threshold: float = 0.5) -> Calibrator:
        path = Path(model_dir) / FILE if model_dir else None
        if path is None or not path.is_file():
            return cls(threshold=default_threshold)
        data = json.loads(path.read_text(encoding="utf-8"))
        names = tuple(data.get("features", UNNAMED))
        unknown = sorted(set(names) - set(FEATURES))
        if unknown:
            raise ConfigError(
                f"{path}: unknown signals {unknown}; recalibrate with `qa train-reader --calibrate`"
            )
        return cls(tuple(data["weights"]), float(data["bias"]), float(data["threshold"]), names)

    def save(self, model_dir: str | Path, extra: dict | None = None) -> None:
        data = {
            "features": list(self.features),
            "weights": list(self.weights or ()),
            "bias": self.bias,
            "threshold": self.threshold,
            **(extra or {}),
        }
        (Path(model_dir) / FILE).write_text(json.dumps(data, indent=2), encoding="utf-8")
