"""Unanswerable questions of every kind SQuAD 2.0's annotators wrote, made by rule from answerable ones.

Rajpurkar et al. (2018), table 3, list how the crowd made questions that a paragraph cannot answer:
negation (9%), antonym (20%), entity swap (21%), mutual exclusion (15%), impossible condition (4%) and
other neutral (24%; plausible questions on a passage without the answer, which `passage_examples`
already makes from the closest passage). Each kind here is a rule applied to an answerable question,
asked on its own context as "no answer". A rule that would leave the question answerable (its new word
is in the context too) is not applied. Entity swaps are `synthetic.swapped_questions`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from qa.training.squad import SquadQuestion
from qa.training.synthetic import swapped_questions

# SQuAD 2.0's shares of the kinds made here (entity swaps are counted in `swap`), per 100 negatives.
KIND_WEIGHTS = {"negation": 9, "antonym": 20, "exclusion": 15, "condition": 4}
ALL_KINDS = ("negation", "antonym", "swap", "exclusion", "condition")

# fmt: off
_ANTONYMS = [
    ("increase", "decrease"), ("increased", "decreased"), ("rise", "fall"), ("rose", "fell"),
    ("win", "lose"), ("won", "lost"), ("gain", "loss"), ("success", "failure"),
    ("successful", "unsuccessful"),
    ("accept", "reject"), ("accepted", "rejected"), ("support", "oppose"), ("supported", "opposed"),
    ("allow", "forbid"), ("allowed", "forbidden"), ("legal", "illegal"), ("public", "private"),
    ("strong", "weak"), ("stronger", "weaker"), ("rich", "poor"), ("richer", "poorer"),
    ("cheap", "expensive"),
    ("easy", "difficult"), ("easier", "harder"), ("common", "rare"), ("popular", "unpopular"),
    ("ancient", "modern"), ("old", "new"), ("older", "newer"), ("young", "old"), ("early", "late"),
    ("open", "closed"), ("opened", "closed"), ("begin", "end"), ("began", "ended"), ("start", "finish"),
    ("started", "finished"), ("buy", "sell"), ("bought", "sold"), ("import", "export"),
    ("imported", "exported"), ("enter", "leave"), ("entered", "left"), ("arrive", "depart"),
    ("arrived", "departed"), ("positive", "negative"), ("true", "false"), ("correct", "incorrect"),
    ("good", "bad"), ("better", "worse"), ("heavy", "light"), ("hot", "cold"), ("warm", "cool"),
    ("wet", "dry"), ("male", "female"), ("men", "women"), ("man", "woman"), ("friend", "enemy"),
    ("allies", "enemies"), ("attack", "defend"), ("attacked", "defended"), ("create", "destroy"),
    ("created", "destroyed"), ("build", "demolish"), ("built", "demolished"), ("include", "exclude"),
    ("included", "excluded"), ("agree", "disagree"), ("agreed", "disagreed"), ("approve", "disapprove"),
    ("approved", "vetoed"), ("add", "remove"), ("added", "removed"), ("join", "leave"), ("joined", "left"),
    ("fast", "slow"), ("faster", "slower"), ("deep", "shallow"), ("wide", "narrow"), ("long", "short"),
    ("high", "low"), ("large", "small"), ("big", "small"), ("major", "minor"), ("more", "fewer"),
    ("inside", "outside"), ("internal", "external"), ("domestic", "foreign"), ("north", "south"),
    ("northern", "southern"), ("east", "west"), ("eastern", "western"), ("upper", "lower"),
]
_EXCLUSIVE = [
    ("first", "last"), ("before", "after"), ("earliest", "latest"), ("largest", "smallest"),
    ("biggest", "smallest"), ("highest", "lowest"), ("longest", "shortest"), ("most", "least"),
    ("maximum", "minimum"), ("oldest", "newest"), ("best", "worst"), ("greatest", "least"),
    ("tallest", "shortest"), ("fastest", "slowest"), ("richest", "poorest"), ("strongest", "weakest"),
    ("deepest", "shallowest"), ("heaviest", "lightest"), ("closest", "farthest"), ("nearest", "farthest"),
    ("only", "second"), ("primary", "secondary"), ("beginning", "end"), ("top", "bottom"),
    ("youngest", "oldest"), ("more", "less"), ("above", "below"), ("over", "under"), ("north", "south"),
]
# fmt: on
_AUX = re.compile(
    r"\b(is|was|are|were|did|does|do|can|could|will|would|has|have|had|should|must|may|might)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\s*\b(?:not|never)\b|n't\b", re.IGNORECASE)
_YEAR = re.compile(r"\b1[5-9]\d\d|20[0-2]\d\b")


def _pairs(table: list[tuple[str, str]]) -> dict[str, str]:
    both = {a: b for a, b in table}
    both.update({b: a for a, b in table if b not in both})
    return both


_ANTONYM = _pairs(_ANTONYMS)
_EXCLUDES = _pairs(_EXCLUSIVE)


_IRREGULAR = {  # a verb's other forms that a suffix does not make
    "rise": "rose", "fall": "fell", "win": "won", "lose": "lost", "buy": "bought", "sell": "sold",
    "begin": "began", "leave": "left", "build": "built", "forbid": "forbade", "gain": "gained",
}  # fmt: skip
_FORMS = {**_IRREGULAR, **{v: k for k, v in _IRREGULAR.items()}}


def _in(word: str, text: str) -> bool:
    """Whether `text` holds `word` or another form of it (fall/fell/falls/falling)."""
    stem = re.sub(r"(?:ed|d|es|s|ing|er|est)$", "", word) if len(word) > 4 else word
    forms = [re.escape(stem) + r"\w{0,3}"]
    if word in _FORMS:
        forms.append(re.escape(_FORMS[word]))
    return re.search(rf"\b(?:{'|'.join(forms)})\b", text, re.IGNORECASE) is not None


def _same_case(new: str, old: str) -> str:
    return new.capitalize() if old[:1].isupper() else new


def _replace_one(q: SquadQuestion, table: dict[str, str], rng: random.Random) -> str | None:
    """The question with one word of `table` turned into its opposite, when the context does not
    hold the opposite (else the new question could be answerable)."""
    words = [  # a capitalised word inside the question is part of a name ("Kanye West", "New Delhi")
        m
        for m in re.finditer(r"[A-Za-z]+", q.question)
        if m.group().lower() in table and (m.start() == 0 or m.group().islower())
    ]
    rng.shuffle(words)
    for m in words:
        new = table[m.group().lower()]
        if not _in(new, q.context):
            return q.question[: m.start()] + _same_case(new, m.group()) + q.question[m.end() :]
    return None


_DETERMINERS = {"the", "a", "an", "his", "her", "its", "their", "this", "that", "these", "those"}


def _subject_length(words: list[str]) -> int:
    """How many of `words` (those after "did") are the subject: a name's capitalised words, or a
    determiner and its noun, else one word."""
    if words[0].lower() in _DETERMINERS:
        return 2
    n = 0
    while n < len(words) and words[n][:1].isupper():
        n += 1
    return max(n, 1)


def negated(q: SquadQuestion, rng: random.Random) -> str | None:
    """Negation: "What did X build?" -> "What did X not build?"; an already negative question loses
    its "not"/"never"."""
    if _NEGATED.search(q.question):
        plain = _NEGATED.sub("", q.question, count=1)
        return plain if plain != q.question and len(plain.split()) >= 3 else None
    aux = list(_AUX.finditer(q.question))
    if not aux:
        return None
    m = aux[0]
    rest = q.question[m.end() :].split()
    if not rest:
        return None
    # "did X build" -> "did X not build": after the subject when it is one or two words, else after aux
    if m.group().lower() in ("did", "does", "do") and len(rest) >= 2:
        cut = _subject_length(rest)
        if cut >= len(rest):
            return None
        before = " ".join(rest[:cut])
        after = " ".join(rest[cut:])
        return f"{q.question[: m.end()]} {before} not {after}"
    return f"{q.question[: m.end()]} not{q.question[m.end() :]}"


def antonym(q: SquadQuestion, rng: random.Random) -> str | None:
    """Antonym: "Which party supported the bill?" -> "Which party opposed the bill?"."""
    return _replace_one(q, _ANTONYM, rng)


def exclusion(q: SquadQuestion, rng: random.Random) -> str | None:
    """Mutual exclusion: "Who was the first ...?" -> "Who was the last ...?"."""
    return _replace_one(q, _EXCLUDES, rng)


def condition(q: SquadQuestion, rng: random.Random) -> str | None:
    """Impossible condition: the question asked about a year its context never mentions."""
    if _YEAR.search(q.question) or not q.question.rstrip().endswith("?"):
        return None
    years = {int(y) for y in _YEAR.findall(q.context)}
    if not years:
        return None
    year = min(2020, rng.choice(sorted(years)) + rng.choice((-1, 1)) * rng.randint(7, 60))
    if str(year) in q.context:
        return None
    return q.question.rstrip()[:-1].rstrip() + f" in {year}?"


RULES: dict[str, Callable[[SquadQuestion, random.Random], str | None]] = {
    "negation": negated,
    "antonym": antonym,
    "exclusion": exclusion,
    "condition": condition,
}


def rule_negatives(
    questions: Sequence[SquadQuestion], *, share: float = 0.2, seed: int = 42
) -> tuple[list[SquadQuestion], dict[str, int]]:
    """About `share` x the answerable questions, asked again as unanswerable by the rules above, mixed
    in SQuAD 2.0's proportions (a kind whose rule fits fewer questions gives fewer). Returns the new
    questions (ids end in "/<kind>") and how many of each kind were made."""
    rng = random.Random(seed)
    answerable = [q for q in questions if q.answerable]
    budget = share * len(answerable)
    total_weight = sum(KIND_WEIGHTS.values())
    out: list[SquadQuestion] = []
    made: dict[str, int] = {}
    for kind, rule in RULES.items():
        wanted = round(budget * KIND_WEIGHTS[kind] / total_weight)
        order = list(answerable)
        rng.shuffle(order)
        kept: list[SquadQuestion] = []
        for q in order:
            if len(kept) >= wanted:
                break
            new = rule(q, rng)
            if new and new != q.question:
                kept.append(SquadQuestion(f"{q.id}/{kind}", new, [], [], q.context, q.title))
        made[kind] = len(kept)
        out += kept
    return out, made


def all_negatives(
    questions: Sequence[SquadQuestion], *, swap: float, rules: float, seed: int = 42
) -> tuple[list[SquadQuestion], dict[str, int]]:
    """Entity swaps (`swap` x answerable) and the rule-made kinds (`rules` x answerable) together."""
    swapped = swapped_questions(questions, share=swap, seed=seed) if swap else []
    made, counts = rule_negatives(questions, share=rules, seed=seed) if rules else ([], {})
    return swapped + made, {"swap": len(swapped), **counts}


def kind_of(question_id: str) -> str | None:
    """The kind a made question was made as, from its id ("<id>/antonym"), or None for a real one."""
    suffix = question_id.rsplit("/", 1)[-1]
    return suffix if suffix in ALL_KINDS else None
