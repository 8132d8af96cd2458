"""Pipeline steps are Haystack components whose settings survive to_dict/from_dict."""

import pytest
from haystack import Document, Pipeline

from index.embedding import (
    BundledDocumentEmbedder,
    BundledTextEmbedder,
    HashDocumentEmbedder,
    HashTextEmbedder,
    hash_vector,
)
from index.stores import IndexSpec
from index.stores.faiss import PassageIndex
from qa.readers import OverlapReader, SentenceSpanReader
from qa.retrieval import HybridRetriever


@pytest.mark.parametrize(
    "component",
    [HybridRetriever(top_k=3, candidates=7), OverlapReader(top_k=2), HashTextEmbedder(dim=16),
     HashDocumentEmbedder(dim=16), BundledTextEmbedder(), BundledDocumentEmbedder(batch_size=8),
     SentenceSpanReader(model="some/model", sentences=1, embedding_model="hash", dense_weight=0.5,
                        sentence_weight=0.3)],
)  # fmt: skip
def test_to_dict_round_trip(component):
    data = component.to_dict()
    again = type(component).from_dict(data)
    assert again.to_dict() == data
    assert data["init_parameters"]


def test_pipeline_serialises_and_the_retriever_fuses_keyword_and_dense_hits():
    texts = ["The cat sat on the mat.", "Stocks fell sharply on Monday.", "A dog chased the cat."]
    docs = [Document(content=t, meta={"document": "d.txt", "start": 0, "end": len(t)}) for t in texts]
    docs = HashDocumentEmbedder().run(documents=docs)["documents"]
    spec = IndexSpec("hash", 64, 3, 1, 600)
    retriever = HybridRetriever(top_k=2, candidates=3)
    retriever.use(PassageIndex(spec, docs, {"d.txt": "x"}))
    pipe = Pipeline()
    pipe.add_component("embedder", HashTextEmbedder())
    pipe.add_component("retriever", retriever)
    pipe.connect("embedder.embedding", "retriever.query_embedding")
    assert Pipeline.from_dict(pipe.to_dict(), allowed_modules=["index", "qa"]).to_dict() == pipe.to_dict()
    out = pipe.run(
        {"embedder": {"text": "the cat sat on the mat"}, "retriever": {"query": "the cat sat on the mat"}}
    )
    found = out["retriever"]["documents"]
    assert found[0].content == "The cat sat on the mat."
    assert len(found) == 2
    assert found[0].score == pytest.approx(1.0)  # ranked first by both retrievers
    assert found[0].meta["dense_score"] == pytest.approx(
        sum(a * b for a, b in zip(hash_vector("the cat sat on the mat"), hash_vector(texts[0]), strict=True)),
        abs=1e-5,
    )


def test_overlap_reader_returns_exact_sentence_spans():
    doc = Document(content="Paris is big. The treaty was signed in Vienna. It rained.")
    answers = OverlapReader().run(query="Where was the treaty signed?", documents=[doc])["answers"]
    best = answers[0]
    assert best.data == "The treaty was signed in Vienna."
    assert doc.content[best.document_offset.start : best.document_offset.end] == best.data


def test_sentence_picker_breaks_a_word_tie_by_how_close_each_passage_is_to_the_question():
    first = Document(content="Sanctions on China were discussed. It rained.", meta={"dense_score": 0.2})
    second = Document(content="China put sanctions on ten people.", meta={"dense_score": 0.6})
    question = "Who did China put sanctions on?"
    by_words = SentenceSpanReader(model="unused", sentences=1)
    assert by_words._pick(question, [first, second])[0].data == "China put sanctions on ten people."
    tied = "Who got sanctions from China?"  # two shared words each: retrieval order decides
    assert by_words._pick(tied, [first, second])[0].document is first
    with_passages = SentenceSpanReader(model="unused", sentences=1, passage_weight=1.0)
    assert with_passages._pick(tied, [first, second])[0].document is second


def test_sentence_picker_reads_a_sentence_that_overlapping_passages_share_once():
    shared = "China put sanctions on ten people."
    first = Document(content=f"It rained. {shared}")
    second = Document(content=f"{shared} Beijing said so.")
    picked = SentenceSpanReader(model="unused", sentences=2)._pick(
        "Who did China put sanctions on?", [first, second]
    )
    assert [a.data for a in picked] == [shared]  # not twice: the other sentences share no word
