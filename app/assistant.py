"""The ``Assistant`` facade: the one entry point for the UI, the CLI, the evals and scripts."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from .answer import ExtractiveAnswerer, SentenceIndex, Weights
from .config import Config, load_config
from .embeddings import Embedder, make_embedder
from .errors import EmptyQuestionError
from .followup import resolve_followup, split_subquestions
from .passages import Answer, Passage
from .retrieval import LexicalIndex, Retriever
from .store import ChunkStore, IndexInfo
from .text import detect_language

log = logging.getLogger("app")


class Assistant:
    """Answers questions over the indexed corpus with cited passages.

    >>> assistant = Assistant.from_config("config.yaml")
    >>> answer = assistant.ask("华为的异构计算架构叫什么？")
    >>> answer.text, answer.found, answer.citations
    """

    def __init__(self, config: Config, embedder: Embedder | None = None, store: ChunkStore | None = None,
                 weights: Weights | None = None):
        self.config = config
        self.embedder = embedder or make_embedder(config.embedding)
        self._store = store
        self._weights = weights
        self._lock = threading.Lock()
        self._load()

    @classmethod
    def from_config(cls, path: str | Path | None = None, **kwargs: Any) -> "Assistant":
        """Load ``config.yaml`` (the project's own when no path is given) and open the index."""
        return cls(load_config(path), **kwargs)

    def _load(self) -> None:
        """Open the index and build the in-memory lexical and sentence indexes from it."""
        store = self._store or ChunkStore(self.config.store)
        store.open_for_read(self.embedder.fingerprint)
        chunks = store.all_chunks()
        self.store = store
        self.lexical = LexicalIndex(chunks)
        self.sentences = SentenceIndex(*store.all_sentences())
        self.retriever = Retriever(self.config.retrieval, store, self.embedder, self.lexical)
        self.answerer = ExtractiveAnswerer(self.config.answer, self.sentences, self.lexical, self._weights)
        self.sources = sorted({c.source for c in chunks})

    def reload(self) -> None:
        """Re-open the index (after an ingestion changed it)."""
        with self._lock:
            self._store = None
            self._load()

    def info(self) -> IndexInfo:
        """Counts and provenance of the index (files, chunks, embedder, last ingest)."""
        return self.store.info()

    def _clean(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise EmptyQuestionError("the question is empty: type a question, e.g. 华为的异构计算架构叫什么？")
        question = " ".join(question.split())
        limit = self.config.answer.max_question_chars
        if len(question) > limit:
            log.warning("question of %d chars truncated to %d", len(question), limit)
            question = question[:limit]
        return question

    def retrieve(self, question: str, top_k: int | None = None, sources: Sequence[str] | None = None,
                 mode: str = "hybrid") -> list[Passage]:
        """Only the retrieval step: passages for a question, best first."""
        return self.retriever.retrieve(self._clean(question), top_k=top_k, sources=sources, mode=mode)

    def ask(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
            sources: Sequence[str] | None = None) -> Answer:
        """Answer a question with cited passages, or abstain (``found=False``).

        ``history`` holds earlier turns (strings, (question, answer) pairs or chat messages);
        a follow-up such as 那H20呢？ is resolved against it before retrieval. ``sources``
        restricts the search to some files; ``top_k`` overrides the passage count.
        """
        t0 = time.perf_counter()
        question = self._clean(question)
        resolved = resolve_followup(question, history)
        language = detect_language(question)
        with self._lock:
            qvec = self.embedder.embed_query(resolved)
            passages = self.retriever.retrieve(resolved, query_vector=qvec, top_k=top_k, sources=sources)
            parts = split_subquestions(resolved)
            subquestions = [(p, self.embedder.embed_query(p)) for p in parts] if len(parts) > 1 else []
            answer = self.answerer.answer(resolved, qvec, passages, language, subquestions=subquestions)
        answer.question = question
        answer.resolved_question = resolved if resolved != question else None
        answer.elapsed_ms = round((time.perf_counter() - t0) * 1000, 2)
        return answer

    def ask_stream(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
                   sources: Sequence[str] | None = None) -> Iterator[tuple[str, Answer]]:
        """Yield the answer text growing sentence by sentence, with the final Answer each time."""
        answer = self.ask(question, history=history, top_k=top_k, sources=sources)
        if not answer.found:
            yield answer.text, answer
            return
        import re

        pieces = re.findall(r".+?\[\d+\]\s*", answer.text) or [answer.text]
        text = ""
        for piece in pieces:
            text += piece
            yield text, answer
