"""The Chroma store: chunk vectors, sentence vectors, and the index's own metadata.

Two collections per index: ``<name>`` holds chunks (what retrieval returns) and
``<name>__sentences`` holds every sentence of every chunk with its own vector, so the
answerer can score sentences without embedding them at question time. Raw Chroma dicts
stay inside this module; callers get :class:`Chunk`/:class:`Passage` objects.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .config import StoreConfig, StoreMode
from .errors import INGEST_HINT, AssistantError, EmbedderMismatchError, IndexMissingError, StoreUnavailableError
from .passages import Chunk

SENTENCE_SUFFIX = "__sentences"


@dataclass
class SentenceRecord:
    """One sentence of the corpus with its span in its source file."""

    id: str
    text: str
    source: str
    char_start: int
    char_end: int
    #: Part of a heading line: context for retrieval, never quoted as an answer.
    heading: bool = False

    def metadata(self) -> dict[str, Any]:
        """The Chroma metadata for this sentence."""
        meta: dict[str, Any] = {"source": self.source, "char_start": self.char_start, "char_end": self.char_end}
        if self.heading:
            meta["heading"] = True
        return meta


@dataclass
class IndexInfo:
    """What the UI and CLI show about an index."""

    collection: str
    embedder: str
    chunks: int
    sentences: int
    files: list[str]
    last_ingest: str | None
    #: "complete", or "running" while an ingestion writes (or after one was killed).
    ingest_state: str | None = None
    #: Disagreements between passages and sentence vectors, each with its repair command
    #: (see app.integrity); empty when they agree.
    problems: list[str] = field(default_factory=list)


def _client(config: StoreConfig):
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if config.mode is StoreMode.SERVER:
        try:
            return chromadb.HttpClient(host=config.host, port=config.port, settings=settings)
        except Exception as exc:  # connection refused surfaces as several exception types
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {config.host}:{config.port} ({exc}); "
                "start it with `chroma run --path .data/chroma-server --port "
                f"{config.port}` or set store.mode: embedded"
            ) from exc
    try:
        config.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(config.path), settings=settings)
    except Exception as exc:  # a file in the way, no permission, a corrupt chroma.sqlite3, ...
        raise StoreUnavailableError(
            f"cannot open the index folder {config.path} ({type(exc).__name__}: {exc}); check store.path in "
            "config.yaml, or delete the folder and re-ingest with `python -m ingest --rebuild`"
        ) from exc


class ChunkStore:
    """A Chroma-backed index of chunks and sentences, tied to one embedder fingerprint."""

    def __init__(self, config: StoreConfig, client=None):
        self.config = config
        self.client = client or _client(config)
        self.name = config.collection
        self._chunks = None
        self._sentences = None
        self._batch = None
        self._count: int | None = None  # chunks, counted once per opening (see _chunk_count)

    # -- opening -------------------------------------------------------------------------
    @contextmanager
    def _reaching(self, what: str):
        """Turn a failed store call (a Chroma server that stopped, a folder gone) into one
        StoreUnavailableError that names the store and what to do."""
        try:
            yield
        except AssistantError:
            raise
        except Exception as exc:
            if self.config.mode is StoreMode.SERVER:
                hint = (f"is the Chroma server at {self.config.host}:{self.config.port} running? Start it again "
                        f"(`chroma run --path .data/chroma-server --port {self.config.port}`); nothing stored is lost")
            else:
                hint = "check store.path in config.yaml"
            raise StoreUnavailableError(f"{what} failed: {self._where()} did not answer "
                                        f"({type(exc).__name__}: {exc}); {hint}") from exc

    def _where(self) -> str:
        if self.config.mode is StoreMode.SERVER:
            return f"collection '{self.name}' on the Chroma server {self.config.host}:{self.config.port}"
        return f"collection '{self.name}' in {self.config.path}"

    def open_for_write(self, embedder_fingerprint: str, rebuild: bool = False) -> None:
        """Create the collections if needed; refuse an index built with another embedder."""
        if rebuild:
            self.drop()
        existing = self._get(self.name)
        if existing is not None:
            recorded = (existing.metadata or {}).get("embedder")
            if recorded and recorded != embedder_fingerprint and existing.count() == 0:
                # An empty index (e.g. a first ingest that failed) carries no vectors to
                # protect: drop it so the new embedder can build it.
                self.drop()
            elif recorded and recorded != embedder_fingerprint:
                raise EmbedderMismatchError(
                    f"the index ({self._where()}) was built with embedder {recorded!r}, but the config "
                    f"asks for {embedder_fingerprint!r}; re-ingest with `python -m ingest --rebuild`"
                )
        meta = {"embedder": embedder_fingerprint}
        conf = {"hnsw": {"space": "cosine"}}
        self._count = None
        self._chunks = self.client.get_or_create_collection(
            self.name, metadata=meta, configuration=conf, embedding_function=None
        )
        self._sentences = self.client.get_or_create_collection(
            self.name + SENTENCE_SUFFIX, metadata=meta, configuration=conf, embedding_function=None
        )

    def open_for_read(self, embedder_fingerprint: str) -> None:
        """Open existing collections; raise a clear error when missing, empty or mismatched."""
        chunks = self._get(self.name)
        sentences = self._get(self.name + SENTENCE_SUFFIX)
        if chunks is None or sentences is None:
            raise IndexMissingError(f"no index found ({self._where()}): {INGEST_HINT}")
        # One row, not count(): counting reads the whole collection (0.25 s at 100k chunks).
        if not chunks.get(limit=1, include=[])["ids"]:
            raise IndexMissingError(
                f"the index ({self._where()}) is empty: add documents to the corpus folder and {INGEST_HINT}"
            )
        recorded = (chunks.metadata or {}).get("embedder")
        if recorded != embedder_fingerprint:
            raise EmbedderMismatchError(
                f"the index ({self._where()}) was built with embedder {recorded!r}, but the config asks "
                f"for {embedder_fingerprint!r}; re-ingest with `python -m ingest --rebuild` "
                "(or change embedding: back in config.yaml)"
            )
        self._chunks, self._sentences, self._count = chunks, sentences, None

    def _get(self, name: str):
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            # Chroma raises NotFoundError (a ValueError subclass in some versions) for a
            # missing collection; anything else (e.g. a dropped connection) is not "missing".
            if "does not exist" in str(exc) or type(exc).__name__ in {"NotFoundError", "InvalidCollectionException"}:
                return None
            raise StoreUnavailableError(f"cannot read {self._where()}: {exc}") from exc

    def drop(self) -> None:
        """Delete both collections (used by ``--rebuild``)."""
        for name in (self.name, self.name + SENTENCE_SUFFIX):
            if self._get(name) is not None:
                self.client.delete_collection(name)
        self._chunks = self._sentences = None

    # -- metadata ------------------------------------------------------------------------
    @property
    def embedder(self) -> str | None:
        """The fingerprint of the embedder that built this index."""
        return (self._chunks.metadata or {}).get("embedder") if self._chunks is not None else None

    def set_index_metadata(self, **values: Any) -> None:
        """Record index-level facts (e.g. last ingest time) next to the embedder fingerprint."""
        meta = dict(self._chunks.metadata or {})
        meta.update({k: v if isinstance(v, (str, int, float, bool)) else json.dumps(v) for k, v in values.items()})
        meta.pop("hnsw:space", None)
        with self._reaching("recording the index state"):
            self._chunks.modify(metadata=meta)

    def current_metadata(self) -> dict[str, Any]:
        """The index metadata as stored now (another process may have re-ingested since
        this store was opened; ``version`` and ``ingest_state`` tell)."""
        with self._reaching("reading the index version"):
            return dict(self.client.get_collection(self.name, embedding_function=None).metadata or {})

    def info(self) -> IndexInfo:
        """Counts and provenance of the index."""
        with self._reaching("reading the index"):
            metas = _get_all(self._chunks, ["metadatas"])["metadatas"]
            sentences = self._sentences.count()
        files = sorted({m["source"] for m in metas})
        meta = self._chunks.metadata or {}
        return IndexInfo(self.name, meta.get("embedder", "?"), len(metas), sentences,
                         files, meta.get("last_ingest"), meta.get("ingest_state"))

    @property
    def has_version(self) -> bool:
        """Whether an ingestion has stamped a version on this index."""
        return bool(self._chunks is not None and (self._chunks.metadata or {}).get("version"))

    @property
    def version(self) -> str:
        """Changes whenever an ingestion changes the store (keys the start-up snapshot).
        Indexes written before versions existed fall back to their counts and ingest time."""
        meta = (self._chunks.metadata or {}) if self._chunks is not None else {}
        if meta.get("version"):
            return str(meta["version"])
        return f"n{self._chunks.count()}-{self._sentences.count()}-{meta.get('last_ingest', 'never')}"

    @property
    def ingest_state(self) -> str | None:
        """"complete" after a finished ingestion, "running" during one or after a killed one."""
        return (self._chunks.metadata or {}).get("ingest_state") if self._chunks is not None else None

    # -- writing -------------------------------------------------------------------------
    def _batch_size(self) -> int:
        if self._batch is None:
            try:
                self._batch = max(1, min(1000, int(self.client.get_max_batch_size())))
            except Exception:
                self._batch = 500
        return self._batch

    def chunk_index(self) -> dict[str, dict[str, Any]]:
        """Every stored chunk id with its metadata."""
        with self._reaching("reading the index"):
            got = _get_all(self._chunks, ["metadatas"])
        return dict(zip(got["ids"], got["metadatas"] or []))

    def sentence_ids(self) -> set[str]:
        """Every stored sentence id."""
        with self._reaching("reading the index"):
            return set(_get_all(self._sentences, [])["ids"])

    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Insert chunks with their vectors, in batches the server accepts."""
        self._add(self._chunks, [c.id for c in chunks], [c.text for c in chunks],
                  [c.metadata() for c in chunks], vectors)

    def add_sentences(self, sentences: Sequence[SentenceRecord], vectors: np.ndarray) -> None:
        """Insert sentence vectors."""
        self._add(self._sentences, [s.id for s in sentences], [s.text for s in sentences],
                  [s.metadata() for s in sentences],
                  vectors)

    def _add(self, coll, ids, docs, metas, vectors) -> None:
        self._count = None
        step = self._batch_size()
        for i in range(0, len(ids), step):
            with self._reaching("writing to the index (finished batches are kept; run `python -m ingest` again)"):
                coll.upsert(ids=list(ids[i:i + step]), documents=list(docs[i:i + step]),
                            metadatas=list(metas[i:i + step]),
                            embeddings=np.asarray(vectors[i:i + step], dtype=np.float32))

    def update_chunk_metadata(self, chunks: Sequence[Chunk]) -> None:
        """Refresh spans of chunks whose text is unchanged but whose position moved."""
        step = self._batch_size()
        for i in range(0, len(chunks), step):
            part = chunks[i:i + step]
            with self._reaching("updating the index (run `python -m ingest` again)"):
                self._chunks.update(ids=[c.id for c in part], metadatas=[c.metadata() for c in part])

    def update_sentence_metadata(self, sentences: Sequence[SentenceRecord]) -> None:
        """Refresh spans of sentences whose position moved."""
        step = self._batch_size()
        for i in range(0, len(sentences), step):
            part = sentences[i:i + step]
            with self._reaching("updating the index (run `python -m ingest` again)"):
                self._sentences.update(ids=[s.id for s in part], metadatas=[s.metadata() for s in part])

    def delete_chunks(self, ids: Iterable[str]) -> None:
        """Remove chunks by id."""
        self._delete(self._chunks, list(ids))

    def delete_sentences(self, ids: Iterable[str]) -> None:
        """Remove sentences by id."""
        self._delete(self._sentences, list(ids))

    def _delete(self, coll, ids: list[str]) -> None:
        self._count = None
        step = self._batch_size()
        for i in range(0, len(ids), step):
            with self._reaching("deleting from the index (run `python -m ingest` again)"):
                coll.delete(ids=ids[i:i + step])

    def sentence_metadata(self) -> dict[str, dict[str, Any]]:
        """Every stored sentence id with its metadata."""
        with self._reaching("reading the index"):
            got = _get_all(self._sentences, ["metadatas"])
        return dict(zip(got["ids"], got["metadatas"] or []))

    # -- reading -------------------------------------------------------------------------
    def all_chunks(self) -> list[Chunk]:
        """Every chunk with its text (no vectors)."""
        with self._reaching("reading the index"):
            got = _get_all(self._chunks, ["documents", "metadatas"])
        return [_chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def all_chunks_with_vectors(self) -> tuple[list[Chunk], np.ndarray]:
        """Every chunk and its stored vector, row for row (for the snapshot's exact dense search)."""
        with self._reaching("reading the index"):
            got = _get_all(self._chunks, ["documents", "metadatas", "embeddings"])
        chunks = [_chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return chunks, _matrix(got["embeddings"])

    def all_sentences(self) -> tuple[list[SentenceRecord], np.ndarray]:
        """Every sentence and its vector (loaded once by the answerer)."""
        with self._reaching("reading the index"):
            got = _get_all(self._sentences, ["documents", "metadatas", "embeddings"])
        records = [SentenceRecord(i, d, m["source"], m["char_start"], m["char_end"], bool(m.get("heading")))
                   for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return records, _matrix(got["embeddings"])

    def _chunk_count(self) -> int:
        # Counted once per opening (a count reads the collection: 0.8 ms per question on the
        # article); a writer's changes reach readers through a reopen (Assistant.reload or
        # the server-mode version check), which starts a new count.
        if self._count is None:
            self._count = self._chunks.count()
        return self._count

    def query(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks by Chroma's own (approximate, HNSW) search, cosine similarity
        (1 - Chroma's cosine distance), best first. The assistant ranks exactly instead
        (:mod:`app.dense`); this stays for comparison in the bench."""
        where = None
        if sources:
            where = {"source": {"$in": list(sources)}} if len(sources) > 1 else {"source": sources[0]}
        with self._reaching("searching the index"):
            k = max(1, min(k, self._chunk_count()))
            res = self._chunks.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                     where=where, include=["documents", "metadatas", "distances"])
        out = []
        for i, d, m, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]):
            out.append((_chunk(i, d, m), 1.0 - float(dist)))
        return out


#: Items per read when fetching a whole collection: one unbounded ``get`` fails past ~100k
#: items ("too many SQL variables" from Chroma's SQLite), and pages keep memory flat.
READ_PAGE = 5000


def _get_all(coll, include: list[str]) -> dict[str, list]:
    """Every item of a collection, fetched page by page; keys ``ids`` and each of ``include``."""
    out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
    offset = 0
    while True:
        got = coll.get(include=include, limit=READ_PAGE, offset=offset)
        ids = got["ids"]
        out["ids"].extend(ids)
        for k in include:
            values = got.get(k)
            if values is None or not len(ids):
                continue
            if k == "embeddings":  # float32 arrays per page, not Python lists of floats
                out[k].append(np.asarray(values, dtype=np.float32))
            else:
                out[k].extend(values)
        if len(ids) < READ_PAGE:
            if "embeddings" in out:
                out["embeddings"] = np.vstack(out["embeddings"]) if out["embeddings"] else None
            return out
        offset += READ_PAGE


def _matrix(embeddings) -> np.ndarray:
    """The vectors of a whole-collection read as one float32 matrix (an empty one for none)."""
    if embeddings is None or not len(embeddings):
        return np.zeros((0, 1), np.float32)
    return np.asarray(embeddings, dtype=np.float32)


def _chunk(cid: str, text: str, meta: dict[str, Any]) -> Chunk:
    page = meta.get("page")
    return Chunk(cid, text, meta["source"], int(meta["char_start"]), int(meta["char_end"]),
                 int(meta["line_start"]), int(meta["line_end"]), section=meta.get("section") or None,
                 page=int(page) if page is not None else None)


def now_iso() -> str:
    """Local time stamp for 'last ingest'."""
    return time.strftime("%Y-%m-%d %H:%M:%S")
