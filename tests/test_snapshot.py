"""Start-up snapshots (app/snapshot.py): built once per index version, read on later starts,
renewed by any ingestion that changes the store, rebuilt when damaged."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from app import Assistant, snapshot
from app.config import load_config
from ingest import ingest

from .conftest import ARTICLE, write_config

QUESTION = "华为的异构计算架构叫什么？"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, assistant):
    """The article ingested once; each test gets a copy of the whole project folder."""
    folder = tmp_path_factory.mktemp("snapshot_base")
    (folder / "corpus").mkdir()
    shutil.copy(ARTICLE, folder / "corpus" / ARTICLE.name)
    ingest(load_config(write_config(folder)), progress=False, embedder=assistant.embedder)
    shutil.rmtree(folder / "data" / "snapshots", ignore_errors=True)
    return folder


@pytest.fixture()
def small_project(ingested, tmp_path):
    shutil.copytree(ingested, tmp_path / "project")
    return tmp_path / "project" / "config.yaml"


def _open(path, assistant):
    return Assistant(load_config(path), embedder=assistant.embedder)


def test_a_second_start_reads_the_snapshot_not_the_store(small_project, assistant, monkeypatch):
    first = _open(small_project, assistant)
    folder = snapshot.snapshot_dir(first.config.data_dir, first.store)
    assert (folder / "complete").is_file()
    from app.store import ChunkStore

    def refuse(self):
        raise AssertionError("the store was read in full at start-up")

    for reader in ("all_sentences", "all_chunks", "all_chunks_with_vectors"):
        monkeypatch.setattr(ChunkStore, reader, refuse)
    second = _open(small_project, assistant)
    assert type(second.sentences.vectors).__name__ == "memmap"
    assert second.ask(QUESTION).text == first.ask(QUESTION).text
    assert second.retrieve(QUESTION, mode="lexical")[0].id == first.retrieve(QUESTION, mode="lexical")[0].id


def test_the_ingestion_prepares_the_snapshot_so_the_first_start_reads_no_store(small_project, assistant,
                                                                               monkeypatch):
    cfg = load_config(small_project)
    (cfg.corpus.dir / "extra.txt").write_text("量子计算机“九章三号”由中国科学技术大学研制。\n", encoding="utf-8")
    report = ingest(cfg, progress=False, embedder=assistant.embedder)
    assert report.chunks_added == 1 and report.snapshot_seconds > 0
    assert "preparing the start-up snapshot" in report.summary()
    from app.store import ChunkStore

    def refuse(self):
        raise AssertionError("the store was read in full at start-up")

    for reader in ("all_sentences", "all_chunks", "all_chunks_with_vectors"):
        monkeypatch.setattr(ChunkStore, reader, refuse)
    first = _open(small_project, assistant)
    assert "九章三号" in first.ask("九章三号是哪所大学研制的？").text
    # A no-op run finds the snapshot there and prepares nothing.
    monkeypatch.undo()
    assert ingest(cfg, progress=False, embedder=assistant.embedder).snapshot_seconds == 0


def test_an_ingestion_that_changes_the_store_renews_the_version_and_the_snapshot(small_project, assistant):
    before = _open(small_project, assistant)
    old_version, old_folder = before.store.version, snapshot.snapshot_dir(before.config.data_dir, before.store)
    cfg = load_config(small_project)
    assert ingest(cfg, progress=False, embedder=assistant.embedder).chunks_added == 0
    assert _open(small_project, assistant).store.version == old_version  # a no-op keeps it
    (cfg.corpus.dir / "extra.txt").write_text("量子计算机“九章三号”由中国科学技术大学研制。\n", encoding="utf-8")
    ingest(cfg, progress=False, embedder=assistant.embedder)
    after = _open(small_project, assistant)
    assert after.store.version != old_version
    assert "九章三号" in after.ask("九章三号是哪所大学研制的？").text
    assert not old_folder.exists()  # the old version's snapshot was removed


def test_a_damaged_snapshot_is_rebuilt(small_project, assistant, caplog):
    good = _open(small_project, assistant)
    folder = snapshot.snapshot_dir(good.config.data_dir, good.store)
    (folder / "chunks.json").write_text("[[", encoding="utf-8")
    with caplog.at_level("WARNING"):
        rebuilt = _open(small_project, assistant)
    assert "unreadable" in caplog.text
    assert rebuilt.ask(QUESTION).text == good.ask(QUESTION).text
    assert (folder / "complete").is_file() and _open(small_project, assistant).ask(QUESTION).found


def test_an_unwritable_snapshot_folder_only_costs_a_rebuild(small_project, assistant, monkeypatch, caplog):
    shutil.rmtree(load_config(small_project).data_dir / "snapshots", ignore_errors=True)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(snapshot, "write", read_only)
    with caplog.at_level("WARNING"):
        opened = _open(small_project, assistant)
    assert "could not save the index snapshot" in caplog.text and opened.ask(QUESTION).found


def test_the_store_is_read_in_pages(small_project, assistant, monkeypatch):
    """One unbounded Chroma ``get`` fails past ~100k items ("too many SQL variables"): whole
    collections are read page by page, and the result is the same."""
    from app import store as store_module

    whole = _open(small_project, assistant)
    shutil.rmtree(load_config(small_project).data_dir / "snapshots")
    monkeypatch.setattr(store_module, "READ_PAGE", 7)
    paged = _open(small_project, assistant)
    assert [c.id for c in paged.lexical.chunks] == [c.id for c in whole.lexical.chunks]
    assert len(paged.sentences.records) == len(whole.sentences.records) == 178
    assert (paged.sentences.vectors == whole.sentences.vectors).all()
    assert (np.asarray(paged.retriever.dense.vectors) == np.asarray(whole.retriever.dense.vectors)).all()
    assert paged.info().chunks == 30 and paged.ask(QUESTION).text == whole.ask(QUESTION).text


# -- do passages and sentence vectors agree? (app/integrity.py) ------------------------------------


def test_integrity_check_compares_spans_file_by_file():
    from app.integrity import check
    from app.passages import Chunk
    from app.store import SentenceRecord

    chunks = [Chunk("c1", "甲。乙。", "a.txt", 0, 4, 1, 1), Chunk("c2", "乙。丙。", "a.txt", 2, 6, 1, 1),
              Chunk("c3", "丁。", "b.txt", 0, 2, 1, 1)]
    sentences = [SentenceRecord("s1", "甲。", "a.txt", 0, 2), SentenceRecord("s2", "乙。", "a.txt", 2, 4),
                 SentenceRecord("s3", "丙。", "a.txt", 4, 6), SentenceRecord("s4", "丁。", "b.txt", 0, 2)]
    assert check(chunks, sentences).ok
    assert check(chunks, sentences[:3]).passages_without_sentences == 1  # b.txt's passage lost its sentence
    ghost = SentenceRecord("s5", "戊。", "gone.txt", 0, 2)
    beyond = SentenceRecord("s6", "己。", "a.txt", 40, 42)
    result = check(chunks, sentences + [ghost, beyond])
    assert (result.passages_without_sentences, result.sentences_outside_passages) == (0, 2)
    assert all("python -m ingest" in p for p in result.problems())


def test_a_mismatch_found_at_start_up_is_reported_with_its_repair_and_ingest_repairs_it(small_project, assistant,
                                                                                           caplog):
    import numpy as np

    from app.store import ChunkStore, SentenceRecord

    cfg = load_config(small_project)
    store = ChunkStore(cfg.store)
    store.open_for_read(assistant.embedder.fingerprint)
    # What an interrupted run or a hand edit leaves: one passage's sentences gone, a stray sentence.
    victim = store.all_chunks()[3]
    records, _ = store.all_sentences()
    store.delete_sentences([r.id for r in records if r.source == victim.source
                            and r.char_start < victim.char_end and r.char_end > victim.char_start
                            and r.char_start >= victim.char_start])
    stray = SentenceRecord("stray", "一句没有段落的话。", "deleted.txt", 0, 9)
    store.add_sentences([stray], np.asarray([assistant.embedder.embed_documents([stray.text])[0]]))
    store.set_index_metadata(version="edited-by-hand")
    with caplog.at_level("WARNING", logger="app"):
        opened = _open(small_project, assistant)
    problems = opened.info().problems
    assert opened.integrity.passages_without_sentences >= 1 and opened.integrity.sentences_outside_passages == 1
    assert len(problems) == 2 and all("run `python -m ingest` to repair" in p for p in problems)
    assert "python -m ingest" in caplog.text
    from app.ui_html import render_status

    assert "run `python -m ingest` to repair" in render_status(opened.info())
    ingest(cfg, progress=False, embedder=assistant.embedder)
    repaired = _open(small_project, assistant)
    assert repaired.integrity.ok and repaired.info().problems == []


def test_a_snapshot_built_with_other_stop_words_is_rebuilt(small_project, assistant, monkeypatch):
    """A release that changes the tokenizer (a stop word more) must not read BM25 tokens the
    old one wrote: the snapshot's name carries the tokenizer's fingerprint."""
    from app import text

    first = _open(small_project, assistant)
    old = snapshot.snapshot_dir(first.config.data_dir, first.store)
    assert (old / "complete").is_file()
    monkeypatch.setattr(text, "_STOPWORDS", text._STOPWORDS | {"华为"})
    text.tokenizer_fingerprint.cache_clear()
    try:
        second = _open(small_project, assistant)
        new = snapshot.snapshot_dir(second.config.data_dir, second.store)
        assert new != old and (new / "complete").is_file() and not old.exists()
        # The rebuilt BM25 index no longer holds the new stop word.
        assert not second.lexical.known("华为") and first.lexical.known("华为")
    finally:
        text.tokenizer_fingerprint.cache_clear()
