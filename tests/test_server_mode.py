"""Server mode (a shared `chroma run` server): an assistant follows ingestions made by
another writer, and a server that stops mid-way costs a clear message, never data."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

import app.assistant as assistant_module
from app import Assistant
from app.config import load_config
from app.errors import StoreUnavailableError
from app.server import start_in_thread
from bench.common import start_chroma, stop
from ingest import ingest

from .conftest import ROOT, free_port, write_config

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(shutil.which("chroma", path=str(ROOT / ".venv" / "bin")) is None and shutil.which("chroma") is None,
                       reason="the `chroma` CLI is not installed"),
]

# One sentence per chunk (each over half of chunking.max_chars), so six chunks.
FACTS = ["青岚数据公司的总部位于贵州省安顺市，园区建在一座废弃的采石场里面。",
         "青岚数据公司成立于2019年，专门建设液冷数据中心，客户主要是高校实验室。",
         "云杉芯片的制程是七纳米，由台湾的一家代工厂生产，每年的产量大约五万片。",
         "云杉芯片由松涛半导体设计，主要用于推理，功耗只有同类产品的一半左右。",
         "白鹭调度系统负责把任务分配到各个机房，并且在机器故障时自动迁移任务。",
         "白鹭调度系统使用开源许可证发布，代码托管在一个国内的代码平台上面。"]


def _config(project, port, **extra):
    return load_config(write_config(project, store={"mode": "server", "port": port, "collection": "shared"},
                                    chunking={"max_chars": 50, "overlap_sentences": 0}, **extra))


def _write(project, name, sentences):
    (project / "corpus" / name).write_text("\n".join(sentences) + "\n", encoding="utf-8")


def test_an_assistant_follows_an_ingestion_by_another_writer(project, tmp_path, assistant, monkeypatch):
    monkeypatch.setattr(assistant_module, "VERSION_CHECK_S", 0.0)
    port = free_port()
    server = start_chroma(tmp_path / "chroma", port)
    try:
        _write(project, "a.txt", FACTS[:4])
        cfg = _config(project, port)
        ingest(cfg, progress=False)
        reader = Assistant(cfg, embedder=assistant.embedder)  # e.g. the UI, serving
        old_version = reader.version
        assert reader.sources == ["a.txt"]
        # Another process adds a document to the shared server.
        _write(project, "b.txt", FACTS[4:])
        ingest(load_config(write_config(project, store={"mode": "server", "port": port, "collection": "shared"},
                                        chunking={"max_chars": 50, "overlap_sentences": 0})), progress=False)
        deadline = time.time() + 60
        answer = reader.ask("白鹭调度系统负责什么？")
        while "b.txt" not in reader.sources and time.time() < deadline:
            answer = reader.ask("白鹭调度系统负责什么？")  # answered from the old version meanwhile
            time.sleep(0.1)
        assert reader.sources == ["a.txt", "b.txt"] and reader.version != old_version
        answer = reader.ask("白鹭调度系统负责什么？")
        assert answer.found and answer.citations[0].source == "b.txt" and "分配" in answer.text
    finally:
        stop(server)


def test_a_stopped_chroma_server_does_not_stop_answers_and_is_a_clear_message_elsewhere(project, tmp_path,
                                                                                        assistant):
    """Questions are answered from the index version loaded at start (passages, vectors
    and sentences are all in the start-up snapshot), so a Chroma server that goes away
    stops no answer. What does need the server says so: opening the index anew and the
    index facts in the UI's corpus panel; both work again once it is back."""
    port = free_port()
    server = start_chroma(tmp_path / "chroma", port)
    try:
        _write(project, "a.txt", FACTS)
        cfg = _config(project, port)
        ingest(cfg, progress=False)
        reader = Assistant(cfg, embedder=assistant.embedder)
        before = reader.ask("云杉芯片的制程是多少？")
        assert before.found
        web = start_in_thread(reader)
        try:
            stop(server)  # the server goes away while the assistant is serving
            assert reader.ask("云杉芯片的制程是多少？").text == before.text
            r = httpx.post(web.url + "/v1/chat/completions",
                           json={"model": "cited-answers", "messages": [{"role": "user", "content": "云杉芯片的制程是多少？"}]})
            assert r.status_code == 200 and "七纳米" in r.json()["choices"][0]["message"]["content"]
            message = f"is the Chroma server at 127.0.0.1:{port} running"
            with pytest.raises(StoreUnavailableError, match=message):
                reader.info()
            with pytest.raises(StoreUnavailableError, match=f"Chroma server at 127.0.0.1:{port}"):
                Assistant(cfg, embedder=assistant.embedder)
            server = start_chroma(tmp_path / "chroma", port)  # back, same data
            assert reader.info().chunks >= 1
            answer = Assistant(cfg, embedder=assistant.embedder).ask("云杉芯片的制程是多少？")
            assert answer.found and "七纳米" in answer.text
        finally:
            web.stop()
    finally:
        stop(server)


def test_a_chroma_server_stopped_mid_ingest_loses_nothing(project, tmp_path, assistant, monkeypatch):
    from app.store import ChunkStore

    port = free_port()
    server = start_chroma(tmp_path / "chroma", port)
    _write(project, "a.txt", FACTS)
    cfg = _config(project, port, embedding={"batch_size": 2})
    original = ChunkStore.add_chunks
    calls = []

    def add_then_stop(self, chunks, vectors):
        original(self, chunks, vectors)
        calls.append(len(chunks))
        if len(calls) == 1:
            stop(server)  # the server dies after the first batch was committed

    monkeypatch.setattr(ChunkStore, "add_chunks", add_then_stop)
    try:
        with pytest.raises(StoreUnavailableError, match="run `python -m ingest` again"):
            ingest(cfg, progress=False)
        monkeypatch.setattr(ChunkStore, "add_chunks", original)
        server = start_chroma(tmp_path / "chroma", port)
        report = ingest(cfg, progress=False)
        assert 0 < report.chunks_added < len(FACTS)  # only what the first run did not write
        store = ChunkStore(cfg.store)
        store.open_for_read(assistant.embedder.fingerprint)
        ids = sorted(store.chunk_index())
        assert store.ingest_state == "complete" and len(ids) == len(set(ids)) == len(FACTS)
        assert Assistant(cfg, embedder=assistant.embedder).ask("青岚数据公司的总部在哪里？").found
    finally:
        stop(server)
