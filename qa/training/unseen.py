"""SQuAD 1.1 without the questions the shipped reader's stages drew: the data for its next stage.

`python -m qa.training.unseen OUT.json.gz [--after N]` redraws the answerable questions each earlier
stage sampled (`qa train-reader --sample`, with its data files and seed, as docs/reader.md records
them) and writes the SQuAD 1.1 training file without them, so a further stage (`--base
qa/models/reader`) trains on questions the reader has never seen. `--again N` keeps N of the drawn
ones too, picked at random: a stage that finishes one epoch and starts the next. The lab's data
folder (SQuAD 1.1 train and the dev articles, named as in the project's shared data) is passed with
`--data DIR`, or `QA_LAB_DATA`: nothing here reaches outside the project by itself.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import random
from dataclasses import dataclass
from pathlib import Path

from qa.training.squad import load_squad
from qa.training.train import sampled

SQUAD11 = "squad11-train.json.gz"  # the file names in the lab's data folder
DEV17 = "squad2-dev-17articles-labelled.json"
DEV16 = "squad2-dev-16articles.json"
CALIBRATION = {
    "Normans", "Computational_complexity_theory", "Huguenot", "Steam_engine", "1973_oil_crisis",
    "Packet_switching",
}  # fmt: skip
VALIDATION = {"Warsaw", "French_and_Indian_War", "Force"}


@dataclass(frozen=True)
class Stage:
    """One `qa train-reader --sample N --seed S` run: what it drew from."""

    files: tuple[str, ...]  # "squad11" (what was still unseen then), "dev17", "dev13"
    sample: int
    seed: int


# the shipped reader's stages, in order (docs/reader.md)
STAGES = (
    Stage(("squad11", "dev17"), 30_000, 42),  # issue 10, stage 1
    Stage(("squad11", "dev17", "dev13"), 20_000, 7),  # issue 10, stage 2
    Stage(("unseen", "dev17", "dev13"), 20_000, 11),  # issue 18, stage 3
    Stage(("unseen", "dev17", "dev13"), 20_000, 13),  # issue 18, stage 4
)


def _pool(stage: Stage, unseen: set[str], data: Path) -> list:
    questions = []
    for name in stage.files:
        if name in ("squad11", "unseen"):
            found = load_squad(data / SQUAD11)
            questions += [q for q in found if name == "squad11" or q.id in unseen]
        elif name == "dev17":
            questions += load_squad(data / DEV17)
        else:  # the 16 public dev articles less the validation ones
            found = load_squad(data / DEV16)
            questions += [q for q in found if q.title not in VALIDATION]
    if stage.files != ("squad11", "dev17"):  # the later stages left the calibration articles out
        questions = [q for q in questions if q.title not in CALIBRATION]
    return questions


def drawn_by(stages: tuple[Stage, ...], data: Path) -> set[str]:
    """The ids of the answerable questions the stages drew, each from what was unseen before it;
    `data` is the folder that holds the files they drew from."""
    every = {q.id for q in load_squad(data / SQUAD11)}
    drawn: set[str] = set()
    for stage in stages:
        picked = sampled(_pool(stage, every - drawn, data), stage.sample, seed=stage.seed)
        drawn |= {q.id for q in picked if q.answerable}
    return drawn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the .json.gz to write")
    parser.add_argument("--after", type=int, default=len(STAGES), help="stages drawn so far")
    parser.add_argument(
        "--again", type=int, default=0, metavar="N", help="also keep N drawn ones, at random (a next epoch)"
    )
    parser.add_argument("--seed", type=int, default=17, help="seed of the --again draw")
    parser.add_argument(
        "--data",
        type=Path,
        default=os.environ.get("QA_LAB_DATA"),
        help=f"the folder with {SQUAD11}, {DEV17} and {DEV16} (default: $QA_LAB_DATA)",
    )
    args = parser.parse_args(argv)
    if args.again < 0:
        parser.error(f"--again {args.again}: give how many drawn questions to keep again, 0 or more")
    missing = [n for n in (SQUAD11, DEV17, DEV16) if args.data is None or not (args.data / n).is_file()]
    if missing:
        where = f"in {args.data}" if args.data else "(no --data DIR, no QA_LAB_DATA)"
        parser.error(
            f"{', '.join(missing)} not found {where}; pass the folder that holds them with --data DIR"
        )
    folder: Path = args.data
    with gzip.open(folder / SQUAD11, "rt", encoding="utf-8") as f:
        data = json.load(f)
    ids = {qa["id"] for article in data["data"] for p in article["paragraphs"] for qa in p["qas"]}
    drawn = drawn_by(STAGES[: args.after], folder) & ids  # the dev articles' draws are not in this file
    again = random.Random(args.seed).sample(sorted(drawn), min(args.again, len(drawn)))
    drawn -= set(again)
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraph["qas"] = [qa for qa in paragraph["qas"] if qa["id"] not in drawn]
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        json.dump(data, f)
    left = sum(len(p["qas"]) for a in data["data"] for p in a["paragraphs"])
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger(__name__).info(
        "%s: %d SQuAD 1.1 questions, %d unseen, %d again", args.out, left, left - len(again), len(again)
    )


if __name__ == "__main__":
    main()
