"""Incremental ingestion: corpus files -> documents -> chunks/sentences -> Chroma.

The read side is a list of small stages (``items -> items``) run by :func:`run_stages`; the
write side diffs the result against the store so that only new chunks are embedded, moved
chunks get fresh spans, and chunks of changed or deleted files are removed. New vectors are
written before stale ones are deleted, so an interrupted run leaves a usable index that the
next run repairs.
"""

from __future__ import annotations

import fcntl
import logging
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from app.config import Config
from app.embeddings import Embedder, make_embedder
from app.errors import AssistantError
from app.passages import Chunk
from app.runtime import configure_data_dir
from app.store import ChunkStore, SentenceRecord, now_iso

from .chunking import chunk_document, sentence_records
from .extract import ExtractStats
from .loaders import Document, SkipFile, load_document

log = logging.getLogger("ingest")

Stage = Callable[[list[Any]], list[Any]]


@dataclass
class IngestReport:
    """What a run did; printed as the summary."""

    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Files with a transient failure whose earlier chunks were kept.
    kept_on_error: set[str] = field(default_factory=set)
    #: Files ignored for their extension (not in corpus.extensions).
    unsupported: list[str] = field(default_factory=list)
    chunks_total: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_kept: int = 0
    sentences_added: int = 0
    sentences_removed: int = 0
    seconds: float = 0.0
    #: New sentences and chunks whose text was already embedded in this run (vector reused).
    texts_reused: int = 0
    #: Chunks and sentences whose spans or section changed (metadata rewritten, not embedded).
    moved: int = 0
    #: Characters of extracted text across the indexed files.
    characters: int = 0
    #: Of ``seconds``, the time spent in the embedding model.
    embed_seconds: float = 0.0
    #: After ``seconds``: preparing the start-up snapshot of the new version (0 when none was needed).
    snapshot_seconds: float = 0.0
    #: Per indexed file: what the extractor read, and how many chunks it gave.
    documents: list[tuple[str, ExtractStats, int]] = field(default_factory=list)

    def summary(self) -> str:
        """One human-readable paragraph."""
        lines = [
            f"files: {self.files} indexed, {len(self.skipped)} skipped, {len(self.unsupported)} unsupported",
            f"chunks: {self.chunks_total} in index ({self.chunks_added} added/embedded, "
            f"{self.chunks_removed} removed, {self.chunks_kept} kept)",
            f"sentences: {self.sentences_added} added, {self.sentences_removed} removed"
            + (f" ({self.texts_reused} repeated texts embedded once)" if self.texts_reused else ""),
            f"seconds: {self.seconds:.2f} ({self.embed_seconds:.2f} embedding"
            + (f", {self.seconds / self.embed_seconds:.2f}x the model's time" if self.embed_seconds else "") + ")"
            + (f"; then {self.snapshot_seconds:.2f} s preparing the start-up snapshot" if self.snapshot_seconds
               else ""),
        ]
        lines += self.file_table()
        lines += [f"skipped {src}: {why}" + (" (its earlier chunks are kept)" if src in self.kept_on_error else "")
                  for src, why in self.skipped]
        if self.unsupported:
            lines.append(f"ignored (unsupported type): {', '.join(self.unsupported)}")
        return "\n".join(lines)


    def file_table(self) -> list[str]:
        """One line per indexed file: extractor, blocks, sections, tables, pages, boilerplate dropped."""
        if not self.documents:
            return []
        width = min(40, max(len(src) for src, _, _ in self.documents))
        out = [f"{'file':<{width}}  {'extractor':<22} {'blocks':>6} {'sections':>8} {'tables':>6} "
               f"{'pages':>5} {'chunks':>6} {'dropped chars':>13}"]
        for src, st, chunks in self.documents:
            name = src if len(src) <= width else "…" + src[-(width - 1):]
            extractor = st.extractor + (" (rewrapped)" if st.rewrapped and st.extractor == "plain" else "") \
                + (" (cached)" if st.cached else "")
            out.append(f"{name:<{width}}  {extractor:<22} {st.blocks:>6} {st.sections:>8} {st.tables:>6} "
                       f"{st.pages or '-':>5} {chunks:>6} {st.boilerplate_chars:>13}")
        return out


def run_stages(items: list[Any], stages: Iterable[Stage]) -> list[Any]:
    """Feed ``items`` through each stage in turn."""
    for stage in stages:
        items = stage(items)
    return items


# -- read-side stages ----------------------------------------------------------------------

def discover_files(config: Config, report: IngestReport) -> Stage:
    """Stage: [corpus dir] -> [paths of supported files], sorted, hidden files ignored."""
    def stage(dirs: list[Path]) -> list[Path]:
        found = []
        for d in dirs:
            for p in sorted(d.rglob("*")):
                rel = p.relative_to(d)
                if any(part.startswith(".") for part in rel.parts) or not p.is_file():
                    continue
                if p.suffix.lower() in config.corpus.extensions:
                    found.append(p)
                else:
                    report.unsupported.append(rel.as_posix())
        if report.unsupported:
            log.warning("ignored %d file(s) of unsupported types (%s); supported: %s", len(report.unsupported),
                        ", ".join(report.unsupported[:5]), " ".join(config.corpus.extensions))
        return found
    return stage


def load_documents(config: Config, report: IngestReport) -> Stage:
    """Stage: [paths] -> [Documents]; unusable files are skipped with a warning."""
    max_bytes = int(config.corpus.max_file_mb * 1e6)

    cache_dir = config.data_dir / EXTRACT_CACHE

    def stage(paths: list[Path]) -> list[Document]:
        docs = []
        for p in paths:
            try:
                docs.append(load_document(p, config.corpus.dir, max_bytes, cache_dir))
            except SkipFile as exc:
                src = p.relative_to(config.corpus.dir).as_posix()
                log.warning("skipping %s: %s", src, exc)
                report.skipped.append((src, str(exc)))
                if exc.transient:
                    report.kept_on_error.add(src)
        report.files = len(docs)
        _prune_cache(cache_dir, {d.fingerprint for d in docs})
        return docs
    return stage


#: Folder under the data dir holding extracted text by file fingerprint.
EXTRACT_CACHE = "extracted"


def _prune_cache(cache_dir: Path, keep: set[str]) -> None:
    """Forget extractions of files that are gone or changed (or of an older loader)."""
    if not cache_dir.is_dir():
        return
    for f in cache_dir.glob("*.json"):
        if f.stem not in keep:
            f.unlink(missing_ok=True)


@dataclass
class DocumentPieces:
    """A document with its chunks and sentences."""

    document: Document
    chunks: list[Chunk]
    sentences: list[SentenceRecord]


def chunk_documents(config: Config, report: IngestReport) -> Stage:
    """Stage: [Documents] -> [DocumentPieces]."""
    def stage(docs: list[Document]) -> list[DocumentPieces]:
        c = config.chunking
        pieces = [DocumentPieces(d, chunk_document(d, c.max_chars, c.overlap_sentences),
                                 sentence_records(d, c.max_chars)) for d in docs]
        report.documents = [(p.document.source, p.document.stats, len(p.chunks)) for p in pieces]
        report.characters = sum(len(p.document.text) for p in pieces)
        return pieces
    return stage


# -- write side --------------------------------------------------------------------------

@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """One ingesting process at a time per data dir (Chroma's SQLite is single-writer)."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AssistantError(f"cannot create the data folder {data_dir} ({exc.strerror or exc}); "
                             "check data_dir in config.yaml") from exc
    with open(data_dir / "ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise AssistantError(
                f"another ingestion is running on {data_dir} (lock {data_dir / 'ingest.lock'}); wait for it to finish"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _batches(new_chunks: list[Chunk], new_sent: list[SentenceRecord], batch: int
             ) -> Iterator[tuple[list[Chunk], list[SentenceRecord]]]:
    """Units of work, each committed on its own: ``batch`` chunks with the new sentences
    inside them (sentences no new chunk holds come last, in batches of their own). A run
    killed at any point has written whole units, so the next run embeds only the rest."""
    by_source: dict[str, list[SentenceRecord]] = {}
    for s in new_sent:
        by_source.setdefault(s.source, []).append(s)
    for lst in by_source.values():
        lst.sort(key=lambda s: s.char_start)
    taken: set[str] = set()
    for i in range(0, len(new_chunks), batch):
        group = new_chunks[i:i + batch]
        inside = []
        for c in group:
            for s in by_source.get(c.source, ()):
                if s.char_start >= c.char_start and s.char_end <= c.char_end and s.id not in taken:
                    taken.add(s.id)
                    inside.append(s)
        yield group, inside
    rest = [s for s in new_sent if s.id not in taken]
    for i in range(0, len(rest), batch * 4):
        yield [], rest[i:i + batch * 4]


def sync_store(store: ChunkStore, embedder: Embedder, pieces: list[DocumentPieces], report: IngestReport,
               failed_sources: set[str], batch: int, progress: bool) -> None:
    """Make the store hold exactly the given chunks and sentences, embedding only new ones.

    New chunks are embedded and written a batch at a time, each batch's sentences first and
    its chunks after them: a reader never meets a chunk whose sentences are missing, and a
    run that is killed keeps every batch it finished (``python -m ingest`` again embeds only
    what is left). Stale chunks are deleted last, so the old text answers until the new text
    is in.

    Chunks of files that failed to load this time for a transient reason (``failed_sources``:
    unreadable, half-written) are kept: such an error must not silently drop a document that
    was indexed before. Emptied, oversized or binary files lose their chunks.
    """
    from tqdm import tqdm

    chunks = {c.id: c for p in pieces for c in p.chunks}
    sentences = {s.id: s for p in pieces for s in p.sentences}
    stored = store.chunk_index()
    stored_sent = store.sentence_metadata()

    new_chunks = [c for cid, c in chunks.items() if cid not in stored]
    moved = [c for cid, c in chunks.items() if cid in stored and stored[cid] != c.metadata()]
    stale = [cid for cid, meta in stored.items() if cid not in chunks and meta.get("source") not in failed_sources]
    new_sent = [s for sid, s in sentences.items() if sid not in stored_sent]
    moved_sent = [s for sid, s in sentences.items() if sid in stored_sent and stored_sent[sid] != s.metadata()]
    stale_sent = [sid for sid, meta in stored_sent.items()
                  if sid not in sentences and meta.get("source") not in failed_sources]

    total = len(new_chunks) + len(new_sent)
    bar = tqdm(total=total, desc="embedding", unit="text", disable=not progress or not total)
    seen: dict[str, Any] = {}  # text -> vector: a repeated line (a command, a boilerplate
    # sentence) is embedded once per run (maint-guide repeats 5% of its sentences)

    def embed(texts: list[str]):
        import numpy as np

        todo = list(dict.fromkeys(t for t in texts if t not in seen))
        if todo:
            t0 = time.perf_counter()
            for text, vec in zip(todo, embedder.embed_documents(todo)):
                seen[text] = vec
            report.embed_seconds += time.perf_counter() - t0
        report.texts_reused += len(texts) - len(todo)
        return np.array([seen[t] for t in texts], dtype=np.float32)

    for group, inside in _batches(new_chunks, new_sent, batch):
        if inside:
            vectors = embed([s.text for s in inside])
        # Chunks are embedded with their section path as a contextual header (Chunk.context_text).
        chunk_vectors = embed([c.context_text for c in group]) if group else None
        if inside:
            store.add_sentences(inside, vectors)
        if group:
            store.add_chunks(group, chunk_vectors)
        bar.update(len(group) + len(inside))
    bar.close()
    if moved:
        store.update_chunk_metadata(moved)
    if moved_sent:
        store.update_sentence_metadata(moved_sent)
    store.delete_chunks(stale)
    store.delete_sentences(stale_sent)

    report.chunks_added = len(new_chunks)
    report.chunks_removed = len(stale)
    report.chunks_kept = len(chunks) - len(new_chunks)
    report.chunks_total = report.chunks_kept + report.chunks_added + sum(
        1 for cid, meta in stored.items() if cid not in chunks and meta.get("source") in failed_sources)
    report.sentences_added = len(new_sent)
    report.sentences_removed = len(stale_sent)
    report.moved = len(moved) + len(moved_sent)


def ingest(config: Config, rebuild: bool = False, progress: bool = True,
           embedder: Embedder | None = None, store: ChunkStore | None = None) -> IngestReport:
    """Bring the index in line with the corpus folder. Safe to re-run; returns a report."""
    t0 = time.perf_counter()
    report = IngestReport()
    corpus_dir = config.corpus.dir
    if not corpus_dir.is_dir():
        raise AssistantError(f"corpus folder not found: {corpus_dir} (create it and put documents in it, "
                             "or set corpus.dir in config.yaml)")
    embedder = embedder or make_embedder(config.embedding)
    configure_data_dir(config.data_dir)
    with writer_lock(config.data_dir):
        pieces = run_stages([corpus_dir], [
            discover_files(config, report),
            load_documents(config, report),
            chunk_documents(config, report),
        ])
        # Load the model before touching the index: a --rebuild with a model that cannot load
        # must fail while the working index is still there.
        embedder.embed_documents(["passage probe"])
        store = store or ChunkStore(config.store)
        store.open_for_write(embedder.fingerprint, rebuild=rebuild)
        failed = report.kept_on_error
        # Marked until the run completes: a reader (or the next run) can tell an interrupted
        # ingestion from a finished one.
        store.set_index_metadata(ingest_state="running")
        sync_store(store, embedder, pieces, report, failed, config.embedding.batch_size, progress)
        changed = report.chunks_added or report.chunks_removed or report.sentences_added or \
            report.sentences_removed or report.moved
        # A new version for any change: readers' start-up snapshots are keyed to it.
        version = {"version": uuid.uuid4().hex[:16]} if changed or not store.has_version else {}
        store.set_index_metadata(last_ingest=now_iso(), files=report.files, ingest_state="complete", **version)
        report.seconds = time.perf_counter() - t0
        prepare_snapshot(config, store, report)
    return report


def prepare_snapshot(config: Config, store: ChunkStore, report: IngestReport) -> None:
    """Build the start-up snapshot of the version just written (app/snapshot.py), so the
    next start reads it instead of the whole store (at 100k chunks, seconds instead of
    minutes). A no-op when it exists. Failing here loses nothing: the index is complete,
    and the first start builds the snapshot instead."""
    from app import snapshot

    t0 = time.perf_counter()
    try:
        if not snapshot.ensure(store, config.data_dir):
            return
    except AssistantError as exc:
        log.warning("the index is complete, but its start-up snapshot was not prepared (%s); "
                    "the first start builds it", exc)
        return
    report.snapshot_seconds = time.perf_counter() - t0
