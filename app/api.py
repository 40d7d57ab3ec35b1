"""Answers as JSON for other programs, and the Gradio API endpoints that return them.

One JSON shape serves every way in: the Gradio endpoints ``/ask`` and ``/ask_stream``
(``gradio_client``), the OpenAI-compatible ``/v1/chat/completions`` (its ``citations``
field, see :mod:`app.openai_api`) and ``python -m app ask --json`` readers:

- ``text``: the answer, plain text with ``[n]`` markers (the refusal when nothing is found);
- ``found``: False when the documents do not answer the question (an abstention);
- ``confidence``: the score compared with ``answer.min_score`` (comparable across corpora);
- ``citations``: the passages the markers refer to, each with ``number`` (its ``[n]``),
  ``text``, ``source``, ``section``, ``page``, ``location``, ``spans`` and ``score``;
- ``passages``: everything retrieved, best first, same fields (``number`` is the rank);
- ``searched_as`` (the follow-up as resolved), ``notice``, ``mode``, ``language``,
  ``key_phrases``, ``sentences`` (LLM mode: each with ``supported``), ``expansion``,
  ``elapsed_ms``.

``spans`` are where the passage sits in its file: ``chars`` ``[start, end)`` offsets and
``lines`` ``[first, last]`` (1-based). Citations add ``highlights`` and ``key_spans``:
``[start, end)`` offsets inside the passage ``text`` of the quoted sentences and of the
answer phrase in them.
"""

from __future__ import annotations

from typing import Any, Iterator

from .errors import AssistantError, InvalidRequestError
from .passages import Answer, Passage


def passage_json(passage: Passage, number: int) -> dict[str, Any]:
    """One passage (or citation) as JSON; ``number`` is its marker or rank."""
    out = {
        "number": number,
        "id": passage.id,
        "text": passage.text,
        "source": passage.source,
        "section": passage.section,
        "page": passage.page,
        "location": passage.location,
        "spans": {"chars": [passage.char_start, passage.char_end], "lines": [passage.line_start, passage.line_end]},
        "score": round(float(passage.score), 6),
    }
    if hasattr(passage, "highlights"):
        out["highlights"] = [list(s) for s in passage.highlights]
        out["key_spans"] = [list(s) for s in passage.key_spans]
    return out


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer as the documented JSON object (see the module docstring)."""
    return {
        "question": answer.question,
        "text": answer.text,
        "found": answer.found,
        "confidence": round(float(answer.confidence), 4),
        "citations": [passage_json(c, c.number) for c in answer.citations],
        "passages": [passage_json(p, i) for i, p in enumerate(answer.passages, 1)],
        "searched_as": answer.resolved_question,
        "notice": answer.notice,
        "mode": answer.mode,
        "language": answer.language,
        "key_phrases": list(answer.key_phrases),
        "expansion": list(answer.expansion),
        "elapsed_ms": answer.elapsed_ms,
        "sentences": [{"text": s.text, "markers": list(s.markers), "supported": s.supported,
                       "support": round(float(s.support), 4)} for s in answer.sentences],
    }


def check_history(history: Any) -> list:
    """``history`` as a list of turns the assistant understands, or InvalidRequestError.

    Accepted: earlier user questions as strings, ``[question, answer]`` pairs, or chat
    messages ``{"role": "user" | "assistant", "content": "..."}`` (what ``/ask`` returns
    for the next turn is not needed: pass the messages you showed).
    """
    if history is None:
        return []
    if not isinstance(history, list):
        raise InvalidRequestError("history must be a list of earlier turns (strings or {role, content} messages)")
    for turn in history:
        ok = isinstance(turn, str) or (
            isinstance(turn, (list, tuple)) and len(turn) == 2 and all(isinstance(x, (str, type(None))) for x in turn)
        ) or (isinstance(turn, dict) and isinstance(turn.get("role"), str) and isinstance(turn.get("content"), str))
        if not ok:
            raise InvalidRequestError(f"history item {str(turn)[:80]!r} is not a string, a [question, answer] pair "
                                      "or a {role, content} message")
    return history


def add_gradio_api(assistant, concurrency_limit: int = 4) -> None:
    """Register ``/ask`` and ``/ask_stream`` on the Blocks being built (call inside it).

    They run in their own queue group: the engine lock inside the assistant keeps them
    safe, and in LLM mode callers waiting on the model do not block each other.
    """
    import gradio as gr

    def _run(call):
        try:
            return call()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc

    def ask(question: str, history: list | None = None, top_k: int | None = None,
            sources: list[str] | None = None, mode: str | None = None) -> dict:
        """Answer a question from the documents, with cited passages.

        question: the question, Chinese or English. history: earlier turns for follow-ups
        (strings, or {role, content} messages). top_k: passages to retrieve (1-100).
        sources: only search these files. mode: "extractive" or "llm" (default from config).
        Returns JSON: text (with [n] markers), found, confidence, citations, passages, ...
        """
        return _run(lambda: answer_json(assistant.ask(question, history=check_history(history), top_k=top_k,
                                                      sources=sources or None, mode=mode or None)))

    def ask_stream(question: str, history: list | None = None, top_k: int | None = None,
                   sources: list[str] | None = None, mode: str | None = None) -> Iterator[dict]:
        """Like /ask, streamed: {"text": answer so far, "done": false} steps, then the
        whole answer JSON with "done": true."""
        steps = _run(lambda: assistant.ask_stream(question, history=check_history(history), top_k=top_k,
                                                  sources=sources or None, mode=mode or None))
        try:
            while True:
                step = _run(lambda: next(steps, None))
                if step is None:
                    return
                if step.done:
                    yield {**answer_json(step.answer), "done": True}
                else:
                    yield {"text": step.text, "done": False}
        finally:
            steps.close()  # a client that went away closes the LLM request too

    common = {"concurrency_id": "api", "concurrency_limit": concurrency_limit}
    gr.api(ask, api_name="ask", **common)
    gr.api(ask_stream, api_name="ask_stream", **common)
