"""What leaves the library: small dataclasses with offsets into the passages, no Haystack types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

NO_ANSWER_TEXT = "The document doesn't say."
UNSURE_TEXT = "I'm not sure. The closest the documents come is:"
SURE, UNSURE, NONE = "sure", "unsure", "none"
BANDS = (SURE, UNSURE, NONE)


@dataclass(frozen=True)
class Source:
    """A passage the answer was looked for in, in retrieval order.

    `answer_start`/`answer_end` are character offsets into `text` when this passage holds the answer,
    else None.
    """

    document: str
    text: str
    score: float
    answer_start: int | None = None
    answer_end: int | None = None
    passage_start: int = 0  # offset of `text` in its document
    # where in the document the passage is: "page 3", "slide 2", "sheet “Staff”, row 4", "chapter
    # “The Harbour”", "section “Prices”"; None for a plain text file
    location: str | None = None

    @property
    def has_answer(self) -> bool:
        return self.answer_start is not None

    @property
    def where(self) -> str:
        """Its document and, where it has one, its place in it: "report.pdf, page 3"."""
        return f"{self.document}, {self.location}" if self.location else self.document


@dataclass(frozen=True)
class Alternative:
    """A "not sure" reply's runner-up: the next candidate from another sentence, shown after the
    closest one when it is at least a tenth as likely (qa/bands.py `alternatives`), so that a person
    torn between two readings sees both. `answer_start`/`answer_end` mark `text` in `sentence`."""

    text: str
    sentence: str
    answer_start: int
    answer_end: int
    document: str
    score: float
    location: str | None = None

    def as_source(self) -> Source:
        """Its sentence as a source with the candidate marked, for the renderers."""
        return Source(
            self.document, self.sentence, self.score, self.answer_start, self.answer_end, 0, self.location
        )


@dataclass(frozen=True)
class Answer:
    """One reply, in one of three bands (`band`):

    - "sure": `text` is the answer, marked in its source;
    - "unsure": `text` is the best candidate, marked in the sentence that comes closest (`evidence`),
      for a person to judge; replies word it as a hedge (`UNSURE_TEXT`);
    - "none": nothing retrieved comes close to the question; `text` is None and `no_answer` True.
    """

    question: str
    text: str | None
    no_answer: bool
    score: float
    sources: list[Source]
    reader: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    rewritten_question: str | None = None  # the retrieval query used for a follow-up, if any
    engine: str = "none"  # what ran the models: onnx | torch-bf16 | torch-fp32 (index/engines.py)
    # What the answer/abstain decision saw (answerability features of the best span); not in to_dict().
    signals: dict[str, float] = field(default_factory=dict, compare=False, repr=False)
    band: str = ""  # sure | unsure | none; "" is read from no_answer (sure or none), for older callers
    # the candidate spans the decision rated, best first: (text, probability, signals, sentence); not
    # in to_dict()
    candidates: list[tuple[str, float, dict, str]] = field(default_factory=list, compare=False, repr=False)
    collection: str = "default"  # which collection answered
    alternatives: list[Alternative] = field(default_factory=list)  # "unsure" only: its runner-up

    def __post_init__(self) -> None:
        if not self.band:
            object.__setattr__(self, "band", NONE if self.no_answer or self.text is None else SURE)
        if self.band not in BANDS:
            raise ValueError(f"band {self.band!r} is not one of {', '.join(BANDS)}")

    @property
    def sure(self) -> bool:
        return self.band == SURE

    @property
    def display_text(self) -> str:
        """The reply in words: the answer, the hedge with the candidate, or that the documents don't say."""
        if self.band == NONE or self.text is None:
            return NO_ANSWER_TEXT
        if self.band == UNSURE:
            return f"{UNSURE_TEXT} “{self.text}”"
        return self.text

    @property
    def evidence(self) -> Source | None:
        """The source passage that holds the marked span (the answer, or an unsure reply's candidate)."""
        return next((s for s in self.sources if s.has_answer), None)

    @property
    def evidence_sentence(self) -> str | None:
        """The sentence of the evidence passage that holds the candidate span (unsure replies show it)."""
        quote = self.evidence_quote
        return quote[0] if quote else None

    @property
    def evidence_quote(self) -> tuple[str, int, int] | None:
        """(sentence, start, end): `evidence_sentence` and the candidate's offsets in it, to mark it."""
        from index.splitting import sentences_around

        source = self.evidence
        if source is None or source.answer_start is None or source.answer_end is None:
            return None
        around = sentences_around(source.text, source.answer_start, source.answer_end)
        sentence = source.text[around.start : around.end]
        return sentence, source.answer_start - around.start, source.answer_end - around.start

    @property
    def evidence_sentences(self) -> list[str]:
        """Every sentence the reply shows as evidence: the closest one, then its alternatives."""
        first = self.evidence_sentence
        return ([first] if first else []) + [a.sentence for a in self.alternatives]

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "no_answer": self.no_answer,
            "band": self.band,
            "score": self.score,
            "sources": [
                {
                    "document": s.document,
                    "text": s.text,
                    "score": s.score,
                    "answer_start": s.answer_start,
                    "answer_end": s.answer_end,
                    "location": s.location,
                }
                for s in self.sources
            ],
            "reader": self.reader,
            "timings_ms": dict(self.timings_ms),
            "engine": self.engine,
            "collection": self.collection,
            "alternatives": [asdict(a) for a in self.alternatives],
        }


__all__ = [
    "BANDS",
    "NONE",
    "NO_ANSWER_TEXT",
    "SURE",
    "UNSURE",
    "UNSURE_TEXT",
    "Alternative",
    "Answer",
    "Source",
    "asdict",
]
