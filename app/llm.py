"""Generative answers from any OpenAI-compatible server (llama.cpp, vLLM, Ollama, hosted APIs).

The LLM writes, the documents decide: the extractive answerer first judges whether the
retrieved passages support an answer at all, and when they do not the assistant abstains
without calling the model. When they do, the model gets the numbered passages and must cite
them with [n]; markers pointing at no passage are dropped, and an answer that cites nothing
falls back to the extractive one. If the server cannot be reached, the extractive answer is
returned with a notice saying so, so a question is never lost to a server problem.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Sequence

import numpy as np

from .answer import ExtractiveAnswerer
from .config import LLMConfig
from .passages import Answer, Citation, Passage

log = logging.getLogger("app.llm")

_MARKER = re.compile(r"\[(\d+)\]")

SYSTEM_PROMPT = {
    "zh": ("你是一个严谨的文档问答助手。只根据给出的编号段落回答问题，不要使用段落以外的知识。"
           "回答要简短（不超过150字），每句话后用 [编号] 标出依据的段落，例如：……芯片。[1]"
           "如果段落中没有答案，就回答：文档中没有找到答案。"),
    "en": ("You answer questions strictly from the numbered passages given, never from outside knowledge. "
           "Answer briefly (at most three sentences) in English, and end every sentence with the number of the "
           "passage it rests on, like [1]. If the passages do not contain the answer, say: "
           "The documents do not answer this."),
}


def build_messages(question: str, passages: Sequence[Passage], language: str) -> list[tuple[str, str]]:
    """(role, content) pairs: the instructions, then the numbered passages and the question."""
    numbered = "\n\n".join(f"[{i}] ({p.source}) {p.text}" for i, p in enumerate(passages, 1))
    label = ("段落" if language == "zh" else "Passages", "问题" if language == "zh" else "Question")
    return [("system", SYSTEM_PROMPT[language]), ("user", f"{label[0]}:\n{numbered}\n\n{label[1]}: {question}")]


def cite(text: str, passages: Sequence[Passage]) -> tuple[str, list[Citation]]:
    """Renumber the model's markers by first use; drop markers that point at no passage."""
    order: dict[int, int] = {}

    def renumber(m: re.Match) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(passages):
            return ""
        order.setdefault(n, len(order) + 1)
        return f"[{order[n]}]"

    cleaned = _MARKER.sub(renumber, text).strip()
    citations = [Citation(**vars(passages[n - 1]), number=new) for n, new in order.items()]
    return cleaned, citations


class LLMAnswerer:
    """Answers written by an LLM over the retrieved passages, cited and checked."""

    def __init__(self, config: LLMConfig, extractive: ExtractiveAnswerer, client=None):
        self.config = config
        self.extractive = extractive
        self._client = client

    def _llm(self):
        if self._client is None:
            try:
                from llama_index.llms.openai_like import OpenAILike
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise RuntimeError("answer.mode: llm needs `pip install llama-index-llms-openai-like`") from exc
            # Passed explicitly, never through llama-index's global Settings (they default to OpenAI).
            self._client = OpenAILike(
                model=self.config.model, api_base=self.config.base_url, api_key=self.config.api_key or "none",
                is_chat_model=True, context_window=self.config.context_window, max_tokens=self.config.max_tokens,
                temperature=self.config.temperature, timeout=self.config.timeout_s, max_retries=0)
        return self._client

    def complete(self, question: str, passages: Sequence[Passage], language: str) -> str:
        """The model's raw answer text for the numbered passages."""
        from llama_index.core.llms import ChatMessage

        messages = [ChatMessage(role=r, content=c) for r, c in build_messages(question, passages, language)]
        return str(self._llm().chat(messages).message.content or "")

    def answer(self, question: str, query_vector: np.ndarray, passages: list[Passage], language: str,
               subquestions: Sequence[tuple[str, np.ndarray]] = (), expansion: Sequence[str] = ()) -> Answer:
        """Abstain like the extractive answerer; otherwise let the model write a cited answer."""
        base = self.extractive.answer(question, query_vector, passages, language, subquestions=subquestions,
                                      expansion=expansion)
        if not base.found:
            return base
        shown = base.passages[: self.config.passages]
        try:
            raw = self.complete(question, shown, language)
        except Exception as exc:  # connection refused, timeout, HTTP errors: many types
            log.warning("LLM server %s failed: %s", self.config.base_url, exc)
            return replace(base, notice=(
                f"The LLM server at {self.config.base_url} could not be reached ({type(exc).__name__}); "
                "this is the extractive answer. Start the server or set answer.mode: extractive."))
        text, citations = cite(raw, shown)
        if not citations or not text:
            return replace(base, notice="The LLM's answer cited no passage, so the extractive answer is shown.")
        return replace(base, text=text, citations=citations, mode="llm")
