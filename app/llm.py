"""Generative answers from any OpenAI-compatible server (llama.cpp, vLLM, Ollama, hosted APIs).

The LLM writes, the documents decide:

* the extractive answerer first judges whether the retrieved passages support an answer at
  all; when they do not, the assistant abstains without calling the model;
* the model gets the numbered passages and must cite them with ``[n]``; markers pointing at
  no passage are dropped and the rest renumbered by first use;
* every sentence is then checked against the passages it cites (:mod:`app.verify`); only
  when at least one sentence is supported is the answer shown as the model's, with the
  unsupported ones marked;
* any failure (server down, timeout, HTTP error, an empty, cut-off or wrong-language reply,
  nothing supported) returns the extractive answer with a notice saying why. A question is
  never lost to a server problem, and the API key never appears in a notice or a log line.

The HTTP call runs outside the assistant's engine lock, bounded by ``llm.max_concurrency``.
"""

from __future__ import annotations

import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Iterator, Sequence

import numpy as np

from .answer import ExtractiveAnswerer
from .config import LLMConfig
from .followup import previous_turns
from .passages import Answer, Citation, Passage
from .text import detect_language
from .verify import Verifier

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

#: The follow-up rewriting prompt (Chinese, as the corpus is; the question keeps its language).
CONDENSE_PROMPT = ("请把对话中的最后一个问题改写成一个独立、完整的问题，使人不看对话也能理解。"
                   "把代词（它、他、这个、那）换成它指代的具体名称，保留原问题的语言（中文问题用中文，英文问题用英文）。"
                   "如果最后一个问题本身已经完整，就原样输出。只输出改写后的问题，不要回答它，不要解释。")

#: Why an LLM answer was replaced by the extractive one (the notice starts with the cause).
FALLBACK = "; this is the extractive answer."


class LLMFailure(Exception):
    """The model's reply cannot be used; the message is the user-facing reason."""


def build_messages(question: str, passages: Sequence[Passage], language: str) -> list[tuple[str, str]]:
    """(role, content) pairs: the instructions, then the numbered passages and the question."""
    numbered = "\n\n".join(f"[{i}] ({p.source}) {p.text}" for i, p in enumerate(passages, 1))
    label = ("段落" if language == "zh" else "Passages", "问题" if language == "zh" else "Question")
    return [("system", SYSTEM_PROMPT[language]), ("user", f"{label[0]}:\n{numbered}\n\n{label[1]}: {question}")]


def condense_messages(question: str, history: Sequence[Any]) -> list[tuple[str, str]]:
    """(role, content) pairs asking the model to make ``question`` standalone."""
    lines = []
    for q, a in previous_turns(history)[-3:]:
        lines.append(f"用户：{q}")
        if a:
            lines.append(f"助手：{_MARKER.sub('', a)[:300]}")
    lines.append(f"用户（最后一个问题）：{question}")
    return [("system", CONDENSE_PROMPT), ("user", "对话：\n" + "\n".join(lines) + "\n\n改写后的问题：")]


def cite(text: str, passages: Sequence[Passage]) -> tuple[str, list[Citation]]:
    """Renumber the model's markers by first use; drop markers that point at no passage.

    Renumbering a growing prefix of a streamed reply gives a prefix of the final result, so
    the links shown while streaming keep their meaning at the end.
    """
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


def _finish_reason(raw: Any) -> str | None:
    """``choices[0].finish_reason`` of an OpenAI response or chunk (object or dict)."""
    try:
        choices = raw["choices"] if isinstance(raw, dict) else getattr(raw, "choices", None)
        if not choices:
            return None
        first = choices[0]
        return first.get("finish_reason") if isinstance(first, dict) else getattr(first, "finish_reason", None)
    except (KeyError, IndexError, TypeError):
        return None


class LLMAnswerer:
    """Answers written by an LLM over the retrieved passages, cited and verified."""

    def __init__(self, config: LLMConfig, extractive: ExtractiveAnswerer, verifier: Verifier | None = None,
                 lock: threading.Lock | None = None, client: Any = None):
        self.config = config
        self.extractive = extractive
        self.verifier = verifier
        #: The assistant's engine lock: held for the extractive step, never for HTTP.
        self.lock = lock or threading.Lock()
        self._client = client
        self._slots = threading.BoundedSemaphore(config.max_concurrency)
        self._local = threading.local()
        self._client_lock = threading.Lock()

    # -- the server --------------------------------------------------------------------------

    def _llm(self):
        with self._client_lock:  # one client, however many first callers arrive at once
            return self._make_client()

    def _make_client(self):
        if self._client is None:
            try:
                from llama_index.llms.openai_like import OpenAILike
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise RuntimeError("answer.mode: llm needs `pip install llama-index-llms-openai-like`") from exc
            import httpx

            # Our own HTTP client, so that each thread knows the responses it opened: a stream
            # abandoned by its reader is closed at once, not whenever garbage collection
            # reaches it (llama-index keeps the generator alive in its exception events).
            http = httpx.Client(timeout=self.config.timeout_s, event_hooks={"response": [self._opened]})
            # Passed explicitly, never through llama-index's global Settings (they default to OpenAI).
            self._client = OpenAILike(
                model=self.config.model, api_base=self.config.base_url, api_key=self.config.api_key or "none",
                is_chat_model=True, context_window=self.config.context_window, max_tokens=self.config.max_tokens,
                temperature=self.config.temperature, timeout=self.config.timeout_s, max_retries=0,
                http_client=http)
        return self._client

    def _opened(self, response) -> None:
        """httpx response hook: remember the response for the thread that is streaming."""
        opened = getattr(self._local, "opened", None)
        if opened is not None:
            opened.append(response)

    @contextmanager
    def _slot(self):
        """One of ``llm.max_concurrency`` request slots (waiting at most ``llm.timeout_s``)."""
        if not self._slots.acquire(timeout=self.config.timeout_s):
            raise LLMFailure(f"the LLM server is busy (llm.max_concurrency={self.config.max_concurrency} requests "
                             f"in flight for {self.config.timeout_s:g} s)")
        try:
            yield
        finally:
            self._slots.release()

    def redact(self, text: str) -> str:
        """``text`` with the API key (if any) masked."""
        key = self.config.api_key
        return text.replace(key, "***") if key and len(key) >= 4 else text

    def explain(self, exc: BaseException) -> str:
        """A user-facing reason for a failed request, without the key or a stack trace."""
        if isinstance(exc, LLMFailure):
            return str(exc)
        name = type(exc).__name__
        status = getattr(exc, "status_code", None)
        url = self.redact(self.config.base_url)
        if "Timeout" in name or isinstance(exc, TimeoutError):
            return f"the LLM server at {url} did not answer within llm.timeout_s={self.config.timeout_s:g} s"
        if status is not None:
            hint = " (check llm.api_key)" if status in (401, 403) else \
                " (check llm.model)" if status == 404 else ""
            return f"the LLM server at {url} answered HTTP {status}{hint}"
        return (f"the LLM server at {url} could not be reached ({name}); start the server or set "
                "answer.mode: extractive")

    def complete(self, question: str, passages: Sequence[Passage], language: str) -> str:
        """The model's raw answer text for the numbered passages (raises on failure)."""
        text, _ = self._chat(build_messages(question, passages, language))
        return text

    def _chat(self, pairs: list[tuple[str, str]], **kwargs: Any) -> tuple[str, str | None]:
        from llama_index.core.llms import ChatMessage

        messages = [ChatMessage(role=r, content=c) for r, c in pairs]
        with self._slot():
            response = self._llm().chat(messages, **kwargs)
        return str(response.message.content or ""), _finish_reason(response.raw)

    def stream_tokens(self, question: str, passages: Sequence[Passage], language: str,
                      state: dict) -> Iterator[str]:
        """The reply's text deltas as the server sends them (``state["finish_reason"]`` is
        set at the end). Closing this generator closes the HTTP stream, so a client that
        goes away does not leave the model generating."""
        from llama_index.core.llms import ChatMessage

        messages = [ChatMessage(role=r, content=c) for r, c in build_messages(question, passages, language)]
        with self._slot():
            llm = self._llm()
            opened = self._local.opened = []
            stream = None
            try:
                stream = llm.stream_chat(messages)
                for chunk in stream:
                    self._local.opened = None  # the request is out; later requests are not ours
                    reason = _finish_reason(chunk.raw)
                    if reason:
                        state["finish_reason"] = reason
                    if chunk.delta:
                        yield chunk.delta
            finally:
                self._local.opened = None
                if stream is not None:
                    stream.close()
                for response in opened:  # hung up early: stop the server generating
                    response.close()

    # -- answers -----------------------------------------------------------------------------

    def base_answer(self, question: str, query_vector: np.ndarray, passages: list[Passage], language: str,
                    subquestions: Sequence[tuple[str, np.ndarray]] = (), expansion: Sequence[str] = ()) -> Answer:
        """The extractive answer (under the engine lock): it decides whether to answer at all,
        and it is what every failure falls back to."""
        with self.lock:
            return self.extractive.answer(question, query_vector, passages, language, subquestions=subquestions,
                                          expansion=expansion)

    def answer(self, question: str, query_vector: np.ndarray, passages: list[Passage], language: str,
               subquestions: Sequence[tuple[str, np.ndarray]] = (), expansion: Sequence[str] = ()) -> Answer:
        """Abstain like the extractive answerer; otherwise let the model write a cited answer."""
        base = self.base_answer(question, query_vector, passages, language, subquestions, expansion)
        return self.generate(question, base, language)

    def generate(self, question: str, base: Answer, language: str) -> Answer:
        """The model's answer over ``base.passages`` (no lock held during the request)."""
        if not base.found:
            return base
        shown = base.passages[: self.config.passages]
        try:
            raw, reason = self._chat(build_messages(question, shown, language))
        except Exception as exc:  # connection refused, timeout, HTTP errors: many types
            return self.fallback(base, exc)
        return self.finish(base, raw, reason, language)

    def fallback(self, base: Answer, exc: BaseException) -> Answer:
        """The extractive answer with a notice saying why the model's could not be used."""
        reason = self.explain(exc)
        log.warning("LLM answer not used: %s", self.redact(reason if isinstance(exc, LLMFailure)
                                                             else f"{reason}: {exc}"))
        return replace(base, notice=reason[0].upper() + reason[1:] + FALLBACK)

    def finish(self, base: Answer, raw: str, finish_reason: str | None, language: str) -> Answer:
        """Check and cite a complete reply; the extractive answer when it cannot be used."""
        shown = base.passages[: self.config.passages]
        try:
            text = raw.strip()
            if not text:
                raise LLMFailure("the LLM's reply was empty")
            if finish_reason == "length":
                raise LLMFailure(f"the LLM's reply was cut off at llm.max_tokens={self.config.max_tokens}")
            if detect_language(_MARKER.sub("", text)) != language:
                raise LLMFailure("the LLM replied in another language than the question's")
            text, citations = cite(text, shown)
            if not citations or not text:
                raise LLMFailure("the LLM's answer cited no passage")
            sentences = self.verifier.verify(text, citations) if self.verifier else []
            if self.verifier and not any(s.supported for s in sentences):
                raise LLMFailure("no sentence of the LLM's answer is supported by the passage it cites")
        except LLMFailure as exc:
            return self.fallback(base, exc)
        return replace(base, text=text, citations=citations, mode="llm", sentences=sentences, notice=None,
                       key_phrases=[])

    # -- follow-ups --------------------------------------------------------------------------

    def condense(self, question: str, history: Sequence[Any]) -> str:
        """The model's standalone rewrite of a follow-up (raises LLMFailure when unusable)."""
        try:
            # Greedy: the same conversation always gives the same search.
            text, _ = self._chat(condense_messages(question, history), max_tokens=96, temperature=0.0)
        except LLMFailure:
            raise
        except Exception as exc:
            raise LLMFailure(self.explain(exc)) from None
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        rewritten = re.sub(r"^(改写后的问题|问题|Question)\s*[:：]\s*", "", lines[0]).strip() if lines else ""
        rewritten = rewritten.strip("\"“”'")
        if not rewritten or len(rewritten) > 3 * len(question) + 120:
            raise LLMFailure("the LLM's rewrite of the follow-up was empty or too long")
        if detect_language(rewritten) != detect_language(question):
            raise LLMFailure("the LLM rewrote the follow-up in another language")
        return rewritten
