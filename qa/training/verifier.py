"""Train the verifier (qa/verifier.py) on the reader's own candidates.

Two steps, each its own command so that a long one need not run again:

    # 1. ask: synthetic documents of the kinds users keep, indexed a group at a time (several
    #    documents of several kinds, so that other documents' lines compete as in a user's folder),
    #    each question asked through the product; every candidate kept, labelled right (F1 >= 0.5
    #    against the gold answer) or wrong. --squad adds SQuAD 1.1 articles, a dozen paragraphs each.
    python -m qa.training.verifier ask runs/verifier/user.pkl --groups 50 --documents 12 --seed 21
    python -m qa.training.verifier ask runs/verifier/squad.pkl --groups 0 --squad squad11-train.json.gz
    # 2. train: (question, sentence with the span marked) -> right, from the reader's own weights
    python -m qa.training.verifier train runs/verifier/v1 runs/verifier/user.pkl runs/verifier/squad.pkl

Every right candidate is a row, and up to `--negatives` wrong ones a question (the reader's best wrong
one first: the mistake it would make). The verifier goes beside its reader
(`<reader>/verifier/`), and `python -m qa.training.bands` then fits the band model with its signal.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import pickle
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from qa.evaluation.metrics import score_answer
from qa.training.bands import RIGHT_F1
from qa.verifier import MAX_TOKENS, marked

logger = logging.getLogger(__name__)
Record = dict[str, Any]  # {"question", "answers", "rows": [(span, sentence, f1)], best rated first}


def _ask_group(files: list[tuple[str, str]], questions: list[tuple[str, list[str]]]) -> list[Record]:
    """Index `files` ((name, text)) on their own and ask each (question, gold answers)."""
    from qa.assistant import Assistant

    records = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "documents"
        folder.mkdir()
        for name, text in files:
            (folder / name).write_text(text, encoding="utf-8")
        assistant = Assistant.from_config(index_dir=Path(tmp) / "index", reader="offline")
        assistant.index(sorted(folder.iterdir()), rebuild=True)
        for question, answers in questions:
            rows = [
                (span, sentence, score_answer(span, answers)[1] if answers else 0.0)
                for span, _, _, sentence in assistant.ask(question).candidates
            ]
            records.append({"question": question, "answers": answers, "rows": rows})
    return records


def user_groups(groups: int, documents: int, per_document: int, seed: int) -> list[Record]:
    """Questions about synthetic documents (qa/training/user_documents.py), asked a group at a time:
    up to `per_document` answerable ones a document and a quarter as many near misses."""
    from qa.training import user_templates_home, user_templates_more  # noqa: F401 (their kinds)
    from qa.training.user_documents import styled
    from qa.training.user_templates import KINDS

    rng, kinds, number = random.Random(seed), sorted(KINDS), 0
    records: list[Record] = []
    for group in range(groups):
        files, questions = [], []
        for _ in range(documents):
            kind = kinds[number % len(kinds)]
            number += 1
            doc = KINDS[kind](rng)
            text = "\n".join(line.text for line in doc.lines)
            files.append((f"{kind}-{number}.txt", text))
            asks = list(doc.asks)
            rng.shuffle(asks)
            for slot, phrasings in asks[:per_document]:
                value = next(line.spans[slot][1] for line in doc.lines if slot in line.spans)
                questions.append((styled(rng.choice(phrasings), rng, text)[0], [value]))
            nears = [phrasing for _, phrasings in doc.nears for phrasing in phrasings]
            for phrasing in rng.sample(nears, min(len(nears), max(1, per_document // 4))):
                questions.append((styled(phrasing, rng, text)[0], []))
        records += _ask_group(files, questions)
        logger.info("group %d of %d: %d questions so far", group + 1, groups, len(records))
    return records


def squad_groups(path: Path, questions: int, seed: int) -> list[Record]:
    """Up to `questions` SQuAD 1.1 questions, each article's first 12 paragraphs indexed together."""
    with gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open() as f:
        articles = json.load(f)["data"]
    rng = random.Random(seed)
    records: list[Record] = []
    rng.shuffle(articles)
    for article in articles:
        if len(records) >= questions:
            break
        paragraphs = article["paragraphs"][:12]
        title = "".join(c if c.isalnum() else "-" for c in article["title"])[:40]
        files = [(f"{title}-{i}.txt", p["context"]) for i, p in enumerate(paragraphs)]
        asked = [(qa["question"], [a["text"] for a in qa["answers"]]) for p in paragraphs for qa in p["qas"]]
        records += _ask_group(files, rng.sample(asked, min(len(asked), 40)))
        logger.info("SQuAD: %d questions so far", len(records))
    return records


def mark(sentence: str, span: str) -> str:
    """`sentence` with the first occurrence of `span` marked (the span after it when it is not there)."""
    at = sentence.find(span)
    at = at if at >= 0 else sentence.lower().find(span.lower())
    if at < 0:
        return marked(sentence + " " + span, len(sentence) + 1, len(sentence) + 1 + len(span))
    return marked(sentence, at, at + len(span))


def training_rows(records: list[Record], negatives: int, rng: random.Random) -> list[tuple[str, str, float]]:
    """(question, marked sentence, 1.0 right / 0.0 wrong) rows: every right candidate, and the best
    wrong one plus up to `negatives` - 1 other wrong ones a question."""
    rows = []
    for r in records:
        marks = [(mark(sentence, span), f1 >= RIGHT_F1) for span, sentence, f1 in r["rows"]]
        wrong = [m for m, right in marks if not right]
        kept = wrong[:1] + rng.sample(wrong[1:], min(len(wrong) - 1, negatives - 1)) if wrong else []
        rows += [(r["question"], m, 1.0) for m, right in marks if right]
        rows += [(r["question"], m, 0.0) for m in kept]
    return rows


def train(
    out: Path, rows: list[tuple[str, str, float]], base: str, *, epochs: float, learning_rate: float,
    batch: int = 32, seed: int = 0,
) -> None:  # fmt: skip
    """Fine-tune `base` (a reader's or a verifier's folder) as a one-logit classifier on `rows`,
    in batches of like length, and save it (fp16 weights, as the reader ships) with its tokenizer."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    lengths = [len(tokenizer(q, s, truncation=True, max_length=MAX_TOKENS)["input_ids"]) for q, s, _ in rows]
    order = sorted(range(len(rows)), key=lambda i: lengths[i])
    batches = [order[i : i + batch] for i in range(0, len(order), batch)]
    steps = int(len(batches) * epochs)
    warm = max(1, steps // 10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm))
    )
    loss_of = torch.nn.BCEWithLogitsLoss()
    model.train()
    started, running = time.perf_counter(), 0.0
    for step in range(steps):
        if step % len(batches) == 0:
            rng.shuffle(batches)
        chosen = [rows[i] for i in batches[step % len(batches)]]
        encoded = tokenizer(
            [q for q, _, _ in chosen], [m for _, m, _ in chosen], truncation="longest_first",
            max_length=MAX_TOKENS, padding=True, return_tensors="pt",
        )  # fmt: skip
        logits = model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits[:, 0]
        loss = loss_of(logits, torch.tensor([y for _, _, y in chosen]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0:
            seconds = time.perf_counter() - started
            logger.info("step %d of %d: loss %.3f, %.0f s", step, steps, running, seconds)
    model.eval().half().save_pretrained(out)
    tokenizer.save_pretrained(out)
    logger.info("wrote %s (%d steps, %.0f s)", out, steps, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="ask synthetic (and SQuAD) questions; keep every candidate")
    ask.add_argument("out", type=Path)
    ask.add_argument("--groups", type=int, default=50)
    ask.add_argument("--documents", type=int, default=12, help="documents a group (one index)")
    ask.add_argument("--per-document", type=int, default=6)
    ask.add_argument("--squad", type=Path, help="SQuAD 1.1 JSON (.gz) to add questions from")
    ask.add_argument("--squad-questions", type=int, default=2000)
    ask.add_argument("--seed", type=int, default=21)
    fit = commands.add_parser("train", help="train the verifier on asked candidates")
    fit.add_argument("out", type=Path)
    fit.add_argument("records", type=Path, nargs="+")
    fit.add_argument("--base", default="qa/models/reader", help="the reader (first stage) or a verifier")
    fit.add_argument("--epochs", type=float, default=1.0)
    fit.add_argument("--learning-rate", type=float, default=3e-5)
    fit.add_argument("--negatives", type=int, default=3)
    fit.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logger.setLevel(logging.INFO)
    if args.command == "ask":
        records = user_groups(args.groups, args.documents, args.per_document, args.seed)
        if args.squad:
            records += squad_groups(args.squad, args.squad_questions, args.seed + 1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("wb") as f:
            pickle.dump(records, f)
        logger.info("wrote %s: %d questions", args.out, len(records))
        return
    rng = random.Random(args.seed)
    rows = []
    for path in args.records:
        with path.open("rb") as f:
            rows += training_rows(pickle.load(f), args.negatives, rng)
    logger.info("%d rows, %d right", len(rows), sum(y for _, _, y in rows))
    train(args.out, rows, args.base, epochs=args.epochs, learning_rate=args.learning_rate, seed=args.seed)


if __name__ == "__main__":
    main()
