"""HTML for the browser UI: citation cards, highlighted sentences, answers, corpus status.

Everything that comes from the corpus or the user (passage text, file names, answers,
questions) is HTML-escaped here before any markup of ours is added: a document holding
``<img src=x onerror=...>`` must show as text, never run.
"""

from __future__ import annotations

import html
import re
from typing import Any, Sequence

from .passages import Answer, Citation, Passage
from .store import IndexInfo

#: Closest passages shown when the assistant abstains.
CLOSEST_SHOWN = 3

_MARKER = re.compile(r"\[(\d+)\]")

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
.rag-section { font-size: 0.85em; opacity: 0.75; margin: 0.15em 0 0.3em; }
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
.rag-key { color: #7c2d12; }
#rag-chat strong.rag-key { background: #fde68a; border-radius: 3px; padding: 0 2px; }
.rag-unverified { text-decoration: underline wavy #b45309; text-underline-offset: 3px; }
.rag-unverified-tag { color: #b45309; font-size: 0.75em; margin-left: 2px; }
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

def highlight(text: str, spans: Sequence[tuple[int, int]], keys: Sequence[tuple[int, int]] = ()) -> str:
    """Escape ``text``, wrap the ``(start, end)`` spans in ``<mark>`` and the answer-phrase
    ``keys`` in ``<strong class="rag-key">``.

    Spans are applied to the raw text and each segment is escaped separately, so offsets
    stay right and nothing in the text can become markup.
    """
    n = len(text)
    level = [0] * (n + 1)  # 0 plain, 1 marked, 2 marked answer phrase
    for spans_, value in ((spans, 1), (keys, 2)):
        for s, e in spans_:
            for i in range(max(0, s), min(n, e)):
                level[i] = max(level[i], value)
    out, pos = [], 0
    while pos < n:
        end = pos
        while end < n and level[end] == level[pos]:
            end += 1
        piece = _esc(text[pos:end])
        out.append(piece if level[pos] == 0 else f"<mark>{piece}</mark>" if level[pos] == 1
                   else f'<mark><strong class="rag-key">{piece}</strong></mark>')
        pos = end
    return "".join(out)


def _lines(p: Passage) -> str:
    lines = f"line {p.line_start}" if p.line_start == p.line_end else f"lines {p.line_start}–{p.line_end}"
    return f"p. {p.page} · {lines}" if p.page is not None else lines


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
        body = highlight(p.text, getattr(p, "highlights", []), getattr(p, "key_spans", []))
    else:
        head, attrs = f'<span class="rag-num rag-muted">#{p.rank}</span>', 'class="rag-card rag-other"'
        body = _esc(p.text)
    return (
        f'<article {attrs} data-source="{_esc(p.source)}">'
        f'<div class="rag-card-head">{head}<span class="rag-src">{_esc(p.source)}</span>'
        f'<span class="rag-lines">{_lines(p)}</span>'
        f'<span class="rag-score" title="{title}">score {p.score:.4f}</span></div>'
        + (f'<div class="rag-section">{_esc(p.section)}</div>' if p.section else "")
        + f'<div class="rag-text">{body}</div></article>'
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
    if answer.notice:
        parts.append(f'<div class="rag-notice rag-answer-notice" role="status">{_esc(answer.notice)}</div>')
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
    written = "written by the LLM from the cited passages" if answer.mode == "llm" else "quoted from the documents"
    parts.append(f'<p class="rag-muted">{written} · confidence {answer.confidence:.2f} · '
                 f'{answer.elapsed_ms:.0f} ms</p>')
    parts.append("</div>")
    return "".join(parts)


def render_searching(question: str) -> str:
    """The panel while a question is being answered."""
    return (f'<div class="rag-panel" data-complete="false"><h3>Sources</h3>'
            f'<p class="rag-muted">Searching the documents for: {_esc(question)}</p></div>')


def render_answer(text: str, citations: Sequence[Citation] = (), link: bool = True,
                  key_phrases: Sequence[str] = (), sentences: Sequence[Any] = ()) -> str:
    """Answer text as chat HTML: escaped, ``[n]`` markers linked to their ``#cite-n`` cards,
    each answer phrase (the year, number or name asked for) in bold, and each generated
    sentence its cited passages do not support marked "unverified"."""
    numbers = {c.number for c in citations}
    keys = [_esc(k) for k in dict.fromkeys(key_phrases) if k.strip()]

    def plain(segment: str) -> str:
        escaped = _esc(segment)
        for k in keys:  # both sides escaped: the phrase can never inject markup
            escaped = escaped.replace(k, f'<strong class="rag-key">{k}</strong>', 1)
        return escaped

    def linked(segment: str) -> str:
        out, pos = [], 0
        for m in _MARKER.finditer(segment):
            out.append(plain(segment[pos:m.start()]))
            n = int(m.group(1))
            if link and n in numbers:
                out.append(f'<a class="rag-ref" href="#cite-{n}" title="show source [{n}]">[{n}]</a>')
            else:
                out.append(_esc(m.group(0)))
            pos = m.end()
        out.append(plain(segment[pos:]))
        return "".join(out)

    parts, pos = [], 0
    for s in sentences:
        at = text.find(s.text, pos)
        if s.supported or at < 0:
            continue
        why = "cites no passage" if not s.markers else f"not supported by the cited passage (support {s.support:.2f})"
        parts.append(linked(text[pos:at]))
        parts.append(f'<span class="rag-unverified" title="{_esc(why)}">{linked(s.text)}'
                     f'<sup class="rag-unverified-tag">unverified</sup></span>')
        pos = at + len(s.text)
    parts.append(linked(text[pos:]))
    return "".join(parts).replace("\n", "<br>")


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
    problems = "".join(f'<p class="rag-notice">{_esc(p)}</p>' for p in info.problems)
    return f'<div class="rag-panel rag-status"><dl>{body}</dl>{problems}</div>'


def render_status_error(message: str) -> str:
    """The corpus status box when the index cannot be read."""
    return f'<div class="rag-panel rag-status rag-notice">{_esc(message)}</div>'
