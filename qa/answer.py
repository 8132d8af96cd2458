"""What leaves the library: small dataclasses with offsets into the passages, no Haystack types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

NO_ANSWER_TEXT = "The document doesn't say."


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


@dataclass(frozen=True)
class Answer:
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

    @property
    def display_text(self) -> str:
        return NO_ANSWER_TEXT if self.no_answer or self.text is None else self.text

    @property
    def evidence(self) -> Source | None:
        """The source passage that holds the answer, if any."""
        return next((s for s in self.sources if s.has_answer), None)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "no_answer": self.no_answer,
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
        }


__all__ = ["NO_ANSWER_TEXT", "Answer", "Source", "asdict"]
