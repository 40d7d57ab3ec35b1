"""The systems an eval run compares: our pipeline and three baselines.

* ``pipeline``   -- :meth:`app.Assistant.ask` as users get it (hybrid retrieval, cited
  extractive answer, abstention).
* ``bm25``       -- lexical retrieval only (``Assistant.retrieve(mode="lexical")``).
* ``dense``      -- dense retrieval only (``Assistant.retrieve(mode="dense")``).
* ``llamaindex`` -- the naive LlamaIndex pipeline a newcomer would write: a
  ``VectorStoreIndex`` over the corpus files with the default ``SentenceSplitter`` and
  ``similarity_top_k=2``, embedded by the SAME embedder.

The three baselines answer with one rule (:class:`TopSentencePicker`): the sentence of the
top passage most similar to the question under the same embedder, cited as ``[1]``; they
never abstain (only an empty retrieval leaves them without an answer).

Every system returns an :class:`app.Answer`, so the runner scores them all alike.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from app import Answer, Assistant, Citation, Passage
from app.text import detect_language, split_sentences

#: Naive LlamaIndex retrieves this many chunks (the value of the library's quick-start).
NAIVE_TOP_K = 2
#: Read as UTF-8 by the naive baseline; other formats go through the project's loader.
_PLAIN_TEXT = {".txt", ".md", ".markdown"}


class System(Protocol):
    """What the runner needs from a system under test."""

    name: str
    label: str

    def prepare(self, question: str, k: int) -> None:
        """Untimed work before :meth:`answer` (e.g. precomputing sentence vectors)."""

    def answer(self, question: str, k: int) -> Answer:
        """Answer one question with up to ``k`` passages; this call is timed."""


class PipelineSystem:
    """Our pipeline, exactly as :meth:`app.Assistant.ask` answers."""

    name = "pipeline"
    label = "hybrid pipeline (ours)"

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.notes: list[str] = []

    def prepare(self, question: str, k: int) -> None:
        """Nothing: the pipeline's sentence vectors were computed at ingest time."""

    def converse(self, questions: list[str], k: int) -> list[tuple[str, str]]:
        """Ask the earlier turns of a conversation in order; the (question, answer) history."""
        history: list[tuple[str, str]] = []
        for q in questions:
            history.append((q, self.assistant.ask(q, history=list(history), top_k=k).text))
        return history

    def answer(self, question: str, k: int, history: list | None = None) -> Answer:
        """``Assistant.ask(question, history=history, top_k=k)``."""
        return self.assistant.ask(question, history=history, top_k=k)


class TopSentencePicker:
    """The baselines' extractive rule: the passage sentence closest to the question.

    Sentence vectors are cached by text, so they can be computed outside the timed call,
    as our pipeline computes its sentence vectors at ingest time. The question's vector is
    cached too: the baseline's retriever already embedded the question once inside the timed
    call, and our pipeline reuses its one query vector for answering as well.
    """

    def __init__(self, embedder: Any):
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}

    @staticmethod
    def sentences(text: str) -> list[str]:
        """The passage's sentences (``app.text.split_sentences``); the whole text if none."""
        return [s.text for s in split_sentences(text)] or ([text.strip()] if text.strip() else [])

    def warm(self, text: str, question: str | None = None) -> None:
        """Embed (passage role) the sentences of ``text`` not embedded yet, and the question."""
        todo = list(dict.fromkeys(s for s in self.sentences(text) if s not in self._vectors))
        if todo:
            for s, v in zip(todo, self.embedder.embed_documents(todo)):
                self._vectors[s] = np.asarray(v, dtype=np.float32)
        if question is not None:
            self.query_vector(question)

    def query_vector(self, question: str) -> np.ndarray:
        """The question's vector (query role), cached."""
        if question not in self._queries:
            self._queries[question] = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        return self._queries[question]

    def pick(self, question: str, text: str) -> str:
        """The sentence of ``text`` with the highest cosine to the question (query role)."""
        sents = self.sentences(text)
        if not sents:
            return ""
        self.warm(text)
        scores = np.stack([self._vectors[s] for s in sents]) @ self.query_vector(question)
        return sents[int(np.argmax(scores))]

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        """Cite the top passage's best sentence as ``[1]``; never abstains unless nothing was retrieved."""
        language = detect_language(question)
        if not passages:
            return Answer(question=question, text="", found=False, citations=[], passages=[], language=language)
        top = passages[0]
        sentence = self.pick(question, top.text)
        sep = "" if language == "zh" else " "
        return Answer(question=question, text=f"{sentence}{sep}[1]", found=True,
                      citations=[Citation(**vars(top), number=1)], passages=passages, language=language)


class RetrievalBaseline:
    """One retrieval leg of our own retriever (BM25-only or dense-only) + the picker."""

    def __init__(self, assistant: Assistant, picker: TopSentencePicker, mode: str):
        self.assistant = assistant
        self.picker = picker
        self.mode = mode
        self.name = {"lexical": "bm25", "dense": "dense"}[mode]
        self.label = {"lexical": "BM25 only (jieba)", "dense": "dense only (e5)"}[mode]
        self.notes: list[str] = []

    def _retrieve(self, question: str, k: int) -> list[Passage]:
        return self.assistant.retrieve(question, top_k=k, mode=self.mode)

    def prepare(self, question: str, k: int) -> None:
        """Embed the top passage's sentences and the question outside the timer."""
        passages = self._retrieve(question, k)
        if passages:
            self.picker.warm(passages[0].text, question)

    def answer(self, question: str, k: int) -> Answer:
        """Retrieve with one leg, then pick the top passage's best sentence."""
        return self.picker.answer(question, self._retrieve(question, k))


def _llama_embedding(embedder: Any):
    """Wrap our embedder as a llama-index ``BaseEmbedding`` (query role for queries, passage role for texts)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class ProjectEmbedding(BaseEmbedding):
        """The project's embedder seen through llama-index's embedding interface."""

        _embedder: Any = PrivateAttr()

        def __init__(self, inner: Any, **kwargs: Any):
            super().__init__(model_name=getattr(inner, "fingerprint", "project-embedder"), **kwargs)
            self._embedder = inner

        @classmethod
        def class_name(cls) -> str:
            return "ProjectEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_query(query).tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed_documents([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed_documents(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return ProjectEmbedding(embedder)


def corpus_files(corpus_dir: Path, extensions: Sequence[str]) -> list[Path]:
    """The corpus files ingestion would read: supported extensions, hidden paths skipped."""
    out = []
    for p in sorted(Path(corpus_dir).rglob("*")):
        rel = p.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_file() and p.suffix.lower() in extensions:
            out.append(p)
    return out


class NaiveLlamaIndex:
    """``VectorStoreIndex`` + default ``SentenceSplitter`` + ``similarity_top_k=2`` + the picker.

    llama-index's global ``Settings`` is never touched (its defaults reach for OpenAI): the
    embedder and the splitter are passed explicitly and no LLM or query engine is built.
    """

    name = "llamaindex"
    label = f"naive LlamaIndex (top-{NAIVE_TOP_K})"

    def __init__(self, assistant: Assistant, picker: TopSentencePicker):
        self.picker = picker
        self.notes: list[str] = []
        t0 = time.perf_counter()
        docs = self._documents(assistant)
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        self._texts = {}
        documents = []
        for source, text in docs:
            # The source name is kept out of the embedded text so only the content is compared.
            documents.append(Document(text=text, metadata={"source": source}, id_=source,
                                      excluded_embed_metadata_keys=["source"],
                                      excluded_llm_metadata_keys=["source"]))
            self._texts[source] = text
        index = VectorStoreIndex.from_documents(documents, embed_model=_llama_embedding(assistant.embedder),
                                                transformations=[SentenceSplitter()], show_progress=False)
        self.n_chunks = len(index.docstore.docs)
        self._retriever = index.as_retriever(similarity_top_k=NAIVE_TOP_K)
        self.build_seconds = round(time.perf_counter() - t0, 2)
        lengths = [len(n.get_content()) for n in index.docstore.docs.values()]
        mean = sum(lengths) / len(lengths) if lengths else 0
        self.notes.append(f"{len(documents)} file(s) -> {self.n_chunks} chunks (mean {mean:.0f} chars, "
                          f"default SentenceSplitter), index built in {self.build_seconds:.1f} s; "
                          f"retrieves {NAIVE_TOP_K} chunks per question")

    def _documents(self, assistant: Assistant) -> list[tuple[str, str]]:
        corpus = assistant.config.corpus
        out = []
        for path in corpus_files(corpus.dir, corpus.extensions):
            source = path.relative_to(corpus.dir).as_posix()
            if path.suffix.lower() in _PLAIN_TEXT:
                text = path.read_text(encoding="utf-8", errors="replace")
            else:
                # pdf/docx/html need a parser; use the project's so both read the same text.
                from ingest.loaders import SkipFile, load_document

                try:
                    text = load_document(path, corpus.dir, int(corpus.max_file_mb * 1e6)).text
                except SkipFile as exc:
                    self.notes.append(f"skipped {source}: {exc}")
                    continue
            if text.strip():
                out.append((source, text))
        if not out:
            raise RuntimeError(f"no readable corpus files in {corpus.dir}")
        return out

    def _passage(self, rank: int, hit: Any) -> Passage:
        node = hit.node
        source = node.metadata.get("source", "?")
        start = node.start_char_idx or 0
        end = node.end_char_idx if node.end_char_idx is not None else start + len(node.get_content())
        full = self._texts.get(source, "")
        line_start = full.count("\n", 0, start) + 1
        line_end = full.count("\n", 0, max(start, end - 1)) + 1
        return Passage(id=node.node_id, text=node.get_content(), source=source, char_start=start, char_end=end,
                       line_start=line_start, line_end=line_end, score=float(hit.score or 0.0),
                       dense_score=float(hit.score or 0.0), rank=rank)

    def _retrieve(self, question: str) -> list[Passage]:
        return [self._passage(i, h) for i, h in enumerate(self._retriever.retrieve(question), 1)]

    def prepare(self, question: str, k: int) -> None:
        """Embed the top chunk's sentences and the question outside the timer."""
        passages = self._retrieve(question)
        if passages:
            self.picker.warm(passages[0].text, question)

    def answer(self, question: str, k: int) -> Answer:
        """Top-2 chunks from the vector index, best sentence of the first, cited [1]."""
        return self.picker.answer(question, self._retrieve(question))


def build_systems(assistant: Assistant, baselines: bool) -> tuple[list[Any], list[str]]:
    """Our pipeline, plus the three baselines when asked; returns (systems, warnings)."""
    systems: list[Any] = [PipelineSystem(assistant)]
    warnings: list[str] = []
    if not baselines:
        return systems, warnings
    picker = TopSentencePicker(assistant.embedder)
    systems += [RetrievalBaseline(assistant, picker, "lexical"), RetrievalBaseline(assistant, picker, "dense")]
    try:
        systems.append(NaiveLlamaIndex(assistant, picker))
    except ImportError as exc:
        warnings.append(f"naive LlamaIndex baseline skipped: {exc} (`pip install llama-index-core`)")
    except RuntimeError as exc:
        warnings.append(f"naive LlamaIndex baseline skipped: {exc}")
    return systems, warnings
