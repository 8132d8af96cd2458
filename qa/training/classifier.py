"""Training the answerability classifier: does this sentence answer this question?

A span reader's no-answer score separates SQuAD 2.0's adversarial unanswerable questions poorly
(AUC 0.66 for the 30k reader, docs/reader.md): they are written to match a sentence of the text
closely while asking something it does not say. A cross-encoder that reads the question and the
sentence the answer came from, trained on nothing but that yes/no, is the dedicated signal
(`classifier` in `qa.answerability.FEATURES`); the calibrator weighs it with the others.

Pairs come from SQuAD-format questions as the offline reader reads them (`sentence_examples`): an
answerable question with the sentence holding its answer (yes) and with the sentence sharing most
words with it that does not (no); an unanswerable one with its closest sentences (no), real ones
from SQuAD 2.0 and ones made by swapping a name or number (`swapped_questions`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from qa.training.squad import SquadQuestion
from qa.training.train import TrainSettings, optimise, sentence_examples, start_model

logger = logging.getLogger(__name__)


def pair_examples(questions: Sequence[SquadQuestion], *, negatives: int = 1) -> list[SquadQuestion]:
    """(question, sentence) pairs as SquadQuestions: answerable ones hold the answer, the others are
    the closest sentences that do not. An unanswerable question gets `negatives` + 1 sentences,
    so real unanswerable questions weigh as much as the answerable ones' two examples."""
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    return sentence_examples(answerable, negatives=negatives) + sentence_examples(
        unanswerable, negatives=negatives + 1
    )


def train_classifier(
    pairs: Sequence[SquadQuestion],
    out_dir: str | Path,
    *,
    base_model: str | None = None,
    settings: TrainSettings | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
) -> dict:
    """Fine-tune `base_model` (default: the bundled all-MiniLM-L6-v2; a trained reader's folder
    starts from what it learnt about answers) as a one-logit classifier and save it to `out_dir`."""
    import torch
    from transformers import AutoModelForSequenceClassification

    settings = settings or TrainSettings()
    tokenizer, model, base = start_model(
        AutoModelForSequenceClassification, base_model, settings, num_labels=1
    )
    enc = tokenizer(
        [q.question.strip() for q in pairs], [q.context for q in pairs],
        truncation="only_second", max_length=settings.max_length,
    )  # fmt: skip
    features = [
        {"input_ids": ids, "attention_mask": mask, "label": float(q.answerable)}
        for ids, mask, q in zip(enc["input_ids"], enc["attention_mask"], pairs, strict=True)
    ]
    bce = torch.nn.BCEWithLogitsLoss()

    def loss_of(model, inputs: dict):
        labels = inputs.pop("labels")
        return bce(model(**inputs).logits.squeeze(-1), labels)

    def collate(batch: list[dict]) -> dict:
        # No token_type_ids, as the reader: inference feeds input_ids and attention_mask only.
        inputs = tokenizer.pad(
            [{k: f[k] for k in ("input_ids", "attention_mask")} for f in batch], return_tensors="pt"
        )
        inputs["labels"] = torch.tensor([f["label"] for f in batch])
        return inputs

    run = optimise(model, features, collate, settings, on_step, loss_of)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    positives = sum(q.answerable for q in pairs)
    summary = {"base_model": base, "pairs": len(pairs), "answering_pairs": positives, **run}
    logger.info("trained answerability classifier in %.0f s: %s", run["train_seconds"], summary)
    return summary
