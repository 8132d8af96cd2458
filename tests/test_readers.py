"""Reader choice, and the hub reader path (TransformersExtractiveReader) on a tiny local model."""

from pathlib import Path

import pytest

from conftest import ARTICLE, EXAMPLE_QUESTION, write_config
from qa import Assistant
from qa.errors import ConfigError


def hash_config(tmp_path: Path, **settings) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    (seeds / ARTICLE.name).write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    return write_config(
        tmp_path, embedding_model="hash", index_dir=str(tmp_path / "index"), seeds_dir=str(seeds), **settings
    )


def test_extractive_reader_answers_with_an_exact_span_of_a_passage(tmp_path, tiny_qa_model):
    config = hash_config(tmp_path, reader="extractive", extractive_model=str(tiny_qa_model),
                         no_answer_threshold=0.0)  # fmt: skip
    answer = Assistant.from_config(config).ask(EXAMPLE_QUESTION)
    assert answer.reader == f"extractive:{tiny_qa_model}"
    assert not answer.no_answer and answer.text
    evidence = answer.evidence
    assert evidence is not None
    assert evidence.text[evidence.answer_start : evidence.answer_end] == answer.text
    assert 0.0 <= answer.score <= 1.0


def test_a_high_threshold_makes_it_abstain_honestly(tmp_path, tiny_qa_model):
    config = hash_config(tmp_path, reader="extractive", extractive_model=str(tiny_qa_model),
                         no_answer_threshold=1.0)  # fmt: skip
    answer = Assistant.from_config(config).ask(EXAMPLE_QUESTION)
    assert answer.no_answer and answer.text is None
    assert answer.display_text == "The document doesn't say."
    assert answer.evidence is None and answer.sources  # the closest passages are still shown
    assert answer.to_dict()["answer"] is None


def test_auto_uses_a_cached_or_local_hub_model(tmp_path, tiny_qa_model):
    config = hash_config(tmp_path, reader="auto", extractive_model=str(tiny_qa_model))
    assert Assistant.from_config(config).reader == f"extractive:{tiny_qa_model}"


def test_auto_falls_back_to_offline_without_touching_the_network(tmp_path, monkeypatch):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(huggingface_hub, "model_info", lambda *a, **k: calls.append(a))
    config = hash_config(tmp_path, reader="auto", extractive_model="deepset/roberta-base-squad2")
    assert Assistant.from_config(config).reader.startswith("offline:")
    assert calls == []


def test_offline_model_must_exist(tmp_path):
    config = hash_config(tmp_path, reader="offline", offline_model=str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="offline_model"):
        _ = Assistant.from_config(config).reader


@pytest.mark.slow
def test_the_sentence_picker_finds_a_paraphrase_by_meaning_when_words_tie():
    """Both sentences share one word with the question; only the meaning says which one answers."""
    from haystack import Document

    from qa.readers import BUNDLED_READER, SentenceSpanReader

    passage = "The mayor opened the bridge on Friday. The bridge cost 40 million euros to build."
    question = "How expensive was the bridge?"
    docs = [Document(content=passage)]
    by_words = SentenceSpanReader(model=str(BUNDLED_READER), sentences=1)
    by_meaning = SentenceSpanReader(
        model=str(BUNDLED_READER), sentences=1, embedding_model="bundled", dense_weight=1.0
    )
    assert "40 million" not in by_words._pick(question, docs)[0].data
    assert "40 million" in by_meaning._pick(question, docs)[0].data
    by_meaning.warm_up()
    answer = by_meaning.run(query=question, documents=docs, top_k=1)["answers"][0]
    assert answer.data.startswith("40 million")
    assert passage[answer.document_offset.start : answer.document_offset.end] == answer.data
