"""Synthetic training data in the users' domain: questions about the documents people keep.

The reader was trained on Wikipedia; users ask about e-mails, leases, manuals, invoices, letters,
with "Key: value" lines, bullets and table rows, and type short lower-case questions in other words
than the document's, sometimes with a typo. This generator fills templates (user_templates,
user_templates_home, user_templates_more) with random values and writes SQuAD 2.0 JSON whose
contexts are what the product's reader sees: a snippet of 1-4 consecutive lines of one document
(sometimes after a heading).

Each answerable question goes with a snippet holding its answer (a minimal span); some also go with
a snippet of the same document that does not hold it ("not here"); near-miss questions (the deposit
when only the rent is given) go with the snippet that comes closest. Deterministic by seed.

    python -m qa.training.user_documents --out runs/user-docs.json --documents 1500 --seed 3
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from qa.training import user_templates_home, user_templates_more  # noqa: F401  (register their kinds)
from qa.training.user_templates import KINDS, Doc

MAX_WORDS = 90
TYPO_RATE = 0.1
NOT_HERE_RATE = 0.3
NEAR_SHARE = 0.2  # of all questions, near misses
_WORD = re.compile(r"[a-z]{5,}")


def typo(word: str, rng: random.Random) -> str:
    """One letter swapped with its neighbour, dropped or doubled (never the first letter)."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def styled(question: str, rng: random.Random, context: str) -> tuple[str, bool]:
    """A phrasing as a user types it: mostly lower case, often without "?", sometimes a typo.

    A typo goes only in a word of five letters or more that the context does not hold, so the
    answer (a span of the context) never carries one. Returns (question, has typo)."""
    q = question.strip()
    if rng.random() < 0.3:
        q = q[0].upper() + q[1:]
    if not q.endswith("?") and rng.random() < 0.35:
        q += "?"
    elif q.endswith("?") and rng.random() < 0.3:
        q = q[:-1]
    if rng.random() < TYPO_RATE:
        low = context.lower()
        words = [m for m in _WORD.finditer(q) if m.group() not in low]
        if words:
            m = rng.choice(words)
            return q[: m.start()] + typo(m.group(), rng) + q[m.end() :], True
    return q, False


def _words(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)


def snippet(doc: Doc, index: int, rng: random.Random) -> tuple[str, int]:
    """1-4 consecutive lines around line `index`, sometimes after its heading: (context, line offset)."""
    n = len(doc.lines)
    size = rng.choice((1, 1, 2, 2, 3, 4))
    start = rng.randint(max(1, index - size + 1), index)
    end = min(n, start + size)
    while end - start > 1 and _words([x.text for x in doc.lines[start:end]]) > MAX_WORDS:
        if end - 1 > index:
            end -= 1
        else:
            start += 1
    chosen = list(range(start, end))
    heading = next((i for i in range(start - 1, -1, -1) if doc.lines[i].heading), None)
    if (
        heading is not None
        and heading not in chosen
        and rng.random() < 0.4
        and _words([doc.lines[heading].text] + [doc.lines[i].text for i in chosen]) <= MAX_WORDS
    ):
        chosen.insert(0, heading)
    offset = sum(len(doc.lines[i].text) + 1 for i in chosen[: chosen.index(index)])
    return "\n".join(doc.lines[i].text for i in chosen), offset


def _line_of(doc: Doc, slot: str) -> int:
    return next(i for i, line in enumerate(doc.lines) if slot in line.spans)


def _not_here(doc: Doc, answer: str, index: int, rng: random.Random) -> str | None:
    """A snippet of the same document without the answer, or None if there is none."""
    others = [i for i, line in enumerate(doc.lines) if i != index and line.spans]
    rng.shuffle(others)
    for i in others[:4]:
        context, _ = snippet(doc, i, rng)
        names = [w for w in answer.split() if w[:1].isupper() and len(w) > 2]  # "Khan" of "Ms Khan"
        if answer.lower() not in context.lower() and not any(
            re.search(rf"\b{re.escape(w)}\b", context) for w in names
        ):
            return context
    return None


def document_questions(doc: Doc, rng: random.Random, number: int) -> list[tuple[str, dict[str, Any]]]:
    """(context, SQuAD qa) pairs for one document."""
    out: list[tuple[str, dict[str, Any]]] = []

    def add(context: str, phrasing: str, answer: tuple[str, int] | None, tag: str) -> None:
        question, _ = styled(phrasing, rng, context)
        qa: dict[str, Any] = {
            "id": f"ud{number}-{len(out)}-{tag}",
            "question": question,
            "is_impossible": answer is None,
        }
        qa["answers"] = [{"text": answer[0], "answer_start": answer[1]}] if answer else []
        out.append((context, qa))

    for slot, phrasings in doc.asks:
        index = _line_of(doc, slot)
        start, value = doc.lines[index].spans[slot]
        for phrasing in rng.sample(phrasings, 2 if rng.random() < 0.25 and len(phrasings) > 1 else 1):
            context, offset = snippet(doc, index, rng)
            add(context, phrasing, (value, offset + start), "answer")
        if rng.random() < NOT_HERE_RATE:
            other = _not_here(doc, value, index, rng)
            if other is not None:
                add(other, rng.choice(phrasings), None, "nothere")
    wanted = max(1, round(len(out) * NEAR_SHARE / (1 - NEAR_SHARE)))
    pool = [(slot, phrasing) for slot, phrasings in doc.nears for phrasing in phrasings]
    for slot, phrasing in rng.sample(pool, min(len(pool), wanted)):
        context, _ = snippet(doc, _line_of(doc, slot), rng)
        add(context, phrasing, None, "near")
    return out


def generate(documents: int, seed: int) -> dict[str, Any]:
    """SQuAD 2.0 JSON of `documents` synthetic user documents (the kinds in turn, values at random)."""
    rng = random.Random(seed)
    kinds = sorted(KINDS)
    data = []
    for number in range(documents):
        kind = kinds[number % len(kinds)]
        doc = KINDS[kind](rng)
        paragraphs: dict[str, list[dict[str, Any]]] = {}
        for context, qa in document_questions(doc, rng, number):
            paragraphs.setdefault(context, []).append(qa)
        data.append(
            {
                "title": f"{kind}-{number}",
                "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs.items()],
            }
        )
    return {"version": "v2.0", "data": data}


def counts(squad: dict[str, Any]) -> dict[str, Any]:
    kinds = Counter(article["title"].rsplit("-", 1)[0] for article in squad["data"])
    qas = [qa for a in squad["data"] for p in a["paragraphs"] for qa in p["qas"]]
    return {
        "documents": len(squad["data"]),
        "kinds": dict(sorted(kinds.items())),
        "contexts": sum(len(a["paragraphs"]) for a in squad["data"]),
        "answerable": sum(1 for qa in qas if not qa["is_impossible"]),
        "unanswerable": sum(1 for qa in qas if qa["is_impossible"]),
        "near_miss": sum(1 for qa in qas if qa["id"].endswith("-near")),
        "not_here": sum(1 for qa in qas if qa["id"].endswith("-nothere")),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--documents", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    squad = generate(args.documents, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(squad, ensure_ascii=False, indent=1))
    c = counts(squad)
    sys.stdout.write(f"{c['documents']} documents, {c['contexts']} contexts\n")
    for kind, n in c["kinds"].items():
        sys.stdout.write(f"  {kind}: {n}\n")
    sys.stdout.write(
        f"questions: {c['answerable']} answerable, {c['unanswerable']} unanswerable"
        f" ({c['near_miss']} near misses, {c['not_here']} not-here snippets)\n"
    )
    sys.stdout.write(f"written to {args.out}\n")


if __name__ == "__main__":
    main()
