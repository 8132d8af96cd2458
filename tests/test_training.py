"""`qa train-reader`: examples on short passages, deterministic training, a folder Haystack loads."""

import json
import math

import pytest
from click.testing import CliRunner
from haystack import Document

from qa.cli import qa
from qa.training.squad import SquadQuestion
from qa.training.train import TrainSettings, passage_examples, sentence_examples, train_reader

CONTEXT = (
    "The treaty was signed in Vienna in 1815. It ended a long war. Diplomats from five powers attended. "
    "The congress redrew the map of Europe. Its final act had 121 articles."
)


def questions() -> list[SquadQuestion]:
    start = CONTEXT.index("121 articles")
    return [
        SquadQuestion(
            "a", "Where was the treaty signed?", ["Vienna"], [CONTEXT.index("Vienna")], CONTEXT, "T"
        ),
        SquadQuestion(
            "b", "How many articles did the final act have?", ["121 articles"], [start], CONTEXT, "T"
        ),
        SquadQuestion("c", "Who won the war?", [], [], CONTEXT, "T"),
    ]


def test_examples_are_recast_onto_passages_with_answer_offsets_inside_them():
    examples = passage_examples(questions(), negatives=1.0)
    positives = [e for e in examples if e.answerable]
    assert len(positives) == 2
    for e in positives:
        assert e.context in CONTEXT and len(e.context) < len(CONTEXT)
        assert e.context[e.answer_starts[0] : e.answer_starts[0] + len(e.answers[0])] == e.answers[0]
    negatives = [e for e in examples if not e.answerable]
    assert len(negatives) == 3  # one per answerable question (negatives=1.0) and the unanswerable one
    assert all(e.answers == [] for e in negatives)


def test_sentence_examples_read_one_sentence_and_the_closest_other_sentence_as_no_answer():
    examples = sentence_examples(questions(), negatives=1)
    positives = [e for e in examples if e.answerable]
    assert [e.context for e in positives] == [
        "The treaty was signed in Vienna in 1815.",
        "Its final act had 121 articles.",
    ]
    for e in positives:
        assert e.context[e.answer_starts[0] : e.answer_starts[0] + len(e.answers[0])] == e.answers[0]
    negatives = {e.id: e.context for e in examples if not e.answerable}
    # the sentence sharing most words with the question, never the one holding the answer
    assert negatives["a/neg0"] != "The treaty was signed in Vienna in 1815."
    assert negatives["c/neg0"] == "It ended a long war."
    assert len(negatives) == 3


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    from transformers import AutoTokenizer, BertConfig, BertModel

    from index.embedding import bundled_model_path

    folder = tmp_path_factory.mktemp("tiny-base")
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64)  # fmt: skip
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def _weights(folder) -> bytes:
    return (folder / "model.safetensors").read_bytes()


def test_training_is_deterministic_with_a_seed_and_haystack_loads_the_result(tmp_path, tiny_base):
    settings = TrainSettings(epochs=2, batch_size=2, max_length=64, seed=7)
    examples = passage_examples(questions())
    train_reader(examples, tmp_path / "a", base_model=tiny_base, settings=settings)
    train_reader(examples, tmp_path / "b", base_model=tiny_base, settings=settings)
    other = TrainSettings(epochs=2, batch_size=2, max_length=64, seed=8)
    train_reader(examples, tmp_path / "c", base_model=tiny_base, settings=other)
    assert _weights(tmp_path / "a") == _weights(tmp_path / "b")
    assert _weights(tmp_path / "a") != _weights(tmp_path / "c")

    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    reader = TransformersExtractiveReader(model=str(tmp_path / "a"), no_answer=False)
    reader.warm_up()
    doc = Document(content=CONTEXT)
    answers = reader.run(query="Where was the treaty signed?", documents=[doc], top_k=1)["answers"]
    span = answers[0].document_offset
    assert CONTEXT[span.start : span.end] == answers[0].data


def write_squad(path):
    """questions() as a SQuAD 2.0 file."""
    data = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": CONTEXT, "qas": [
        {"id": q.id, "question": q.question, "is_impossible": not q.answers,
         "answers": [{"text": a, "answer_start": s} for a, s in zip(q.answers, q.answer_starts, strict=True)]}
        for q in questions()]}]}]}  # fmt: skip
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_cli_trains_from_squad_files_and_refuses_bad_data(tmp_path, tiny_base):
    path = write_squad(tmp_path / "train.json")
    out = tmp_path / "model"
    args = [
        "train-reader",
        str(path),
        "--base",
        tiny_base,
        "--out",
        str(out),
        "--epochs",
        "1",
        "--max-length",
        "64",
    ]
    result = CliRunner().invoke(qa, args)
    assert result.exit_code == 0, result.output
    assert (out / "config.json").is_file() and (out / "training.json").is_file()
    summary = json.loads((out / "training.json").read_text(encoding="utf-8"))
    # refined last on single sentences mixed with the passages, starting from the passage stage
    assert summary["questions"] > summary["passage_stage"]["questions"]
    assert summary["base_model"] == tiny_base
    # trained further from that reader: its record keeps how the base was made
    further = tmp_path / "further"
    again = [str(path), "--base", str(out), "--out", str(further), "--epochs", "1", "--sentence-epochs", "0"]
    result = CliRunner().invoke(qa, ["train-reader", *again, "--max-length", "64"])
    assert result.exit_code == 0, result.output
    record = json.loads((further / "training.json").read_text(encoding="utf-8"))
    assert record["base_model"] == str(out) and record["base_training"] == summary
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    result = CliRunner().invoke(qa, ["train-reader", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "not a SQuAD-format JSON file" in result.stderr


def test_cli_pretrains_on_cloze_questions_from_documents_first(tmp_path, tiny_base):
    data = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": CONTEXT, "qas": [
        {"id": "a", "question": "Where was the treaty signed?", "is_impossible": False,
         "answers": [{"text": "Vienna", "answer_start": CONTEXT.index("Vienna")}]}]}]}]}  # fmt: skip
    path = tmp_path / "train.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    doc = tmp_path / "notes.txt"
    doc.write_text(CONTEXT, encoding="utf-8")
    out = tmp_path / "model"
    common = ["train-reader", str(path), "--base", tiny_base, "--out", str(out), "--max-length", "64"]
    result = CliRunner().invoke(
        qa, [*common, "--epochs", "1", "--synthetic", str(doc), "--sentence-epochs", "0"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert summary["synthetic_pretraining"]["questions"] >= 2
    assert summary["base_model"] == tiny_base
    assert "passage_stage" not in summary
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    result = CliRunner().invoke(qa, [*common, "--synthetic", str(empty)])
    assert result.exit_code == 2
    assert "no readable" in result.stderr


def test_questions_too_long_for_the_window_are_left_out_instead_of_failing():
    from transformers import AutoTokenizer

    from index.embedding import bundled_model_path
    from qa.training.train import featurize

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    short, _, _ = questions()
    long = SquadQuestion("long", "Where " + "exactly " * 30 + "was it signed?", [], [], CONTEXT, "T")
    features = featurize(tokenizer, [long, short], max_length=64, stride=96)
    assert len(features) >= 1
    assert all(f["input_ids"][1 : 1 + 5] == tokenizer(short.question)["input_ids"][1:6] for f in features)


def test_sampling_keeps_every_unanswerable_question_and_gzip_files_load(tmp_path):
    import gzip

    from qa.training.squad import load_squad
    from qa.training.train import sampled

    many = [SquadQuestion(str(k), "Where?", ["Vienna"], [0], "Vienna.", "T") for k in range(10)]
    many += [SquadQuestion("n", "Who?", [], [], "Vienna.", "T")]
    kept = sampled(many, 3, seed=1)
    assert sum(q.answerable for q in kept) == 3 and kept[-1].id == "n"
    assert sampled(many, 3, seed=1) == kept  # seeded
    data = {"data": [{"title": "T", "paragraphs": [{"context": CONTEXT, "qas": [
        {"id": "a", "question": "Where was the treaty signed?",
         "answers": [{"text": "Vienna", "answer_start": CONTEXT.index("Vienna")}]}]}]}]}  # fmt: skip
    with gzip.open(tmp_path / "train.json.gz", "wt", encoding="utf-8") as f:
        json.dump(data, f)
    (loaded,) = load_squad(tmp_path / "train.json.gz")
    assert loaded.answers == ["Vienna"] and loaded.context == CONTEXT


def test_answerability_pairs_hold_the_answer_or_are_the_closest_sentences_without_it():
    from qa.training.classifier import pair_examples

    pairs = pair_examples(questions())
    by_id: dict[str, list[SquadQuestion]] = {}
    for p in pairs:
        by_id.setdefault(p.id.split("/")[0], []).append(p)
    for q in questions()[:2]:  # answerable: the answer's sentence, and one close sentence without it
        yes = [p for p in by_id[q.id] if p.answerable]
        no = [p for p in by_id[q.id] if not p.answerable]
        assert len(yes) == 1 and q.answers[0] in yes[0].context
        assert len(no) == 1 and q.answers[0] not in no[0].context
    unanswerable = by_id["c"]  # as many no-examples as an answerable question has examples
    assert len(unanswerable) == 2 and not any(p.answerable for p in unanswerable)
    assert "war" in unanswerable[0].context  # the closest sentence first


def test_cli_trains_an_answerability_classifier_the_reader_can_load(tmp_path, tiny_base):
    from transformers import AutoModelForSequenceClassification

    path = write_squad(tmp_path / "train.json")
    out = tmp_path / "classifier"
    args = ["train-answerability", str(path), "--base", tiny_base, "--out", str(out), "--epochs", "1"]
    result = CliRunner().invoke(qa, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert summary["pairs"] > summary["answering_pairs"] > 0 and summary["ran_on"].startswith("cpu")
    assert AutoModelForSequenceClassification.from_pretrained(out).config.num_labels == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(qa, ["train-answerability", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and "not a SQuAD-format JSON file" in result.stderr


def test_precision_is_bf16_only_where_the_cpu_computes_it(monkeypatch):
    from qa.training import train

    monkeypatch.setattr(train, "cpu_has_bf16", lambda: False)
    assert train.resolved_precision("auto", "cpu") == "fp32"
    assert train.resolved_precision("bf16", "cpu") == "bf16"  # asked for: the user's choice
    monkeypatch.setattr(train, "cpu_has_bf16", lambda: True)
    assert train.resolved_precision("auto", "cpu") == "bf16"
    with pytest.raises(ValueError, match="fp16"):
        train.resolved_precision("fp16", "cpu")


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_a_run_records_its_precision_and_its_loss_stays_finite(tmp_path, tiny_base, precision):
    settings = TrainSettings(epochs=3, batch_size=2, max_length=64, seed=7, precision=precision)
    summary = train_reader(passage_examples(questions()), tmp_path, base_model=tiny_base, settings=settings)
    assert summary["precision"] == precision
    assert summary["final_loss"] is not None and math.isfinite(summary["final_loss"])


@pytest.mark.slow
def test_the_shipped_stages_draws_are_reproduced_so_the_next_stage_sees_only_new_questions(lab_data):
    from qa.training.unseen import STAGES, drawn_by

    # docs/reader.md: the two issue-10 stages drew 43,493 distinct answerable questions, with the
    # third 62,857; a change to sampling or to the stage table would silently retrain on seen ones
    assert len(drawn_by(STAGES[:2], lab_data)) == 43_493
    assert len(drawn_by(STAGES[:3], lab_data)) == 62_857


@pytest.mark.slow
def test_a_further_epoch_keeps_every_unseen_question_and_as_many_seen_ones_as_asked(tmp_path, lab_data):
    from qa.training.squad import load_squad
    from qa.training.unseen import SQUAD11, STAGES, drawn_by, main

    out = tmp_path / "next.json.gz"
    main([str(out), "--after", "4", "--again", "1000", "--seed", "17", "--data", str(lab_data)])
    kept = {q.id for q in load_squad(out)}
    drawn = drawn_by(STAGES[:4], lab_data)
    unseen = {q.id for q in load_squad(lab_data / SQUAD11)} - drawn
    assert len(unseen) == 9_854  # docs/reader.md: what four stages left of SQuAD 1.1
    assert unseen <= kept and len(kept & drawn) == 1000


def test_a_negative_again_count_is_one_usage_line(tmp_path, capsys):
    from qa.training.unseen import main

    with pytest.raises(SystemExit):
        main([str(tmp_path / "next.json.gz"), "--again", "-3"])
    assert "--again -3: give how many drawn questions to keep again, 0 or more" in capsys.readouterr().err
    assert not (tmp_path / "next.json.gz").exists()


def test_without_the_lab_data_the_unseen_set_says_where_to_point_it(tmp_path, capsys, monkeypatch):
    """A user's clone has no SQuAD beside it: one usage line, never a FileNotFoundError."""
    from qa.training.unseen import main

    monkeypatch.delenv("QA_LAB_DATA", raising=False)
    with pytest.raises(SystemExit):
        main([str(tmp_path / "next.json.gz")])
    err = capsys.readouterr().err
    assert "squad11-train.json.gz" in err and "--data DIR" in err
    assert not (tmp_path / "next.json.gz").exists()
