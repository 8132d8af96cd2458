"""Evaluation core: SQuAD scoring, abstention and retrieval metrics on hand-made cases, dataset
detection, and `evaluate` with the fake assistant (hash embedder, word-overlap reader)."""

import json
from pathlib import Path

import pytest

from conftest import DATA
from qa.errors import BadInputError
from qa.evaluation import evaluate, evaluate_dataset, load_dataset
from qa.evaluation.datasets import JSONL, SQUAD
from qa.evaluation.metrics import QuestionResult, gold_rank, score_answer, summarize

ARTICLE_SET = DATA / "article_questions.jsonl"


def squad_file(folder: Path) -> Path:
    """Two articles, three paragraphs, five questions (two unanswerable), SQuAD 2.0 format."""
    data = {
        "version": "v2.0",
        "data": [
            {
                "title": "Normans",
                "paragraphs": [
                    {
                        "context": "The Normans gave their name to Normandy, a region in France. "
                        "They were descended from Norse raiders.",
                        "qas": [
                            {"id": "n1", "question": "In what country is Normandy located?",
                             "answers": [{"text": "France", "answer_start": 55}], "is_impossible": False},
                            {"id": "n2", "question": "Who gave their name to Iceland?",
                             "answers": [], "is_impossible": True,
                             "plausible_answers": [{"text": "Normans", "answer_start": 4}]},
                        ],
                    },
                    {
                        "context": "Rollo was the first ruler of Normandy. "
                        "He agreed to defend the river Seine.",
                        "qas": [
                            {"id": "n3", "question": "Which river did Rollo agree to defend?",
                             "answers": [{"text": "the river Seine", "answer_start": 59},
                                         {"text": "Seine", "answer_start": 69}]},
                        ],
                    },
                ],
            },
            {
                "title": "Amazon rainforest",
                "paragraphs": [
                    {
                        "context": "The Amazon rainforest covers most of the Amazon basin of South America.",
                        "qas": [
                            {"id": "a1", "question": "What does the Amazon rainforest cover?",
                             "answers": [{"text": "most of the Amazon basin", "answer_start": 29}]},
                            {"id": "a2", "question": "How old is the Amazon rainforest?", "answers": [],
                             "is_impossible": True},
                        ],
                    }
                ],
            },
        ],
    }  # fmt: skip
    path = folder / "tiny-squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---- scoring ---------------------------------------------------------------------------------


def test_exact_match_uses_squad_normalisation_and_the_best_gold():
    assert score_answer("The Wang Yi.", ["Wang Yi"]) == (1.0, 1.0)
    em, f1 = score_answer("Wang", ["Sergei Lavrov", "Wang Yi"])
    assert em == 0.0 and f1 == pytest.approx(2 / 3)  # precision 1, recall 1/2


def test_abstaining_is_right_only_when_there_is_no_answer():
    assert score_answer(None, []) == (1.0, 1.0)
    assert score_answer("Paris", []) == (0.0, 0.0)
    assert score_answer(None, ["Paris"]) == (0.0, 0.0)
    # golds that normalise to nothing are dropped, as in the official script
    assert score_answer(None, ["the", "."]) == (1.0, 1.0)


def test_gold_rank_is_the_first_passage_holding_an_answer_on_word_boundaries():
    passages = ["Yields rose sharply.", "Nothing here.", "Foreign minister Wang Yi spoke.", "Wang Yi again."]
    assert gold_rank(passages, ["Wang Yi"]) == 3
    assert gold_rank(passages[:2], ["Wang Yi"]) == 0  # "yi" is not found inside "Yields"
    assert gold_rank(["THE EUROPEAN UNION, and others"], ["the European Union"]) == 1


def result(qid, gold, predicted, rank, latency=10.0, kind="who", score=0.5):
    em, f1 = score_answer(predicted, gold)
    return QuestionResult(qid, f"question {qid}", kind, gold, predicted, score, em, f1, rank, latency)


def test_summary_splits_has_answer_and_no_answer_and_scores_abstention_and_retrieval():
    results = [
        result("a", ["Wang Yi"], "Wang Yi", 1, latency=10, score=0.9),  # right
        result("b", ["Wang Yi"], "Wang", 3, latency=20, score=0.6),  # partial, F1 2/3
        result("c", ["Lavrov"], None, 0, latency=30, score=0.1),  # abstained on an answerable question
        result("d", [], None, None, latency=40, kind="unanswerable", score=0.2),  # rightly abstained
        result("e", [], "Paris", None, latency=50, kind="unanswerable", score=0.6),  # should have abstained
    ]
    s = summarize(results)
    assert s.overall == {
        "count": 5,
        "exact_match": 40.0,
        "f1": pytest.approx(100 * (1 + 2 / 3 + 1) / 5, 0.01),
    }
    assert s.has_answer == {"count": 3, "exact_match": 33.33, "f1": pytest.approx(100 * (5 / 3) / 3, 0.01)}
    assert s.no_answer == {"count": 2, "exact_match": 50.0, "f1": 50.0}
    assert s.abstention == {
        "abstained": 2,
        "precision": 50.0,  # of c and d, only d had no answer
        "recall": 50.0,
        "no_answer_accuracy": 50.0,
        "has_answer_abstention_rate": 33.33,
        # answerable scores 0.9, 0.6, 0.1 against 0.2, 0.6: pairs won 2 + 0.5 + 0 + 1 + 0 of 6
        "answerability_auc": round(3.5 / 6, 4),
    }
    # ranks 1, 3, not found: R@1 1/3, R@3 2/3, R@5 2/3, MRR (1 + 1/3 + 0) / 3
    assert s.retrieval == {"recall@1": 33.33, "recall@3": 66.67, "recall@5": 66.67, "mrr": 0.4444, "count": 3}
    assert s.latency_ms["p50"] == 30.0
    assert s.latency_ms["p95"] == pytest.approx(48.0)
    assert s.by_type["unanswerable"] == {"count": 2, "exact_match": 50.0, "f1": 50.0}


def test_summary_has_no_retrieval_block_when_ranks_are_not_measured():
    assert summarize([result("a", ["x"], "x", None)]).retrieval is None


# ---- datasets --------------------------------------------------------------------------------


def test_the_article_set_is_detected_as_jsonl_with_types_and_history():
    data = load_dataset(ARTICLE_SET)
    assert data.format == JSONL and len(data.questions) == 95
    assert sum(not q.answerable for q in data.questions) == 16
    followup = next(q for q in data.questions if q.id == "q081")
    assert followup.kind == "followup" and followup.history[0]["content"] == "Who is Meng Wanzhou?"


def test_squad_is_detected_by_content_and_its_paragraphs_become_the_corpus(tmp_path):
    path = squad_file(tmp_path)
    renamed = path.rename(tmp_path / "questions.jsonl")  # the name does not decide the format
    data = load_dataset(renamed)
    assert data.format == SQUAD
    assert [q.id for q in data.questions] == ["n1", "n2", "n3", "a1", "a2"]
    assert len(data.paragraphs) == 3
    n2 = data.questions[1]
    assert n2.answers == [] and n2.kind == "unanswerable"  # plausible answers are not answers
    assert data.questions[2].answers == ["the river Seine", "Seine"] and data.questions[2].kind == "which"
    limited = data.limited(2)
    assert len(limited.questions) == 2 and {p.title for p in limited.paragraphs} == {"Normans"}


def test_a_one_line_jsonl_file_is_not_mistaken_for_squad(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text('{"id": "x", "question": "Who?", "answers": []}\n', encoding="utf-8")
    data = load_dataset(path)
    assert data.format == JSONL and data.questions[0].answerable is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ('{"id": "a", "question": "Who?", "answers": []}\nnot json\n', "line 2: not JSON"),
        ("[1, 2, 3]", "holds one JSON list"),
        ('{"id": "a", "question": "Who?"}', 'missing "answers"'),
        ('{"id": "a", "question": "Who?", "answers": "Wang"}', "list of strings"),
        ('{"id": "a", "question": "Who?", "answers": ["x"], "unanswerable": true}', "unanswerable"),
        (
            '{"id": "a", "question": "A?", "answers": []}\n{"id": "a", "question": "B?", "answers": []}',
            "twice",
        ),
        ('{"data": [{"title": "t", "paragraphs": [{"qas": []}]}]}', "data[0].paragraphs[0]"),
        ('{"data": {"title": "t"}}', "list of articles"),
    ],
)
def test_bad_datasets_say_where_and_what_is_expected(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInputError, match="use JSONL") as info:
        load_dataset(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# ---- evaluate --------------------------------------------------------------------------------


def test_evaluate_scores_every_question_and_measures_the_gold_passage(fake_assistant):
    questions = [q for q in load_dataset(ARTICLE_SET).questions if q.id in {"q001", "q066", "q081"}]
    progress = []
    run = evaluate(fake_assistant, questions, progress=lambda done, total: progress.append((done, total)))
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert run.reader == "offline:word-overlap" and run.mode == "retrieval"
    by_id = {r.id: r for r in run.results}
    q001 = by_id["q001"]
    assert "10 Europeans and four institutions" in q001.predicted  # the overlap reader answers a sentence
    assert q001.gold_rank == 1 and 0 < q001.f1 < 1 and q001.exact_match == 0
    assert by_id["q066"].gold_rank is None  # no gold passage for an unanswerable question
    assert by_id["q081"].history_turns == 2 and "Meng Wanzhou" in by_id["q081"].rewritten_question
    assert run.summary.overall["count"] == 3
    assert run.settings["embedding_model"] == "hash"


def test_squad_is_asked_over_a_temporary_index_and_leaves_the_users_index_alone(fake_assistant, tmp_path):
    data = load_dataset(squad_file(tmp_path))
    run = evaluate_dataset(fake_assistant, data)
    assert not fake_assistant.index_dir.exists()  # nothing indexed into the user's index
    assert run.format == SQUAD and run.corpus["paragraphs"] == 3 and run.corpus["articles"] == 2
    assert run.summary.retrieval is not None and run.summary.retrieval["count"] == 3
    seine = next(r for r in run.results if r.id == "n3")
    assert seine.gold_rank == 1 and "Seine" in seine.predicted


def test_reader_only_reads_the_gold_paragraph_without_retrieval(fake_assistant, tmp_path):
    run = evaluate_dataset(fake_assistant, load_dataset(squad_file(tmp_path)), reader_only=True)
    assert run.mode == "reader-only" and run.summary.retrieval is None
    assert not fake_assistant.index_dir.exists()
    n3 = next(r for r in run.results if r.id == "n3")
    assert n3.predicted == "He agreed to defend the river Seine."  # the overlap reader picks a sentence
    assert n3.f1 == 0.5  # "river seine" in 6 words: precision 1/3, recall 1


def test_reader_only_refuses_a_question_set_without_paragraphs(fake_assistant):
    with pytest.raises(BadInputError, match="reader-only needs the gold paragraphs"):
        evaluate_dataset(fake_assistant, load_dataset(ARTICLE_SET), reader_only=True)
