"""Config loading: defaults, path resolution, env overrides, and every error message."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import DEFAULT_CONFIG_PATH, EmbeddingBackend, StoreMode, load_config
from app.errors import ConfigError


def test_project_config_loads_with_defaults():
    cfg = load_config(DEFAULT_CONFIG_PATH)
    assert cfg.embedding.backend is EmbeddingBackend.E5
    assert cfg.store.mode is StoreMode.EMBEDDED
    assert cfg.ui.host == "127.0.0.1"  # loopback by default
    assert cfg.corpus.dir == DEFAULT_CONFIG_PATH.parent / "corpus"
    assert cfg.store.path.is_absolute()


def test_paths_resolve_relative_to_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text("corpus:\n  dir: docs\nstore:\n  path: ../idx\n", encoding="utf-8")
    cfg = load_config(path, environ={})
    assert cfg.corpus.dir == (tmp_path / "sub" / "docs").resolve()
    assert cfg.store.path == (tmp_path / "idx").resolve()


def test_empty_file_gives_defaults(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("", encoding="utf-8")
    assert load_config(path, environ={}).retrieval.top_k == 5


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found: .*nope.yaml"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text,message", [
    ("corpus: [unclosed\n", r"c\.yaml is not valid YAML"),
    ("- a\n- b\n", "must be a mapping"),
    ("embedding:\n  backend: sentence-transformers\n", "needs `model`"),
    ("store:\n  collection: 'a b'\n", "store.collection"),
])
def test_file_errors_have_clear_messages(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_unknown_key_is_reported_as_field_message(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  top_kk: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    text = str(err.value)
    assert str(path) in text
    assert "retrieval.top_kk: unknown key" in text


def test_bad_values_each_get_a_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  top_k: 0\nstore:\n  mode: cloud\nui:\n  port: 99999\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    lines = str(err.value).splitlines()
    assert any(line.strip().startswith("retrieval.top_k:") for line in lines)
    assert any(line.strip().startswith("store.mode:") and "embedded" in line for line in lines)
    assert any(line.strip().startswith("ui.port:") for line in lines)


def test_environment_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("ui:\n  port: 7000\n", encoding="utf-8")
    cfg = load_config(path, environ={"RAG__UI__PORT": "7861", "RAG__STORE__MODE": "server", "OTHER": "x"})
    assert cfg.ui.port == 7861
    assert cfg.store.mode is StoreMode.SERVER


def test_environment_override_is_validated(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="ui.port"):
        load_config(path, environ={"RAG__UI__PORT": "not-a-port"})


def test_non_utf8_config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes("corpus:\n  dir: 文档\n".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, environ={})


def test_project_config_file_is_the_default():
    assert Path(load_config().source) == DEFAULT_CONFIG_PATH.resolve()


def test_env_values_that_are_not_yaml_stay_strings(tmp_path):
    """Regression: RAG__UI__PASSWORD='@secret' crashed with a YAML scanner error."""
    path = tmp_path / "c.yaml"
    path.write_text("", encoding="utf-8")
    cfg = load_config(path, environ={"RAG__UI__PASSWORD": "@secret: x", "RAG__UI__USERNAME": "123456"})
    assert cfg.ui.password == "@secret: x" and cfg.ui.username == "123456"


@pytest.mark.parametrize("name", ["-docs-", "ab", "a b c", "x" * 60])
def test_collection_names_chroma_would_reject_fail_at_load(tmp_path, name):
    path = tmp_path / "c.yaml"
    path.write_text(f"store:\n  collection: '{name}'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="store.collection"):
        load_config(path, environ={})
