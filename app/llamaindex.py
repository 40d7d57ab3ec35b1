"""The assistant as LlamaIndex components: a retriever and a query engine.

For people who already build with LlamaIndex::

    retriever = assistant.as_retriever(top_k=5)
    nodes = retriever.retrieve("华为的异构计算架构叫什么？")      # list[NodeWithScore]
    engine = assistant.as_query_engine()
    response = engine.query("华为的异构计算架构叫什么？")        # Response
    response.response, response.source_nodes, response.metadata["found"]

Each node is a :class:`~llama_index.core.schema.TextNode` whose id is our chunk id and
whose metadata carries the source file, section, page, character and line spans, and (for
cited passages) the citation number and the highlighted answer spans. Everything runs
through :meth:`app.Assistant.retrieve` / :meth:`app.Assistant.ask`, so hybrid retrieval,
follow-ups, abstention and verification behave exactly as in the UI.

llama-index nodes stay inside this module (DESIGN.md house style); the rest of the code
works with :class:`app.passages.Passage`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Sequence

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.response.schema import Response
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from .passages import Citation, Passage

#: Metadata kept out of what a downstream LLM or embedder sees (it is for display and links).
_HIDDEN = ["char_start", "char_end", "line_start", "line_end", "highlights", "key_spans", "citation", "location"]


def to_node(passage: Passage) -> NodeWithScore:
    """A passage (or citation) as a scored LlamaIndex node, spans and section in metadata."""
    meta: dict[str, Any] = {
        "source": passage.source,
        "section": passage.section,
        "page": passage.page,
        "char_start": passage.char_start,
        "char_end": passage.char_end,
        "line_start": passage.line_start,
        "line_end": passage.line_end,
        "location": passage.location,
    }
    if isinstance(passage, Citation):
        meta.update(citation=passage.number, highlights=[list(s) for s in passage.highlights],
                    key_spans=[list(s) for s in passage.key_spans])
    node = TextNode(id_=passage.id, text=passage.text, metadata=meta, excluded_embed_metadata_keys=_HIDDEN,
                    excluded_llm_metadata_keys=_HIDDEN)
    return NodeWithScore(node=node, score=passage.score)


class AssistantRetriever(BaseRetriever):
    """:meth:`app.Assistant.retrieve` as a LlamaIndex retriever (hybrid dense + BM25)."""

    def __init__(self, assistant, top_k: int | None = None, sources: Sequence[str] | None = None,
                 mode: str = "hybrid"):
        super().__init__()
        self._assistant = assistant
        self._top_k = top_k
        self._sources = list(sources) if sources else None
        self._mode = mode

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = self._assistant.retrieve(query_bundle.query_str, top_k=self._top_k, sources=self._sources,
                                            mode=self._mode)
        return [to_node(p) for p in passages]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        # The engine is not async; a worker thread keeps an event loop responsive.
        return await asyncio.to_thread(self._retrieve, query_bundle)


class AssistantQueryEngine(BaseQueryEngine):
    """:meth:`app.Assistant.ask` as a LlamaIndex query engine.

    ``response.response`` is the answer text with ``[n]`` markers (the refusal when the
    documents do not answer); ``source_nodes`` are the cited passages (the closest ones on
    an abstention); ``metadata`` holds ``found``, ``confidence``, ``mode``, ``notice``,
    ``resolved_question`` and the whole answer as ``answer`` (``Answer.to_dict()``).
    """

    def __init__(self, assistant, top_k: int | None = None, sources: Sequence[str] | None = None,
                 mode: str | None = None, history: Sequence[Any] | None = None):
        super().__init__(callback_manager=None)
        self._assistant = assistant
        self._kwargs = {"top_k": top_k, "sources": list(sources) if sources else None, "mode": mode}
        self._history = list(history or [])

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = self._assistant.ask(query_bundle.query_str, history=self._history or None, **self._kwargs)
        shown = answer.citations if answer.found else answer.passages
        return Response(response=answer.text, source_nodes=[to_node(p) for p in shown], metadata={
            "found": answer.found, "confidence": answer.confidence, "mode": answer.mode, "notice": answer.notice,
            "resolved_question": answer.resolved_question, "answer": answer.to_dict()})

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)

    def _get_prompt_modules(self) -> dict:
        return {}
