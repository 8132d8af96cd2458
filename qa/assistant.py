"""The one front door: `Assistant.from_config()`, `.index()`, `.ask()`.

The CLI, the chat and the evaluation all go through this class, so there is one way from a question
to an answer: a Haystack pipeline `embedder -> HybridRetriever -> reader`, then the answerability
decision that turns the reader's best span into an `Answer` or an honest abstention.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from haystack import Pipeline

from index.embedding import embedding_dim, model_identity, text_embedder
from index.indexer import Indexer, IndexReport
from index.stores import IndexSpec, IndexView, PassageStore
from qa import verifier
from qa.answer import NONE, UNSURE, Alternative, Answer, Source
from qa.answerability import Calibrator, signals
from qa.bands import BandModel, alternatives, candidates
from qa.collections import Shelf, Slot
from qa.config import Settings, load_settings
from qa.errors import BadInputError, IndexMissingError
from qa.followup import resolve_followup
from qa.readers import ReaderChoice, build_reader, choose_reader, engine_name
from qa.retrieval import HybridRetriever
from qa.rights import DEFAULT_COLLECTION, Access, Caller, CollectionInfo, check_name
from qa.users import Users

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone half of a UTF-16 pair ("\\ud800" in JSON)
MAX_HISTORY_MESSAGES = 20  # a follow-up looks at the last turns only


class Assistant:
    """Answers questions about the indexed documents. Thread-safe: questions run concurrently,
    index changes are serialised and swapped in atomically.

    The documents are kept in collections (qa/collections.py), each call acting on `collection`
    (default: this assistant's) for a `caller` (default: `Caller.LOCAL`, the machine's operator):
    what the caller may not read is answered as missing (qa/rights.py)."""

    DEFAULT_COLLECTION = DEFAULT_COLLECTION

    def __init__(self, settings: Settings, collection: str = DEFAULT_COLLECTION) -> None:
        self.settings = settings
        self.spec = IndexSpec(
            embedding_model=model_identity(settings.embedding_model),
            embedding_dim=embedding_dim(settings.embedding_model),
            max_sentences=settings.splitter.max_sentences,
            overlap=settings.splitter.overlap,
            max_chars=settings.splitter.max_chars,
        )
        self.collection = check_name(collection)  # the collection of calls that name none
        self._shelf = Shelf(settings, self.spec)
        self.users = Users(self._shelf)
        self._load_lock = threading.Lock()
        self._pipeline: Pipeline | None = None
        self._retriever: HybridRetriever | None = None
        self._choice: ReaderChoice | None = None
        self._calibrator: Calibrator | None = None
        self._bands: BandModel | None = None
        self._verifier: verifier.Verifier | None = None  # a second opinion on each candidate
        self._indexer: Indexer | None = None

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_config(
        cls, path: str | Path | None = None, index_dir: str | Path | None = None, *,
        collection: str | None = None, **overrides: Any,
    ) -> Assistant:  # fmt: skip
        """Settings from `path` (else $QA_CONFIG, else config/default.yaml); `index_dir` and keyword
        overrides (any Settings field) win over the file; `collection`: the default of its calls."""
        settings = load_settings(path)
        if index_dir is not None:
            overrides["index_dir"] = Path(index_dir)
        if overrides:
            settings = settings.with_overrides(**overrides)
        return cls(settings, DEFAULT_COLLECTION if collection is None else collection)

    @property
    def index_dir(self) -> Path:
        return Path(self.settings.index_dir)

    @property
    def reader(self) -> str:
        """Which reader answers (e.g. "offline:minilm-squad2 (bundled)")."""
        if self._choice is None:
            self._choice = choose_reader(self.settings)
        return self._choice.name

    @property
    def engine(self) -> str:
        """What runs the models (e.g. "onnx", or "embedder onnx, reader torch-fp32"; index/engines.py)."""
        pipe = self._get_pipeline()
        return engine_name(pipe.get_component("embedder"), pipe.get_component("reader"))

    # ---- the index ----------------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        """The answer probability from which an answer is given as sure (configured, else the one
        calibrated with the reader's bands; below it the reply is "not sure" or "doesn't say")."""
        self._get_pipeline()
        assert self._bands is not None
        return self._bands.sure

    @property
    def store(self) -> PassageStore:
        """Where the passages live (`store` and `index_type` in the settings)."""
        return self._shelf.slot(self.collection).store

    def has_index(self) -> bool:
        """Whether an index exists (else the first question builds one from the seeds)."""
        slot = self._shelf.slot(self.collection)
        return slot.view is not None or slot.store.exists()

    def _get_indexer(self) -> Indexer:
        if self._indexer is None:
            self._indexer = Indexer(self.spec, self.settings.embedding_model)
        return self._indexer

    def _loaded(self, slot: Slot) -> IndexView | None:
        """The collection's current index; the default collection is built from the seeds on first use."""
        return slot.loaded(lambda: self._seed(slot) if slot.name == DEFAULT_COLLECTION else None)

    def _seed(self, slot: Slot) -> None:
        seeds = self.settings.seeds_dir
        logger.info("no index at %s; building it from %s", slot.store.where, seeds)
        if not Path(seeds).exists():
            raise IndexMissingError(f"no index at {slot.store.where} and no {seeds}; run `qa index PATHS`")
        slot.build(self._get_indexer(), [seeds])

    def index(
        self, paths: Iterable[str | Path], *, rebuild: bool = False, progress: Progress | None = None,
        collection: str | None = None, caller: Caller | None = None,
    ) -> IndexReport:  # fmt: skip
        """Add (or replace, by file name) the documents under `paths`; `rebuild` starts from nothing.
        The new version is written beside the old one and swapped in atomically."""
        slot = self._shelf.decide(collection, caller, "write", self.collection)
        return slot.build(self._get_indexer(), list(paths), rebuild=rebuild, progress=progress)

    def remove(
        self, name: str, *, collection: str | None = None, caller: Caller | None = None
    ) -> IndexReport:
        """Remove the document `name` from the index (a new version, swapped in)."""
        slot = self._shelf.decide(collection, caller, "write", self.collection)
        if self._loaded(slot) is None:
            raise BadInputError(f"{name}: no such document in the index; see the document list")
        return slot.remove(name)

    def documents(self, *, collection: str | None = None, caller: Caller | None = None) -> dict[str, int]:
        """Indexed document names with their passage counts."""
        view = self._loaded(self._shelf.decide(collection, caller, "read", self.collection))
        return view.document_counts() if view is not None else {}

    # ---- collections and users (qa/collections.py, qa/users.py, qa/rights.py) ----------------
    def collections(self, caller: Caller | None = None) -> list[CollectionInfo]:
        """The collections `caller` may read, the default first."""
        return self._shelf.infos(caller)

    def create_collection(
        self, name: str, *, caller: Caller | None = None, access: Access = "private", owner: str | None = None
    ) -> CollectionInfo:
        """A new, empty collection owned by `caller` (the operator may name an `owner`); `access`
        "read" or "write" shares it with everyone at once."""
        return self._shelf.create(name, caller=caller, access=access, owner=owner)

    def delete_collection(self, name: str, *, caller: Caller | None = None) -> None:
        """Delete a collection and its documents for good (its owner or the operator only)."""
        self._shelf.delete(name, caller=caller)
        if self._retriever is not None:
            self._retriever.forget(name)

    def share_collection(
        self, name: str, with_: str, *, write: bool = False, caller: Caller | None = None
    ) -> CollectionInfo:
        """Let `with_` (a user name or "everyone") read the collection, and change it if `write`."""
        return self._shelf.share(name, with_, write=write, caller=caller)

    def unshare_collection(self, name: str, with_: str, *, caller: Caller | None = None) -> CollectionInfo:
        return self._shelf.unshare(name, with_, caller=caller)

    # ---- answering ----------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the index and the models now rather than on the first question."""
        self._get_pipeline()
        self._loaded(self._shelf.slot(self.collection))

    def _get_pipeline(self) -> Pipeline:
        """The pipeline with warmed-up models; the retriever gets the index when it is loaded."""
        if self._pipeline is None:
            with self._load_lock:
                if self._pipeline is None:
                    self.reader  # noqa: B018 - resolves the reader choice
                    assert self._choice is not None
                    top_k = self.settings.retrieval.top_k
                    retriever = HybridRetriever(top_k=top_k, candidates=self.settings.retrieval.candidates)
                    pipe = Pipeline()
                    pipe.add_component("embedder", text_embedder(self.settings.embedding_model))
                    pipe.add_component("retriever", retriever)
                    pipe.add_component("reader", build_reader(self._choice, self.settings))
                    pipe.connect("embedder.embedding", "retriever.query_embedding")
                    pipe.connect("retriever.documents", "reader.documents")
                    pipe.warm_up()
                    default = self.settings.no_answer_threshold
                    model_dir = self._choice.model if Path(self._choice.model).is_dir() else None
                    calibrator = Calibrator.load(model_dir, default if default is not None else 0.5)
                    if default is not None:
                        calibrator = replace(calibrator, threshold=default)
                    self._calibrator = calibrator
                    bands = BandModel.load(model_dir if self.settings.bands else None, calibrator.threshold)
                    self._bands = bands if default is None else replace(bands, sure=default)
                    # the reader's verifier, when it has one (its signal is fitted into bands.json)
                    self._verifier = verifier.load(model_dir) if self.settings.bands else None
                    if self._verifier is not None:
                        self._verifier.warm_up()
                    self._retriever = retriever
                    self._pipeline = pipe
        return self._pipeline

    def check_question(self, question: Any) -> str:
        if not isinstance(question, str):
            raise BadInputError(f"the question must be text, got {type(question).__name__}; send a string")
        question = _valid_text(question).strip()
        if not question:
            raise BadInputError("the question is empty; type a question about the documents")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise BadInputError(f"the question is {len(question)} characters long; keep it under {limit}")
        return question

    def check_history(self, history: Any) -> list[dict]:
        """The conversation as follow-ups use it, bounded: the last MAX_HISTORY_MESSAGES messages, each
        cut to `max_question_chars`, so a long or huge history cannot make a long search."""
        if history is None:
            return []
        if not isinstance(history, list):
            raise BadInputError("history must be a list of {'role', 'content'} messages, oldest first")
        limit = self.settings.max_question_chars
        kept = []
        for message in history[-MAX_HISTORY_MESSAGES:]:
            if not isinstance(message, dict) or not isinstance(message.get("content"), str):
                raise BadInputError(
                    "each history message must be {'role': 'user' | 'assistant', 'content': str}"
                )
            kept.append({"role": message.get("role"), "content": _valid_text(message["content"][:limit])})
        return kept

    def _reader_query(self, query: str) -> str:
        """`query` as the reader reads it: cut to the reader's question budget in tokens (its
        max_seq_length less the stride it keeps for the passage and its special tokens), so a long
        question, or a short one in a script of many tokens per character, never leaves the passage
        no room (the tokenizer's "Truncation error"). Retrieval still searches with all of it."""
        reader: Any = self._get_pipeline().get_component("reader")
        inner = getattr(reader, "spans", reader)  # SentenceSpanReader reads with its own span model
        if hasattr(inner, "fit_question"):
            return str(inner.fit_question(query))
        tokenizer = getattr(inner, "tokenizer", None)
        if tokenizer is None:  # the word-overlap reader has no token limit
            return query
        budget = inner.max_seq_length - inner.stride - tokenizer.num_special_tokens_to_add(pair=True)
        spans = tokenizer(
            query, add_special_tokens=False, return_offsets_mapping=True, truncation=True,
            max_length=budget + 1,
        )["offset_mapping"]  # fmt: skip
        return query if len(spans) <= budget else query[: spans[budget - 1][1]].rstrip()

    def read(self, question: str, passages: list[str], document: str = "passage") -> Answer:
        """Reader only: answer `question` from the given passages (no retrieval), e.g. a gold paragraph."""
        from haystack import Document

        question = self.check_question(question)
        started = time.perf_counter()
        reader = self._get_pipeline().get_component("reader")
        docs = [
            Document(content=text, meta={"document": document, "start": 0, "passage": i}, score=1.0)
            for i, text in enumerate(passages)
        ]
        fitted = self._reader_query(question)
        reading = time.perf_counter()
        out = reader.run(query=fitted, documents=docs, top_k=len(docs) or 1)
        stages = {"embed": 0.0, "read": float(out.get("read_ms", (time.perf_counter() - reading) * 1000))}
        return self._decide(question, question, docs, out["answers"], started, retrieve_ms=0.0, stages=stages)

    def ask(
        self, question: str, history: list[dict] | None = None, *, top_k: int | None = None,
        collection: str | None = None, caller: Caller | None = None,
    ) -> Answer:  # fmt: skip
        """Answer `question`; `history` is the conversation so far ([{"role", "content"}], oldest first)."""
        started = time.perf_counter()
        slot = self._shelf.decide(collection, caller, "read", self.collection)
        question = self.check_question(question)
        if top_k is not None and top_k < 1:
            raise BadInputError(f"top_k must be 1 or more, got {top_k}")
        query = resolve_followup(question, self.check_history(history), self.settings.followups)
        loading = time.perf_counter()
        pipe = self._get_pipeline()
        index = self._loaded(slot)
        load_ms = (time.perf_counter() - loading) * 1000
        assert self._retriever is not None
        if index is None:  # nothing in the collection (yet, or any more)
            self._retriever.forget(slot.name)
        elif self._retriever.indexes.get(slot.name) is not index:  # a new version
            self._retriever.use(index, slot.name)
        k = top_k or self.settings.retrieval.top_k
        running = time.perf_counter()
        result = pipe.run(
            {
                "embedder": {"text": query},
                "retriever": {"query": query, "top_k": k, "collection": slot.name},
                "reader": {"query": self._reader_query(query), "top_k": k},
            },
            include_outputs_from={"retriever"},
        )
        stages = _stage_times(result, (time.perf_counter() - running) * 1000)
        return self._decide(
            question,
            query,
            result["retriever"]["documents"],
            result["reader"]["answers"],
            started,
            retrieve_ms=float(result["retriever"].get("retrieve_ms", 0.0)),
            load_ms=load_ms,
            collection=slot.name,
            stages=stages,
        )

    def _decide(
        self,
        question: str,
        query: str,
        passages: list,
        answers: list,
        started: float,
        *,
        retrieve_ms: float,
        load_ms: float = 0.0,
        collection: str = DEFAULT_COLLECTION,
        stages: dict[str, float] | None = None,
    ) -> Answer:
        """The reply's band, its best span and the sources (qa/bands.py): the reader's candidates
        rated, the best given as sure, as "not sure" with its sentence, or "doesn't say".
        `stages`: the embed and read milliseconds of the pipeline run (`_stage_times`)."""
        deciding = time.perf_counter()
        assert self._calibrator is not None and self._choice is not None and self._bands is not None
        reader: Any = self._get_pipeline().get_component("reader")
        factor = float(getattr(getattr(reader, "spans", None), "calibration_factor", 1.0))
        found = candidates(query, answers, factor, self._verifier)
        readings = [
            signals(
                c.answer.score, c.answer.document.meta, query, c.answer.document.content or "", c.answer.meta
            )
            for c in found
        ]
        rated = self._bands.rate(found, [self._calibrator.probability(r) for r in readings])
        best = rated[0] if rated else None
        probability = best.probability if best else 0.0
        by_answer = {id(c.answer): r for c, r in zip(found, readings, strict=True)}
        seen = by_answer[id(best.answer)] if best else {}
        closeness = max((float(a.meta.get("sentence_score", 0.0)) for a in answers if a.meta), default=0.0)
        band = self._bands.band(probability, closeness) if best else NONE
        top = best.answer if best is not None and band != NONE else None
        span = top.document_offset if top is not None else None
        sources = []
        for doc in passages:
            hit = span is not None and top is not None and top.document.id == doc.id
            sources.append(
                Source(
                    document=doc.meta["document"],
                    text=doc.content or "",
                    score=round(float(doc.score or 0.0), 4),
                    answer_start=span.start if hit and span else None,
                    answer_end=span.end if hit and span else None,
                    passage_start=int(doc.meta.get("start", 0)),
                    location=doc.meta.get("location"),
                )
            )
        shown = alternatives([(c.probability, c.sentence) for c in rated]) if band == UNSURE else []
        runners_up = [_alternative(rated[i]) for i in shown]
        decide_ms = (time.perf_counter() - deciding) * 1000
        total = (time.perf_counter() - started) * 1000
        return Answer(
            question=question,
            text=None if top is None else top.data,
            no_answer=band == NONE,
            band=band,
            score=round(probability, 4),
            sources=sources,
            reader=self._choice.name,
            # total includes loading the models and index on a first question ("load")
            timings_ms={
                "load": round(load_ms, 1),
                "embed": round((stages or {}).get("embed", 0.0), 1),
                "retrieve": round(retrieve_ms, 1),
                "read": round((stages or {}).get("read", 0.0), 1),
                "decide": round(decide_ms, 1),
                "total": round(total, 1),
            },
            rewritten_question=query if query != question else None,
            signals={**seen, **(best.values if best else {}), "closeness": closeness},
            candidates=[(c.answer.data, c.probability, c.values, c.sentence) for c in rated],
            engine=self.engine,
            collection=collection,
            alternatives=runners_up,
        )


def _alternative(candidate: Any) -> Alternative:
    """A rated candidate as a "not sure" reply's runner-up, marked in its sentence."""
    answer = candidate.answer
    return Alternative(
        text=answer.data,
        sentence=candidate.sentence,
        answer_start=candidate.span[0],
        answer_end=candidate.span[1],
        document=answer.document.meta["document"],
        score=round(candidate.probability, 4),
        location=answer.document.meta.get("location"),
    )


def _stage_times(result: dict, pipe_ms: float) -> dict[str, float]:
    """The embed and read milliseconds of one pipeline run, from the components' own outputs
    (`embed_ms`, `read_ms`); a component that does not time itself gets what is left of the run."""
    retrieve = float(result.get("retriever", {}).get("retrieve_ms", 0.0))
    embed, read = result.get("embedder", {}).get("embed_ms"), result.get("reader", {}).get("read_ms")
    rest = max(pipe_ms - retrieve - float(embed or 0.0) - float(read or 0.0), 0.0)
    if read is None:
        read, rest = rest, 0.0
    return {"embed": float(embed if embed is not None else rest), "read": float(read)}


def _valid_text(text: str) -> str:
    """`text` with lone surrogates (not text: no encoder takes them) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)
