"""Evaluation: question sets (JSONL, SQuAD), metrics, run folders and comparisons; `qa eval`.

`evaluate(assistant, questions)` is the core that the CLI, the quality gate and the baseline share.
"""

from qa.evaluation.datasets import Dataset, Question, load_dataset
from qa.evaluation.metrics import QuestionResult, Summary, summarize
from qa.evaluation.runner import EvalRun, evaluate, evaluate_dataset

__all__ = [
    "Dataset",
    "EvalRun",
    "Question",
    "QuestionResult",
    "Summary",
    "evaluate",
    "evaluate_dataset",
    "load_dataset",
    "summarize",
]
