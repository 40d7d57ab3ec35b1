"""The browser UI: chat with streamed, cited answers and the cited passages beside them.

Thin on purpose (like Gradio's own demos): small functions that call the
:class:`~app.assistant.Assistant` facade and return HTML or chat messages (each testable
without a browser), then :func:`build_ui` wires them into ``gr.Blocks``, then
:func:`serve` and a launch guard. Start it with ``python -m app serve``.

Everything that comes from the corpus or the user (passage text, file names, answers,
questions) is HTML-escaped here before any markup of ours is added: a document holding
``<img src=x onerror=...>`` must show as text, never run.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import gradio as gr

from .errors import AssistantError
from .passages import Answer, Citation, Passage
from .store import IndexInfo

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

#: Closest passages shown when the assistant abstains.
CLOSEST_SHOWN = 3

_MARKER = re.compile(r"\[(\d+)\]")
# One ingestion at a time in this process: embedded Chroma is single-writer (DESIGN.md §4).
_INGEST_LOCK = threading.Lock()

_CSS = """
.rag-panel { font-size: 14px; line-height: 1.6; color: var(--body-text-color); }
.rag-panel h3 { font-size: 15px; margin: 0 0 8px; }
.rag-muted { color: var(--body-text-color-subdued); font-size: 13px; }
.rag-card { border: 1px solid var(--border-color-primary); border-left: 4px solid #2563eb;
  border-radius: 8px; padding: 8px 12px; margin: 0 0 10px; background: var(--background-fill-secondary);
  scroll-margin-top: 80px; transition: box-shadow .3s; }
.rag-card.rag-other { border-left-color: var(--border-color-primary); }
.rag-card.rag-flash { box-shadow: 0 0 0 3px #f59e0b; }
.rag-card-head { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; font-size: 13px; }
.rag-num { font-weight: 700; color: #2563eb; font-size: 14px; }
.rag-src { font-family: var(--font-mono); overflow-wrap: anywhere; }
.rag-score { color: var(--body-text-color-subdued); margin-left: auto; }
.rag-text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0 0; }
.rag-text mark, .rag-legend mark { background: #fde68a; color: #1f2937; border-radius: 3px; padding: 0 2px; }
.rag-notice { border: 1px solid #f59e0b; background: #fffbeb; color: #78350f; border-radius: 8px;
  padding: 10px 12px; margin: 0 0 12px; }
.rag-panel details { margin-top: 8px; }
.rag-panel summary { cursor: pointer; font-weight: 600; margin-bottom: 8px; }
.rag-status dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.rag-status dt { font-weight: 600; }
.rag-status dd { margin: 0; overflow-wrap: anywhere; }
#rag-chat a.rag-ref { color: #2563eb; font-weight: 600; text-decoration: none; }
#rag-chat a.rag-ref:hover { text-decoration: underline; }
"""

# Markers in the chat are links to "#cite-n"; scroll the card into view instead of jumping.
_NAV_JS = """
if (!window.__ragCiteNav) {
  window.__ragCiteNav = true;
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#cite-"]') : null;
    if (!a) return;
    var card = document.getElementById(a.getAttribute('href').slice(1));
    if (!card) return;
    ev.preventDefault();
    card.scrollIntoView({behavior: 'smooth', block: 'center'});
    card.classList.add('rag-flash');
    setTimeout(function () { card.classList.remove('rag-flash'); }, 1500);
  }, true);
}
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


# -- rendering (pure functions: Answer/IndexInfo in, HTML out) ------------------------------

def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Escape ``text`` and wrap the ``(start, end)`` spans in ``<mark>``.

    Spans are applied to the raw text and each segment is escaped separately, so offsets
    stay right and nothing in the text can become markup.
    """
    clean = sorted((max(0, s), min(len(text), e)) for s, e in spans)
    merged: list[list[int]] = []
    for start, end in clean:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out.append(_esc(text[pos:start]))
        out.append(f"<mark>{_esc(text[start:end])}</mark>")
        pos = end
    out.append(_esc(text[pos:]))
    return "".join(out)


def _lines(p: Passage) -> str:
    return f"line {p.line_start}" if p.line_start == p.line_end else f"lines {p.line_start}–{p.line_end}"


def render_card(p: Passage, number: int | None = None) -> str:
    """One passage as a card: ``[n]`` (when cited), file, line span, score, text."""
    detail = []
    if p.dense_score is not None:
        detail.append(f"cosine {p.dense_score:.3f}")
    if p.lexical_score is not None:
        detail.append(f"BM25 {p.lexical_score:.2f}")
    title = _esc(" · ".join(detail) or "fused rank score")
    if number is not None:
        head, attrs = f'<span class="rag-num">[{number}]</span>', f'class="rag-card" id="cite-{number}"'
        body = highlight(p.text, getattr(p, "highlights", []))
    else:
        head, attrs = f'<span class="rag-num rag-muted">#{p.rank}</span>', 'class="rag-card rag-other"'
        body = _esc(p.text)
    return (
        f'<article {attrs} data-source="{_esc(p.source)}">'
        f'<div class="rag-card-head">{head}<span class="rag-src">{_esc(p.source)}</span>'
        f'<span class="rag-lines">{_lines(p)}</span>'
        f'<span class="rag-score" title="{title}">score {p.score:.4f}</span></div>'
        f'<div class="rag-text">{body}</div></article>'
    )


def render_citations(answer: Answer | None, complete: bool = True) -> str:
    """The citations panel for the latest answer (placeholder HTML when there is none).

    Cited passages come first as cards ``id="cite-n"`` whose numbers match the ``[n]``
    markers, with the answer sentences in ``<mark>``; the other retrieved passages follow
    in a collapsed ``<details>``. An abstention shows a notice and the closest passages.
    """
    state = f'data-complete="{str(complete).lower()}"'
    if answer is None:
        return (f'<div class="rag-panel" {state}><h3>Sources</h3><p class="rag-muted">Ask a question: '
                "the passages the answer cites appear here, with the quoted sentences highlighted.</p></div>")
    parts = [f'<div class="rag-panel" {state} data-found="{str(answer.found).lower()}">']
    if answer.resolved_question:
        parts.append(f'<p class="rag-muted">Searched as: {_esc(answer.resolved_question)}</p>')
    if answer.found:
        cited = {c.id for c in answer.citations}
        parts.append(f"<h3>Sources cited ({len(answer.citations)})</h3>")
        parts += [render_card(c, c.number) for c in sorted(answer.citations, key=lambda c: c.number)]
        others = [p for p in answer.passages if p.id not in cited]
        if others:
            parts.append(f"<details><summary>Other retrieved passages ({len(others)})</summary>")
            parts += [render_card(p) for p in others]
            parts.append("</details>")
    else:
        parts.append('<div class="rag-notice" role="status"><strong>The documents do not answer this '
                     "question.</strong> 文档中没有找到答案。 The closest passages are listed for reference; "
                     "none of them supports an answer.</div>")
        closest = answer.passages[:CLOSEST_SHOWN]
        if closest:
            parts.append(f"<h3>Closest passages ({len(closest)})</h3>")
            parts += [render_card(p) for p in closest]
    parts.append(f'<p class="rag-muted">confidence {answer.confidence:.2f} · {answer.elapsed_ms:.0f} ms</p>')
    parts.append("</div>")
    return "".join(parts)


def render_searching(question: str) -> str:
    """The panel while a question is being answered."""
    return (f'<div class="rag-panel" data-complete="false"><h3>Sources</h3>'
            f'<p class="rag-muted">Searching the documents for: {_esc(question)}</p></div>')


def render_answer(text: str, citations: Sequence[Citation] = (), link: bool = True) -> str:
    """Answer text as chat HTML: escaped, ``[n]`` markers linked to their ``#cite-n`` cards."""
    numbers = {c.number for c in citations}
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        out.append(_esc(text[pos:m.start()]))
        n = int(m.group(1))
        if link and n in numbers:
            out.append(f'<a class="rag-ref" href="#cite-{n}" title="show source [{n}]">[{n}]</a>')
        else:
            out.append(_esc(m.group(0)))
        pos = m.end()
    out.append(_esc(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def render_question(text: str) -> str:
    """A user message as chat HTML (escaped)."""
    return _esc(text).replace("\n", "<br>")


def render_status(info: IndexInfo) -> str:
    """The corpus status box: files, chunks, embedder, last ingest time."""
    files = ", ".join(_esc(f) for f in info.files) or "none"
    rows = [
        ("Files", f"{len(info.files)}: {files}"),
        ("Chunks", f"{info.chunks} ({info.sentences} sentences)"),
        ("Embedder", _esc(info.embedder)),
        ("Collection", _esc(info.collection)),
        ("Last ingest", _esc(info.last_ingest or "unknown")),
    ]
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<div class="rag-panel rag-status"><dl>{body}</dl></div>'


# -- behaviour (call the facade; no Gradio layout) -------------------------------------------

def to_chat(history: Sequence[dict]) -> list[dict]:
    """Display messages for earlier turns (markers unlinked: their cards are gone)."""
    return [{"role": m["role"], "content": render_question(m["content"]) if m["role"] == "user"
             else render_answer(m["content"], link=False)} for m in history]


def _bot(text: str, answer: Answer) -> dict:
    return {"role": "assistant", "content": render_answer(text, answer.citations)}


def chat_stream(assistant, question: str, history: Sequence[dict] | None = None, top_k: int | None = None,
                sources: Sequence[str] | None = None) -> Iterator[tuple[list[dict], str, list[dict]]]:
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
    try:
        stream = assistant.ask_stream(question, history=history, top_k=top_k, sources=list(sources or []) or None)
        # Hold one item back so the last yield is known to be the final one, and make it the
        # full answer text even if the sentence split dropped something.
        last = None
        for item in stream:
            if last is not None:
                yield shown + [user, _bot(*last)], render_citations(last[1], complete=False), history
                if STREAM_DELAY_S:
                    time.sleep(STREAM_DELAY_S)
            last = item
        if last is None:
            return
        answer = last[1]
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
                with gr.Accordion("Corpus", open=False, elem_id="rag-corpus"):
                    status = gr.HTML(render_status(assistant.info()), elem_id="rag-status")
                    reingest_btn = gr.Button(f"Re-ingest {config.corpus.dir.name}/", size="sm")
                    summary = gr.Textbox(label="Last ingestion", lines=4, interactive=False,
                                         elem_id="rag-ingest-summary")
            with gr.Column(scale=2, min_width=320):
                panel = gr.HTML(render_citations(None), elem_id="rag-citations", head=f"<style>{_CSS}</style>",
                                js_on_load=_NAV_JS, padding=True)

        def respond(q, hist, k, srcs):
            for chat, html_, new_hist in chat_stream(assistant, q, hist, int(k), srcs):
                yield chat, html_, new_hist, ""

        outputs = [chatbot, panel, history, question]
        for trigger in (question.submit, ask.click):
            trigger(respond, [question, history, top_k, sources], outputs, **busy)
        for button in examples:
            button.click(respond, [button, history, top_k, sources], outputs, **busy)
        clear.click(lambda: ([], render_citations(None), [], ""), None, outputs, queue=False)
        # The chat's own trash icon empties the display; forget the conversation with it.
        chatbot.clear(lambda: (render_citations(None), []), None, [panel, history], queue=False)

        def on_reingest(progress=gr.Progress(track_tqdm=True)):
            text = reingest(assistant, progress)
            return text, render_status(assistant.info()), gr.update(choices=assistant.sources)

        reingest_btn.click(on_reingest, None, [summary, status, sources], **busy)
    return demo


# -- serving --------------------------------------------------------------------------------

def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch_options(config, host: str | None = None, port: int | None = None) -> dict[str, Any]:
    """``launch()`` keyword arguments: flags over config, login only beyond loopback."""
    host = host or config.ui.host
    opts: dict[str, Any] = {"server_name": host, "server_port": port or config.ui.port,
                            "ssr_mode": False, "show_error": False, "quiet": True}
    if not is_loopback(host):
        if config.ui.username and config.ui.password:
            opts["auth"] = (config.ui.username, config.ui.password)
        else:
            log.warning("serving on %s without a login: set ui.username and ui.password "
                        "(or RAG__UI__USERNAME / RAG__UI__PASSWORD) to require one", host)
    return opts


def serve(config_path: str | Path | None = None, host: str | None = None, port: int | None = None) -> None:
    """Load the config and index, then serve the UI until Ctrl-C (exit 1 on a known error)."""
    from .assistant import Assistant
    from .config import load_config

    try:
        config = load_config(config_path)
        assistant = Assistant(config)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    opts = launch_options(config, host, port)
    demo = build_ui(assistant)
    try:
        demo.queue(default_concurrency_limit=1).launch(prevent_thread_lock=True, **opts)
    except OSError as exc:
        print(f"error: cannot serve on {opts['server_name']}:{opts['server_port']} ({exc}); "
              "pick another port with --port N", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"Serving the assistant at {demo.local_url}  (Ctrl-C to stop)", flush=True)
    try:
        demo.block_thread()
    finally:
        demo.close()


if __name__ == "__main__":
    serve()
