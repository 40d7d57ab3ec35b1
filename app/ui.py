"""The browser UI: chat with streamed, cited answers and the cited passages beside them.

Thin on purpose (like Gradio's own demos): small functions that call the
:class:`~app.assistant.Assistant` facade and return HTML or chat messages (each testable
without a browser), then :func:`build_ui` wires them into ``gr.Blocks``;
:mod:`app.server` serves it (with the OpenAI-compatible API) on one port: start it with
``python -m app serve``.

The HTML (and its escaping of everything from the corpus or the user) lives in
:mod:`app.ui_html`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Iterator, Sequence

import gradio as gr

from .api import add_gradio_api
from .errors import AssistantError
from .passages import Answer
from .ui_html import (  # noqa: F401  (re-exported: the UI's HTML is part of its API)
    _CSS,
    _NAV_JS,
    CLOSEST_SHOWN,
    highlight,
    render_answer,
    render_card,
    render_citations,
    render_question,
    render_searching,
    render_status,
    render_status_error,
)

log = logging.getLogger("app.ui")

#: Clickable example questions: Chinese and English, answerable and not.
EXAMPLES = [
    "华为的异构计算架构叫什么？",
    "英伟达在2022年底推出了哪些特供版芯片？",
    "Which Nvidia chip is Huawei's Ascend 910B comparable to?",
    "黄仁勋是哪一年出生的？",
]

#: Pause between streamed sentences, so the answer visibly grows instead of arriving in
#: one frame (the extractive answer is complete before the first sentence is sent).
STREAM_DELAY_S = 0.05

# One ingestion at a time in this process: embedded Chroma is single-writer (DESIGN.md §4).
_INGEST_LOCK = threading.Lock()

# -- behaviour (call the facade; no Gradio layout) -------------------------------------------

def to_chat(history: Sequence[dict]) -> list[dict]:
    """Display messages for earlier turns (markers unlinked: their cards are gone)."""
    return [{"role": m["role"], "content": render_question(m["content"]) if m["role"] == "user"
             else render_answer(m["content"], link=False)} for m in history]


def _bot(text: str, answer: Answer) -> dict:
    return {"role": "assistant", "content": render_answer(text, answer.citations, key_phrases=answer.key_phrases,
                                                          sentences=answer.sentences)}


def chat_stream(assistant, question: str, history: Sequence[dict] | None = None, top_k: int | None = None,
                sources: Sequence[str] | None = None, mode: str | None = None
                ) -> Iterator[tuple[list[dict], str, list[dict]]]:
    """Answer ``question``, yielding ``(chat messages, citations panel, history)`` as it grows.

    ``history`` is the raw conversation (Gradio messages format, unescaped) that feeds
    follow-up resolution; the last yield returns it with this turn appended. Assistant
    errors become ``gr.Error`` with their user-facing message.
    """
    history = list(history or [])
    question = question if isinstance(question, str) else ""
    shown = to_chat(history)
    user = {"role": "user", "content": render_question(question.strip())}
    if question.strip():  # show the question at once; the answer follows
        yield shown + [user], render_searching(question), history
    stream = None
    try:
        stream = assistant.ask_stream(question, history=history, top_k=top_k, sources=list(sources or []) or None,
                                      mode=mode)
        answer = None
        for step in stream:
            if not step.done:
                yield shown + [user, _bot(step.text, step.answer)], render_citations(step.answer, complete=False), \
                    history
                # Extractive answers are complete at once: pace the sentences so the answer
                # visibly grows. LLM tokens arrive at the model's own pace.
                if STREAM_DELAY_S and step.answer.mode != "llm":
                    time.sleep(STREAM_DELAY_S)
                continue
            answer = step.answer
        if answer is None:
            return
        new_history = history + [{"role": "user", "content": answer.question},
                                 {"role": "assistant", "content": answer.text}]
        yield shown + [user, _bot(answer.text, answer)], render_citations(answer), new_history
    except AssistantError as exc:
        raise gr.Error(str(exc)) from exc
    except gr.Error:
        raise
    except Exception as exc:  # a traceback helps nobody in the browser; the log keeps it
        log.exception("answering %r failed", question)
        raise gr.Error(f"answering failed ({type(exc).__name__}); the server log has the details") from exc
    finally:
        # Gradio closes this generator when the browser goes away or the user stops: close
        # the answer stream with it, which closes the request to the LLM server.
        if stream is not None:
            stream.close()


def reingest(assistant, progress: Any = None) -> str:
    """Re-ingest the corpus folder, reload the assistant, and return the ingest summary."""
    from ingest import ingest  # the UI's one write path; the rest of app only reads

    progress = progress or (lambda *a, **k: None)
    if not _INGEST_LOCK.acquire(blocking=False):
        raise gr.Error("an ingestion is already running; wait for it to finish")
    try:
        progress(0.0, desc=f"reading {assistant.config.corpus.dir}")
        report = ingest(assistant.config, progress=True, embedder=assistant.embedder)
        progress(0.95, desc="reloading the index")
        assistant.reload()
    except AssistantError as exc:
        raise gr.Error(str(exc)) from exc
    finally:
        _INGEST_LOCK.release()
    return report.summary()


# -- layout ---------------------------------------------------------------------------------

def build_ui(assistant) -> gr.Blocks:
    """The Blocks app over ``assistant``: chat, citations panel, settings, corpus status."""
    config = assistant.config
    # Asking and re-ingesting share one queue slot: 2 cores, one embedding engine, one writer.
    busy = {"concurrency_id": "assistant", "concurrency_limit": 1}

    with gr.Blocks(title="Cited answers · 文档问答") as demo:
        history = gr.State([])
        gr.Markdown("## Ask the documents · 文档问答\nAnswers quote the documents and cite them: "
                    "click a marker such as [1] to see its passage.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="rag-chat", height=440,
                    # Messages are HTML built (and escaped) by render_answer/render_question;
                    # Markdown off so corpus text cannot turn into markup, sanitising on as a
                    # second line of defence, no LaTeX, no custom tags.
                    render_markdown=False, sanitize_html=True, latex_delimiters=[], allow_tags=False,
                    feedback_options=None, buttons=[],
                    placeholder="Ask in Chinese or English, e.g. 华为的异构计算架构叫什么？",
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(show_label=False, placeholder="Your question · 输入问题", lines=1,
                                          max_lines=4, scale=5, min_width=200, elem_id="rag-question")
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="rag-ask")
                gr.Markdown("**Examples**", elem_classes="rag-muted")
                with gr.Row():
                    examples = [gr.Button(q, size="sm", min_width=150, elem_classes="rag-example")
                                for q in EXAMPLES]
                clear = gr.Button("Clear conversation", size="sm", elem_id="rag-clear")
                with gr.Accordion("Settings", open=False, elem_id="rag-settings"):
                    top_k = gr.Slider(1, 20, value=config.retrieval.top_k, step=1,
                                      label="Passages to retrieve (top-k)")
                    sources = gr.Dropdown(assistant.sources, value=[], multiselect=True,
                                          label="Only search these files (empty: all)")
                    mode = gr.Radio(["extractive", "llm"], value=config.answer.mode.value,
                                    label=f"Answer mode (llm: the server at {config.llm.base_url})")
                with gr.Accordion("Corpus", open=False, elem_id="rag-corpus"):
                    status = gr.HTML(render_status(assistant.info()), elem_id="rag-status")
                    reingest_btn = gr.Button(f"Re-ingest {config.corpus.dir.name}/", size="sm")
                    summary = gr.Textbox(label="Last ingestion", lines=4, interactive=False,
                                         elem_id="rag-ingest-summary")
            with gr.Column(scale=2, min_width=320):
                panel = gr.HTML(render_citations(None), elem_id="rag-citations", head=f"<style>{_CSS}</style>",
                                js_on_load=_NAV_JS, padding=True)

        def respond(q, hist, k, srcs, m):
            steps = chat_stream(assistant, q, hist, int(k), srcs, m)
            try:
                for chat, html_, new_hist in steps:
                    yield chat, html_, new_hist, ""
            finally:
                steps.close()  # a cancelled event stops the answer (and the LLM request)

        outputs = [chatbot, panel, history, question]
        # The page's own events are private: programs use the documented /ask endpoints
        # (app.api), which return JSON instead of the page's HTML.
        private = {"api_visibility": "private"}
        for trigger in (question.submit, ask.click):
            trigger(respond, [question, history, top_k, sources, mode], outputs, **busy, **private)
        for button in examples:
            button.click(respond, [button, history, top_k, sources, mode], outputs, **busy, **private)
        clear.click(lambda: ([], render_citations(None), [], ""), None, outputs, queue=False, **private)
        # The chat's own trash icon empties the display; forget the conversation with it.
        chatbot.clear(lambda: (render_citations(None), []), None, [panel, history], queue=False, **private)

        def on_reingest(progress=gr.Progress(track_tqdm=True)):
            text = reingest(assistant, progress)
            return text, render_status(assistant.info()), gr.update(choices=assistant.sources, value=[])

        # Re-ingesting stays a button on the page (behind its login), not an API endpoint;
        # scripts run `python -m ingest` (server mode) and the UI reloads.
        reingest_btn.click(on_reingest, None, [summary, status, sources], **busy, **private)

        def on_load():
            # A page opened after a re-ingest (here or from the command line) shows today's files.
            try:
                return render_status(assistant.info()), gr.update(choices=assistant.sources, value=[])
            except AssistantError as exc:
                return render_status_error(str(exc)), gr.update(choices=[], value=[])

        demo.load(on_load, None, [status, sources], queue=False, **private)
        add_gradio_api(assistant, concurrency_limit=max(1, config.llm.max_concurrency))
    return demo
