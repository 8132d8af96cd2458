from pathlib import Path

import pytest

from qa.config import load_settings
from qa.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_keys_a_config_leaves_out_behave_as_the_shipped_default_config(tmp_path):
    from dataclasses import replace

    from qa.config import DEFAULT_CONFIG, PROJECT_ROOT

    shipped = load_settings(PROJECT_ROOT / DEFAULT_CONFIG)
    partial = load_settings(write(tmp_path, "reader: auto\n"))
    same_paths = {"index_dir": shipped.index_dir, "seeds_dir": shipped.seeds_dir, "source": None}
    assert replace(partial, **same_paths) == replace(shipped, **same_paths)


def test_defaults_and_relative_paths(tmp_path):
    settings = load_settings(write(tmp_path, "reader: offline\nretrieval:\n  top_k: 3\n"))
    assert settings.reader == "offline"
    assert settings.retrieval.top_k == 3
    assert settings.index_dir == tmp_path / ".qa-index"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("readr: offline\n", "unknown config key 'readr'; allowed keys:"),
        ("reader: magic\n", "config key 'reader': 'magic' is not one of auto | extractive | offline"),
        ("retrieval:\n  top_k: 0\n", "config key 'retrieval.top_k': must be 1 or more"),
        ("retrieval:\n  topk: 3\n", "unknown config key 'retrieval.topk'"),
        ("no_answer_threshold: 2\n", "config key 'no_answer_threshold': must be between 0 and 1"),
        ("offline_sentences: -1\n", "config key 'offline_sentences': must be 0 or more"),
        ("splitter:\n  overlap: 3\n", "config key 'splitter.overlap'"),
        ("reader: [1\n", "is not valid YAML"),
    ],
)
def test_bad_config_names_the_key_and_the_allowed_values(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as err:
        load_settings(write(tmp_path, text))
    assert message in str(err.value)


def test_followups_off_survives_yaml_reading_it_as_false(tmp_path):
    assert load_settings(write(tmp_path, "followups: off\n")).followups == "off"


def test_env_var_is_the_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CONFIG", str(write(tmp_path, "reader: extractive\n")))
    assert load_settings().reader == "extractive"
    monkeypatch.setenv("QA_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="not found"):
        load_settings()
