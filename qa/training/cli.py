"""`qa train-reader`: fine-tune a span reader on SQuAD-format files, then calibrate when to abstain."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from qa.errors import BadInputError, friendly_errors
from qa.progress import terminal_bar

SYNTHETIC_LENGTH = 128  # a cloze question is asked on one or two sentences
SENTENCE_LEARNING_RATE = 3e-5  # the last stage refines a trained reader


def _load(paths: tuple[Path, ...], titles: set[str] | None, exclude: set[str]) -> list:
    from qa.training.squad import load_squad

    questions = []
    for path in paths:
        try:
            questions += [q for q in load_squad(path, titles) if q.title not in exclude]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BadInputError(
                f"{path}: not a SQuAD-format JSON file ({exc}); see docs/evaluation.md"
            ) from exc
    if not questions:
        raise BadInputError("no training questions left; check the files and --articles/--exclude-articles")
    return questions


def _texts(paths: tuple[Path, ...]) -> list[tuple[str, str]]:
    """(title, text) pairs to make synthetic questions from: a SQuAD file's paragraphs, a document's text."""
    from index.reading import read_documents
    from qa.training.synthetic import contexts_of

    squad = tuple(p for p in paths if p.name.lower().endswith((".json", ".json.gz")))
    documents = [p for p in paths if p not in squad]
    texts = contexts_of(_load(squad, None, set())) if squad else []
    if documents:
        texts += [(d.name, d.text) for d in read_documents(documents)[0]]
    return texts


@click.command("train-reader")
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--base", "base", default=None, help="Base model folder or id (default: bundled all-MiniLM-L6-v2)."
)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/reader"),
              show_default=True, help="Where to write the Hugging Face model folder.")  # fmt: skip
@click.option("--epochs", type=click.FloatRange(min=0.01), default=3.0, show_default=True)
@click.option("--max-length", type=click.IntRange(min=32, max=512), default=192, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--articles", default=None, help="Comma-separated article titles to train on (default: all).")
@click.option("--exclude-articles", default="", help="Comma-separated article titles to leave out.")
@click.option(
    "--synthetic",
    "synthetic",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Pre-train on cloze questions made from these texts first: SQuAD JSON files (their paragraphs) "
    "or .txt/.md/.pdf documents and folders. Repeatable.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="Train on this many answerable questions of DATA drawn at random (seeded); every unanswerable "
    "question is kept (they are scarce).",
)
@click.option(
    "--swap-negatives",
    type=click.FloatRange(min=0, max=1),
    default=0.1,
    show_default=True,
    help="Share of answerable questions also asked with one name or number swapped for another of "
    "their article, as unanswerable (as SQuAD 2.0's annotators wrote theirs). 0: none.",
)
@click.option(
    "--rule-negatives",
    type=click.FloatRange(min=0, max=2),
    default=0.0,
    show_default=True,
    help="Share of answerable questions also asked as unanswerable by rule: negated, an antonym, a mutually "
    "exclusive word (first/last), an impossible year; mixed in SQuAD 2.0's proportions. 0: none.",
)
@click.option(
    "--learning-rate", type=click.FloatRange(min=1e-7, max=1e-2), default=1e-4, show_default=True,
    help="Peak learning rate (lower it, e.g. 5e-5, to train further from a trained --base).",
)  # fmt: skip
@click.option(
    "--precision", type=click.Choice(["auto", "bf16", "fp32"]), default="auto", show_default=True,
    help="auto: bf16 autocast where the processor computes bf16 natively (AMX, AVX512-BF16), else fp32.",
)  # fmt: skip
@click.option("--synthetic-epochs", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
@click.option(
    "--sentence-epochs",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Then train this long on single sentences (the answer's, and the closest one without it as "
    "no-answer) mixed with the passages, at a lower learning rate. 0: skip.",
)
@click.option(
    "--all-answers/--first-answer",
    default=True,
    show_default=True,
    help="Train on every distinct gold answer of a question, or on the first one only.",
)
@click.option(
    "--calibrate",
    "calibrate_data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="SQuAD file of held-out articles to fit the abstain decision on.",
)
@click.option("--calibrate-articles", default=None, help="Comma-separated titles of --calibrate to use.")
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="QA_CONFIG",
    default=None,
    help="Calibrate with the retrieval and reading settings of this config (default: config/default.yaml).",
)
@click.option(
    "--offline-sentences",
    type=click.IntRange(min=0),
    default=None,
    help="Calibrate for reading the best N sentences (overrides the config; 0: whole passages).",
)
def train_reader_command(
    data: tuple[Path, ...],
    base: str | None,
    out: Path,
    epochs: float,
    max_length: int,
    seed: int,
    articles: str | None,
    exclude_articles: str,
    synthetic: tuple[Path, ...],
    sample: int | None,
    swap_negatives: float,
    rule_negatives: float,
    learning_rate: float,
    precision: str,
    synthetic_epochs: float,
    sentence_epochs: float,
    all_answers: bool,
    calibrate_data: Path | None,
    calibrate_articles: str | None,
    config: Path | None,
    offline_sentences: int | None,
) -> None:
    """Train a span-extraction reader on SQuAD-format DATA files (no-answer at [CLS]).

    Writes a standard Hugging Face folder that `offline_model: <folder>` (or Haystack's
    TransformersExtractiveReader) loads. Training examples are recast onto the short passages the
    index serves, so a reader trains on what retrieval hands it.
    """

    @friendly_errors
    def run() -> None:
        from qa.training.calibration import calibrate
        from qa.training.negatives import all_negatives
        from qa.training.synthetic import synthetic_questions
        from qa.training.train import (
            TrainSettings,
            passage_examples,
            sampled,
            sentence_examples,
            train_reader,
        )

        def split(names: str | None) -> set[str] | None:
            return {n.strip() for n in names.split(",") if n.strip()} if names else None

        def stage(label: str, examples: list, target: Path | str, start: str | None, **settings) -> dict:
            return train_reader(
                examples,
                target,
                base_model=start,
                settings=TrainSettings(seed=seed, precision=precision, **settings),
                on_step=terminal_bar(label),
            )

        questions = _load(data, split(articles), split(exclude_articles) or set())
        if sample is not None:
            questions = sampled(questions, sample, seed=seed)
        made, kinds = all_negatives(questions, swap=swap_negatives, rules=rule_negatives, seed=seed)
        if made:
            click.echo(f"made {len(made)} unanswerable questions: {kinds}", err=True)
        questions += made
        examples = passage_examples(questions, seed=seed, all_answers=all_answers)
        start_from = base
        with tempfile.TemporaryDirectory(prefix="qa-synthetic-") as pretrained:
            pretraining = None
            if synthetic:
                cloze = synthetic_questions(_texts(synthetic), seed=seed)
                click.echo(f"pre-training on {len(cloze)} synthetic cloze questions", err=True)
                pretraining = stage(
                    "pre-training", cloze, pretrained, start_from,
                    epochs=synthetic_epochs, max_length=SYNTHETIC_LENGTH,
                )  # fmt: skip
                start_from = pretrained
            click.echo(f"training on {len(questions)} questions ({len(examples)} passage examples)", err=True)
            summary = stage(
                "training", examples, out, start_from,
                epochs=epochs, max_length=max_length, learning_rate=learning_rate,
            )  # fmt: skip
            summary["made_negatives"] = kinds
        if sentence_epochs:
            mixed = sentence_examples(questions, all_answers=all_answers) + examples
            click.echo(f"refining on {len(mixed)} sentence and passage examples", err=True)
            refined = stage(
                "refining", mixed, out, str(out),
                epochs=sentence_epochs, max_length=max_length, learning_rate=SENTENCE_LEARNING_RATE,
            )  # fmt: skip
            refined.pop("base_training", None)  # its base is the passage stage, not an earlier --out
            summary = {**refined, "base_model": summary["base_model"], "passage_stage": summary}
        if pretraining is not None:
            summary["synthetic_pretraining"] = pretraining
            summary["base_model"] = pretraining["base_model"]  # not the deleted temporary folder
        record = out / "training.json"
        record.write_text(json.dumps(summary, indent=2), encoding="utf-8")  # kept if calibrating fails
        if calibrate_data is not None:
            held_out = _load((calibrate_data,), split(calibrate_articles), set())
            overrides = {} if offline_sentences is None else {"offline_sentences": offline_sentences}
            calibrator, rows = calibrate(
                out, held_out, config=config, progress=terminal_bar("calibrating"), **overrides
            )
            summary["answerability"] = {"threshold": calibrator.threshold, "questions": len(rows)}
            record.write_text(json.dumps(summary, indent=2), encoding="utf-8")
        click.echo(json.dumps(summary, indent=2))

    run()


@click.command("train-answerability")
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--base", "base", default=None,
    help="Model to start from: a trained reader's folder, or default the bundled all-MiniLM-L6-v2.",
)  # fmt: skip
@click.option(
    "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
    help="Where to write the classifier; <reader folder>/classifier is where the reader finds it.",
)  # fmt: skip
@click.option("--epochs", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
@click.option("--max-length", type=click.IntRange(min=32, max=512), default=96, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--exclude-articles", default="", help="Comma-separated article titles to leave out.")
@click.option(
    "--sample", type=click.IntRange(min=1), default=None,
    help="Use this many answerable questions drawn at random; every unanswerable one is kept.",
)  # fmt: skip
@click.option(
    "--swap-negatives", type=click.FloatRange(min=0, max=1), default=0.3, show_default=True,
    help="Share of answerable questions also asked with a name or number swapped, as unanswerable.",
)  # fmt: skip
def train_answerability_command(
    data: tuple[Path, ...],
    base: str | None,
    out: Path,
    epochs: float,
    max_length: int,
    seed: int,
    exclude_articles: str,
    sample: int | None,
    swap_negatives: float,
) -> None:
    """Train the answerability classifier on SQuAD-format DATA files: does the sentence an answer
    came from answer the question? Put it in <reader>/classifier and recalibrate the reader
    (`qa train-reader --calibrate`, or docs/reader.md) so the abstain decision weighs it."""

    @friendly_errors
    def run() -> None:
        from qa.training.classifier import pair_examples, train_classifier
        from qa.training.synthetic import swapped_questions
        from qa.training.train import TrainSettings, sampled

        exclude = {n.strip() for n in exclude_articles.split(",") if n.strip()}
        questions = _load(data, None, exclude)
        if sample is not None:
            questions = sampled(questions, sample, seed=seed)
        if swap_negatives:
            questions += swapped_questions(questions, share=swap_negatives, seed=seed)
        pairs = pair_examples(questions)
        click.echo(
            f"training on {len(pairs)} (question, sentence) pairs from {len(questions)} questions", err=True
        )
        summary = train_classifier(
            pairs, out, base_model=base,
            settings=TrainSettings(seed=seed, epochs=epochs, max_length=max_length, learning_rate=5e-5),
            on_step=terminal_bar("training"),
        )  # fmt: skip
        (out / "training.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        click.echo(json.dumps(summary, indent=2))

    run()
