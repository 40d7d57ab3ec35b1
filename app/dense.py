"""The dense leg of retrieval: exact cosine search over the chunk vectors, in memory.

Chroma stores the vectors, but its HNSW search is approximate, and on this project's own
eval index it was not even stable: opening the same Debian FAQ collection six times and
asking the same question, the true nearest chunk (cosine 0.882, the next one 0.865) was
missing from the top results in three of the opens, with ``n_results`` 8 and 100 alike,
and only ``n_results`` equal to the whole collection found it every time. Answers and eval
numbers then changed from one start to the next. Ranking here is exact and deterministic:
one matrix-vector product over the vectors of the start-up snapshot (memory-mapped), read
from the store once per index version like the sentences (:mod:`app.snapshot`).

Cost: at 1k chunks well under a millisecond; at 100k chunks (147 MB of float32 vectors)
the product is a few milliseconds on two cores, about what an HNSW query costs there.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .passages import Chunk


class DenseIndex:
    """Chunks and their unit-length vectors, row for row; exact top-k by cosine."""

    def __init__(self, chunks: Sequence[Chunk], vectors: np.ndarray):
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} chunk vectors")
        self.chunks = list(chunks)
        self.vectors = vectors
        names = sorted({c.source for c in self.chunks})
        self._source_ids = {name: i for i, name in enumerate(names)}
        self._sources = np.fromiter((self._source_ids[c.source] for c in self.chunks), dtype=np.int32,
                                    count=len(self.chunks))

    @staticmethod
    def normalized(vectors: np.ndarray) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero), as float32."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(vectors):
            return vectors.reshape(0, vectors.shape[1] if vectors.ndim == 2 else 0)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)

    def search(self, query_vector: np.ndarray, k: int, sources: Sequence[str] | None = None
               ) -> list[tuple[Chunk, float]]:
        """The ``k`` chunks most similar to the query (cosine), best first; equal scores
        keep the index's order. ``sources`` restricts the search to those files."""
        if k <= 0 or not len(self.chunks):
            return []
        q = np.asarray(query_vector, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(q))
        if norm == 0.0:
            return []
        scores = self.vectors @ (q / norm)
        candidates = None
        if sources:
            wanted = [self._source_ids[s] for s in sources if s in self._source_ids]
            candidates = np.flatnonzero(np.isin(self._sources, wanted))
            if not len(candidates):
                return []
            scores = scores[candidates]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]  # best first; ties in index order
        rows = candidates[top] if candidates is not None else top
        return [(self.chunks[r], float(scores[t])) for r, t in zip(rows, top)]
