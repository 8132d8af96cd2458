"""Typed settings loaded from YAML: unknown keys and bad values are errors that name the key."""

from __future__ import annotations

import os
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml

from qa.errors import ConfigError

ENV_VAR = "QA_CONFIG"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = Path("config") / "default.yaml"

ReaderKind = Literal["auto", "extractive", "offline"]
FollowupMode = Literal["rewrite", "context", "off"]
StoreKind = Literal["faiss", "pgvector"]
IndexType = Literal["flat", "hnsw"]
AnswerRanking = Literal["span", "null_margin"]


@dataclass(frozen=True)
class RetrievalSettings:
    top_k: int = 8  # passages given to the reader and returned as sources
    candidates: int = 20  # passages each retriever (BM25, dense) proposes before fusion


@dataclass(frozen=True)
class SplitterSettings:
    max_sentences: int = 3
    overlap: int = 1
    max_chars: int = 600


@dataclass(frozen=True)
class Settings:
    reader: ReaderKind = "auto"
    extractive_model: str = "deepset/roberta-base-squad2"
    offline_model: str = "bundled"
    offline_sentences: int = 8  # > 0: the offline span reader reads only the best N sentences
    # sentences are ranked by shared words + this weight x cosine similarity to the question
    sentence_dense_weight: float = 1.0
    sentence_passage_weight: float = 0.0  # ... plus this weight x the cosine similarity of its passage
    # answers from the N sentences rank by span score + this weight x their sentence's rank score
    sentence_weight: float = 0.3
    # the span score of that ranking: span (the span's own probability) | null_margin (its logit above
    # the reader's no-answer logit on its sentence, SQuAD 2.0's comparison across windows)
    answer_ranking: AnswerRanking = "null_margin"
    # a picked sentence that opens with a pronoun or "The ..." is read with the sentence before it
    sentence_context: bool = True
    # the reader reads the question with typos put right against the passages' words, and a keyword
    # question ("grant number") as a question (qa/phrasing.py)
    rephrase: bool = True
    embedding_model: str = "bundled"
    no_answer_threshold: float | None = None  # None: the reader's calibrated threshold
    # true: three bands (sure / not sure / doesn't say) from the reader's bands.json (qa/bands.py);
    # false: the earlier yes/no decision on the answerability probability (sure or doesn't say)
    bands: bool = True
    store: StoreKind = "faiss"  # pgvector: PostgreSQL at $QA_DATABASE_URL
    index_type: IndexType = "flat"  # hnsw: approximate search, for corpora of 100,000+ passages
    db_schema: str = "public"  # pgvector: the PostgreSQL schema holding this index
    index_dir: Path = Path(".qa-index")
    seeds_dir: Path = Path("seeds")
    max_question_chars: int = 2000
    read_only: bool = False  # the chat and servers answer only: no uploads, no removals
    followups: FollowupMode = "rewrite"
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    splitter: SplitterSettings = field(default_factory=SplitterSettings)
    source: Path | None = None  # the file these settings came from

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_POSITIVE = {"top_k", "candidates", "max_sentences", "max_chars", "max_question_chars"}


def _describe(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return " | ".join(str(a) for a in get_args(tp))
    if isinstance(tp, type):
        return tp.__name__
    return str(tp)


def _coerce(key: str, value: Any, tp: Any, base: Path) -> Any:
    origin = get_origin(tp)
    if origin is Literal:
        if value is False and "off" in get_args(tp):  # YAML reads a bare `off` as false
            value = "off"
        if value not in get_args(tp):
            raise ConfigError(f"config key {key!r}: {value!r} is not one of {_describe(tp)}")
        return value
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(key, value, options[0], base)
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"config key {key!r}: expected a path, got {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key {key!r}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key {key!r}: expected a whole number, got {value!r}")
        if key.split(".")[-1] in _POSITIVE and value < 1:
            raise ConfigError(f"config key {key!r}: must be 1 or more, got {value}")
        if value < 0:
            raise ConfigError(f"config key {key!r}: must be 0 or more, got {value}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config key {key!r}: expected a number, got {value!r}")
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"config key {key!r}: must be between 0 and 1, got {value}")
        return float(value)
    if tp is str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"config key {key!r}: expected text, got {value!r}")
        return value
    raise ConfigError(f"config key {key!r}: unsupported type {tp}")  # pragma: no cover


def _build(cls: type, data: Any, base: Path, prefix: str = "") -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"config section {prefix.rstrip('.') or '(top)'!r}: expected a mapping")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"unknown config key {prefix + unknown[0]!r}; allowed keys: {', '.join(sorted(known))}"
        )
    values = {}
    for name, value in data.items():
        tp = hints[name]
        if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
            values[name] = _build(tp, value, base, prefix + name + ".")
        else:
            values[name] = _coerce(prefix + name, value, tp, base)
    return cls(**values)


def _validate(settings: Settings) -> None:
    s = settings.splitter
    if s.overlap >= s.max_sentences or s.overlap < 0:
        raise ConfigError(
            f"config key 'splitter.overlap': {s.overlap} must be at least 0 and below "
            f"splitter.max_sentences ({s.max_sentences})"
        )
    if settings.retrieval.candidates < settings.retrieval.top_k:
        raise ConfigError("config key 'retrieval.candidates': must be at least retrieval.top_k")


def resolve_config_path(path: str | Path | None) -> Path | None:
    """--config, else $QA_CONFIG, else ./config/default.yaml, else the project's own default."""
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ConfigError(f"config file {p} not found; pass --config with an existing YAML file")
        return p
    for candidate in (Path.cwd() / DEFAULT_CONFIG, PROJECT_ROOT / DEFAULT_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from YAML; relative paths in it are relative to the project folder holding config/."""
    resolved = resolve_config_path(path)
    if resolved is None:
        return Settings(index_dir=PROJECT_ROOT / ".qa-index", seeds_dir=PROJECT_ROOT / "seeds")
    base = resolved.resolve().parent
    if base.name == "config":
        base = base.parent
    try:
        data = yaml.safe_load(resolved.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {resolved} is not UTF-8 text; write it as YAML") from exc
    except yaml.YAMLError as exc:
        lines = str(exc).splitlines() or [type(exc).__name__]
        raise ConfigError(f"config file {resolved} is not valid YAML: {lines[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {resolved}: expected key: value settings, got {type(data).__name__}")
    data.setdefault("index_dir", ".qa-index")
    data.setdefault("seeds_dir", "seeds")
    settings = _build(Settings, data, base)
    # a model given as a folder relative to the project is found from anywhere
    models = {}
    for key in ("offline_model", "extractive_model", "embedding_model"):
        value = getattr(settings, key)
        if not Path(value).is_absolute() and (base / value).is_dir():
            models[key] = str(base / value)
    settings = replace(settings, source=resolved, **models)
    _validate(settings)
    return settings
