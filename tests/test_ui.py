"""The UI's functions called directly (no browser): rendering, escaping, streaming, errors."""

from __future__ import annotations

import html
import re

import gradio as gr
import pytest

from app.errors import ConfigError

from app import server, ui
from app.config import load_config
from app.passages import Answer, Citation, Passage
from tests.conftest import write_config

XSS_TEXT = (
    "网页安全测试文件。\n"
    "第一条测试内容是脚本标签<script>alert(1)</script>,它必须作为文字显示。\n"
    "第二条测试内容是图片标签<img src=x onerror=alert(1)>,它也必须作为文字显示。\n"
    "第三条测试内容是模板语法${alert(1)}和{{constructor}},它们同样不能被执行。\n"
)
CN_QUESTION = "华为的异构计算架构叫什么？"


def _strip_tags(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup.replace("<br>", "\n")))


def _passage(text: str, source: str = "a.txt", rank: int = 1) -> Passage:
    return Passage(id=f"p{rank}", text=text, source=source, char_start=0, char_end=len(text),
                   line_start=3, line_end=5, score=0.03, dense_score=0.8, lexical_score=2.5, rank=rank)


def _citation(text: str, number: int, highlights, source: str = "a.txt") -> Citation:
    return Citation(id=f"c{number}", text=text, source=source, char_start=0, char_end=len(text),
                    line_start=3, line_end=5, score=0.03, rank=number, number=number, highlights=highlights)


def xss_project_assistant(folder, embedder):
    """An Assistant over a corpus whose text holds HTML/script payloads (shares the model)."""
    from app import Assistant
    from ingest import ingest

    (folder / "corpus").mkdir()
    (folder / "corpus" / "xss_probe.txt").write_text(XSS_TEXT, encoding="utf-8")
    config = load_config(write_config(folder))
    ingest(config, progress=False, embedder=embedder)
    return Assistant(config, embedder=embedder)


@pytest.fixture(scope="module")
def xss_assistant(tmp_path_factory, assistant):
    return xss_project_assistant(tmp_path_factory.mktemp("xss_project"), assistant.embedder)


@pytest.fixture(scope="module")
def cn_answer(assistant):
    return assistant.ask(CN_QUESTION)


# -- rendering ----------------------------------------------------------------------------

def test_highlight_marks_spans_on_raw_text_and_escapes_each_segment():
    text = "前言<b>。答案在这里<i>。后记&"
    start = text.index("答案")
    end = text.index("。后记") + 1
    out = ui.highlight(text, [(start, end)])
    assert out == "前言&lt;b&gt;。<mark>答案在这里&lt;i&gt;。</mark>后记&amp;"


def test_highlight_merges_overlaps_and_clamps_out_of_range_spans():
    assert ui.highlight("abcdef", [(3, 5), (1, 4), (10, 20), (-5, 0)]) == "a<mark>bcde</mark>f"
    assert ui.highlight("abc", []) == "abc"


def test_citation_cards_match_the_answer_markers(cn_answer):
    assert cn_answer.found, "the article answers this question (CANN)"
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", cn_answer.text)}
    panel = ui.render_citations(cn_answer)
    cards = {int(n) for n in re.findall(r'id="cite-(\d+)"', panel)}
    assert markers and cards == markers
    for c in cn_answer.citations:
        card = re.search(rf'<article class="rag-card" id="cite-{c.number}".*?</article>', panel, re.S).group(0)
        assert f'<span class="rag-num">[{c.number}]</span>' in card
        assert html.escape(c.source) in card and f"{c.line_start}" in card and f"score {c.score:.4f}" in card


def test_citation_card_marks_the_answer_sentence(cn_answer):
    panel = ui.render_citations(cn_answer)
    marked = [html.unescape(re.sub(r"</?strong[^>]*>", "", m))
              for m in re.findall(r"<mark>(.*?)</mark>", panel, flags=re.S)]
    assert marked, "the cited passage highlights the sentence the answer quotes"
    for sentence in marked:
        assert sentence.strip() and sentence.strip() in cn_answer.text
    assert any("CANN" in s for s in marked)


def test_uncited_passages_are_listed_in_a_collapsed_details(cn_answer):
    panel = ui.render_citations(cn_answer)
    others = len(cn_answer.passages) - len({c.id for c in cn_answer.citations})
    assert others > 0  # top-k 5 and one or two citations
    assert f"<details><summary>Other retrieved passages ({others})</summary>" in panel
    assert "<details open" not in panel


def test_render_card_escapes_passage_text_and_source():
    text = "安全<script>alert(1)</script>测试<img src=x onerror=alert(1)>结束。"
    card = ui.render_card(_citation(text, 2, [(0, len(text))], source='<b>"x".txt'), 2)
    assert "<script" not in card and "<img" not in card and "<b>" not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card and "&lt;img src=x onerror=alert(1)&gt;" in card
    assert 'id="cite-2"' in card and "&lt;b&gt;&quot;x&quot;.txt" in card


def test_render_answer_escapes_and_links_only_cited_markers():
    cits = [_citation("x", 1, [])]
    out = ui.render_answer("甲<img src=x onerror=alert(1)>乙。[1] 丙。[3]\n丁", cits)
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert '<a class="rag-ref" href="#cite-1"' in out and "#cite-3" not in out and "[3]" in out
    assert "<br>" in out
    assert "href" not in ui.render_answer("甲。[1]", cits, link=False)


def test_abstention_renders_a_notice_and_the_closest_passages():
    passages = [_passage(f"最接近的段落{i}<i>。", rank=i) for i in range(1, 6)]
    answer = Answer(question="红烧肉的家常做法是什么？", text="抱歉，文档中没有找到能回答这个问题的内容。",
                    found=False, citations=[], passages=passages, confidence=0.2)
    panel = ui.render_citations(answer)
    assert 'class="rag-notice"' in panel and 'data-found="false"' in panel
    assert "do not answer" in panel
    assert panel.count('class="rag-card rag-other"') == ui.CLOSEST_SHOWN
    assert 'id="cite-' not in panel and "<i>" not in panel


def test_empty_panel_is_a_placeholder():
    panel = ui.render_citations(None)
    assert "rag-panel" in panel and "cite-" not in panel


def test_status_shows_files_chunks_embedder_and_last_ingest(assistant):
    info = assistant.info()
    status = ui.render_status(info)
    assert "ai_compute_war.txt" in status and f"{info.chunks} (" in status
    assert html.escape(info.embedder) in status and info.last_ingest and info.last_ingest in status


# -- the chat generator -------------------------------------------------------------------

def test_chat_stream_shows_the_question_then_streams_growing_text(assistant, monkeypatch):
    monkeypatch.setattr(ui, "STREAM_DELAY_S", 0)
    question = "英伟达在2022年底推出了哪些特供版芯片？"
    steps = list(ui.chat_stream(assistant, question))
    first_chat, first_panel, first_hist = steps[0]
    assert first_chat == [{"role": "user", "content": question}] and 'data-complete="false"' in first_panel
    assert first_hist == []
    texts = [_strip_tags(chat[-1]["content"]) for chat, _, _ in steps[1:]]
    answer = assistant.ask(question)
    assert texts[-1] == answer.text
    for shorter, longer in zip(texts, texts[1:]):
        assert longer.startswith(shorter) and len(longer) > len(shorter)
    assert len(texts) == len(list(assistant.ask_stream(question)))
    panels = [panel for _, panel, _ in steps[1:]]
    assert all('data-complete="false"' in p for p in panels[:-1]) and 'data-complete="true"' in panels[-1]
    history = steps[-1][2]
    assert history == [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def test_chat_stream_feeds_history_and_unlinks_older_answers(assistant, monkeypatch):
    monkeypatch.setattr(ui, "STREAM_DELAY_S", 0)
    seen = {}
    real = assistant.ask_stream

    def spy(question, history=None, **kw):
        seen["history"] = history
        return real(question, history=history, **kw)

    monkeypatch.setattr(assistant, "ask_stream", spy)
    *_, (chat1, _, hist1) = ui.chat_stream(assistant, CN_QUESTION)
    *_, (chat2, _, hist2) = ui.chat_stream(assistant, "那H20呢？", hist1)
    assert seen["history"] == hist1 and len(hist2) == 4 and len(chat2) == 4
    assert "href" not in chat2[1]["content"]  # the first answer's cards are gone from the panel


def test_empty_question_raises_gr_error(assistant):
    with pytest.raises(gr.Error, match="empty"):
        list(ui.chat_stream(assistant, "   "))


def test_assistant_errors_become_gr_error_without_traceback(assistant, monkeypatch):
    from app.errors import StoreUnavailableError

    def boom(*a, **k):
        raise StoreUnavailableError("cannot reach the Chroma server; start it")

    monkeypatch.setattr(assistant, "ask_stream", boom)
    with pytest.raises(gr.Error, match="cannot reach the Chroma server"):
        list(ui.chat_stream(assistant, CN_QUESTION))


def test_xss_corpus_renders_inert(xss_assistant, monkeypatch):
    monkeypatch.setattr(ui, "STREAM_DELAY_S", 0)
    question = "<img src=x onerror=alert(1)> 图片标签测试内容是什么？"
    *_, (chat, panel, _) = ui.chat_stream(xss_assistant, question)
    everything = panel + "".join(m["content"] for m in chat)
    assert not re.search(r"<\s*(script|img)", everything, flags=re.I)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in panel
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    assert escaped in panel and escaped in chat[0]["content"]


# -- re-ingest, build, serve --------------------------------------------------------------

def test_reingest_reports_and_reloads(tmp_path, assistant):
    from app import Assistant
    from ingest import ingest

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "one.txt").write_text("第一份文件讲芯片。它很短。\n", encoding="utf-8")
    config = load_config(write_config(tmp_path))
    ingest(config, progress=False, embedder=assistant.embedder)
    small = Assistant(config, embedder=assistant.embedder)
    (tmp_path / "corpus" / "two.txt").write_text("第二份文件讲光刻机。它也很短。\n", encoding="utf-8")
    calls = []
    summary = ui.reingest(small, lambda *a, **k: calls.append(a))
    assert "files: 2 indexed" in summary and calls
    assert small.sources == ["one.txt", "two.txt"] and "two.txt" in ui.render_status(small.info())


def test_build_ui_wires_the_named_elements(assistant):
    demo = ui.build_ui(assistant)
    assert isinstance(demo, gr.Blocks)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"rag-chat", "rag-question", "rag-ask", "rag-citations", "rag-status", "rag-clear"} <= ids
    chat = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "rag-chat")
    assert chat.sanitize_html and not chat.render_markdown


def test_launch_options_bind_loopback_and_ask_for_login_beyond_it(tmp_path):
    config = load_config(write_config(tmp_path))
    opts = server.launch_options(config)
    assert opts["server_name"] == "127.0.0.1" and opts["server_port"] == config.ui.port and "auth" not in opts
    # Beyond loopback without a login: refused unless explicitly allowed.
    with pytest.raises(ConfigError, match="without a login: set ui.username and ui.password"):
        server.launch_options(config, host="0.0.0.0")
    config = load_config(write_config(tmp_path, ui={"username": "u"}))  # half a login is no login
    with pytest.raises(ConfigError, match="allow_anonymous"):
        server.launch_options(config, host="0.0.0.0")
    anonymous = load_config(write_config(tmp_path, ui={"allow_anonymous": True}, api={"token": "t"}))
    assert "auth" not in server.launch_options(anonymous, host="0.0.0.0", port=9999)
    assert server.launch_options(anonymous, host="0.0.0.0", port=9999)["server_port"] == 9999
    config = load_config(write_config(tmp_path, ui={"username": "u", "password": 123456}, api={"token": "t"}))
    assert server.launch_options(config, host="0.0.0.0")["auth"] == ("u", "123456")
    assert "auth" not in server.launch_options(config, host="localhost")
    assert server.is_loopback("::1") and server.is_loopback("127.0.0.2") and not server.is_loopback("192.168.1.4")


def test_serve_without_an_index_prints_the_hint_and_exits_nonzero(tmp_path, capsys):
    (tmp_path / "corpus").mkdir()
    path = write_config(tmp_path)
    with pytest.raises(SystemExit) as exc:
        server.serve(path, port=1)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "ingest" in err
