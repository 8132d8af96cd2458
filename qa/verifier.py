"""A second opinion on each candidate span: a small classifier reads the question and the candidate's
sentence with the span marked ("... deposit of « £250 » is taken ...") and says how likely that span
answers the question. Its logit is one of the band model's signals (qa/bands.py, "verifier").

One is trained on the reader's own candidates (`python -m qa.training.verifier`): questions asked
through the product over synthetic documents of the kinds users keep, each candidate labelled right
or wrong against the gold answer, so that it learns the reader's mistakes. It goes beside the reader
it was trained on, in `<reader folder>/verifier/`, and runs on the engine index/engines.py picks.
None ships: the one trained so far answered more questions sure but lowered the held-out sure
precision and the answers in view (docs/reader.md), so the bundled reader has no `verifier/`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.engines import padded

FOLDER = "verifier"  # inside the reader's folder
OPEN, CLOSE = "« ", " »"
MAX_TOKENS = 64  # as trained: question and marked sentence together


def marked(sentence: str, start: int, end: int) -> str:
    """`sentence` with the span at [start, end) between « and »."""
    return f"{sentence[:start]}{OPEN}{sentence[start:end]}{CLOSE}{sentence[end:]}"


class Verifier:
    """The classifier in `folder` (tokenizer.json and a sequence-classification model with one logit)."""

    def __init__(self, folder: str | Path, max_tokens: int = MAX_TOKENS) -> None:
        self.folder, self.max_tokens = str(folder), max_tokens
        self.tokenizer: Any = None
        self.encoder: Any = None

    def warm_up(self) -> None:
        if self.encoder is not None:
            return
        from tokenizers import Tokenizer

        from index.engines import load_encoder

        tokenizer = Tokenizer.from_file(str(Path(self.folder) / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_tokens, strategy="longest_first")
        self.tokenizer, self.encoder = tokenizer, load_encoder(self.folder, "classify")

    def logits(self, question: str, quotes: Sequence[tuple[str, int, int]]) -> list[float]:
        """One logit for each (sentence, start, end): higher, more likely the span answers `question`."""
        if not quotes:
            return []
        self.warm_up()
        encodings = self.tokenizer.encode_batch([(question, marked(*q)) for q in quotes])
        return [float(x) for x in self.encoder.run(*padded(encodings))[0][:, 0]]


def load(reader_folder: str | Path | None) -> Verifier | None:
    """The verifier beside a reader, or None when it has none."""
    if reader_folder is None:
        return None
    folder = Path(reader_folder) / FOLDER
    return Verifier(folder) if (folder / "tokenizer.json").is_file() else None
