"""Structure-aware loading: whole sentences, tables as rows, section paths, pages, no boilerplate.

Real files where the repository has them: a DocBook HTML chapter of a manual (tests/data),
the Debian FAQ chapters (HTML, pandoc-made DOCX, and the package's 70-column .txt export)
and the Debian New Maintainers' Guide PDF from eval/datasets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.text import split_sentences
from ingest.chunking import chunk_document, sentence_records
from ingest.loaders import load_document

from .conftest import ROOT

DATA = ROOT / "tests" / "data"
FAQ = ROOT / "eval" / "datasets" / "debian_faq" / "corpus"
GUIDE = ROOT / "eval" / "datasets" / "maint_guide" / "corpus"
MB = 50 * 10**6


def load(path: Path):
    return load_document(path, path.parent, MB)


def sentences(doc) -> list[str]:
    return [s.text for s in split_sentences(doc.text)]


# -- HTML ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chapter():
    return load(DATA / "manual_chapter.html")


def test_inline_code_stays_inside_the_sentence(chapter):
    """Regression: `soup.get_text("\\n")` cut the sentence at every <code>; the answer quoted
    '软件包你能够强制使用严格的密码规则。在一个典型的 GNOME 系统，将会安装[1]'."""
    got = sentences(chapter)
    assert "通过 libpam-cracklib 软件包你能够强制使用严格的密码规则。" in got
    assert "在一个典型的 GNOME 系统，将会安装 libpam-gnome-keyring，它会自动从 PAM 获取密码。" in got
    assert "将会安装" not in [s[-4:] for s in got]


def test_quoted_path_stays_inside_the_sentence(chapter):
    """Regression: '如果想要运行 OpenSSH 服务，"[1]' lost the path after the comma."""
    assert '如果想要运行 OpenSSH 服务，"/etc/ssh/sshd_not_to_be_run" 必须不存在。' in sentences(chapter)


def test_table_rows_read_as_statements(chapter):
    lines = chapter.text.splitlines()
    assert "libpam-cracklib | 117 | 启用 cracklib 支持的插入式验证模块" in lines
    assert "软件包 | 流行度 | 说明" in lines
    assert chapter.stats.tables == 1 and chapter.stats.table_rows == 3


def test_list_items_and_pre_lines_are_blocks(chapter):
    lines = chapter.text.splitlines()
    assert "使用 passwd(1) 修改密码。" in lines  # no bullet glyph, inline code kept
    assert "$ sudo chage -l root" in lines


def test_html_section_paths(chapter):
    doc = chapter
    at = doc.text.index("通过 libpam-cracklib")
    assert doc.section_at(at) == "第 4 章 认证和访问控制 › 4.5. PAM 和 NSS › 4.5.4. 严格的密码规则"
    assert doc.section_at(doc.text.index("现代的类 Unix")) == "第 4 章 认证和访问控制 › 4.5. PAM 和 NSS"
    assert doc.page_at(at) is None  # HTML has no pages


def test_navigation_and_toc_are_dropped(chapter):
    for junk in ("上一页", "下一页", "起始页", "目录", "第 5 章 网络设置"):
        assert junk not in chapter.text
    # The heading text survives once, as a heading (the TOC's copy is gone).
    assert chapter.text.count("4.5.4. 严格的密码规则") == 1
    assert chapter.stats.boilerplate_chars > 50


def test_steps_two_procedures_share_are_kept_in_both(tmp_path):
    """Regression: a help page repeats steps 1-3 in its next procedure (open the panel…), and
    numbered lines whose text comes back later were taken for a table of contents and the
    first procedure lost its steps; so did a reference table repeated under a later function.
    A TOC's titles come back apart, each before its section's text; shared steps come back
    together, in order."""
    steps = ["打开活动概览，然后开始输入鼠标和触摸板。", "点击鼠标和触摸板打开面板。", "在触摸板区域，确认触摸板开关已打开。"]
    html = ("<html><body><h2>启用轻触点击</h2><ol>" + "".join(f"<li>{s}</li>" for s in steps) +
            "<li>打开轻触点击开关。</li></ol><h2>启用双指滚动</h2><ol>" + "".join(f"<li>{s}</li>" for s in steps) +
            "<li>打开双指滚动开关。</li></ol></body></html>")
    (tmp_path / "touchpad.html").write_text(html, encoding="utf-8")
    doc = load(tmp_path / "touchpad.html")
    for s in steps:
        assert doc.text.count(s) == 2, s
    assert doc.text.index("启用轻触点击") < doc.text.index(steps[0]) < doc.text.index("打开轻触点击开关")


def test_asciidoctor_page_with_a_left_toc_keeps_its_body(tmp_path):
    """Regression: Asciidoctor writes <body class="article toc2 toc-left">, and "toc" in the
    body's classes pruned the whole page as chrome (the KiCad manuals loaded as empty)."""
    html = ('<!DOCTYPE html><html><body class="article toc2 toc-left"><div id="header"><h1>PCB 编辑器</h1>'
            '<div id="toc" class="toc2"><div id="toctitle">目录</div><ul><li><a href="#a">简介</a></li></ul></div>'
            '</div><div id="content"><div class="sect1"><h2 id="a">简介</h2><div class="paragraph">'
            '<p>PCB 编辑器用于设计印刷电路板。它支持多达 32 个铜层。</p></div></div></div>'
            '<div class="admonitionblock note"><table><tr><td class="icon"><div class="title">Note</div></td>'
            '<td class="content">打开旧设计之前，请先保存一个备份。</td></tr></table></div>'
            '<div class="menu-wrapper">' + "<p>这是一段很长的正文，说明布局规则。</p>" * 20 + '</div></body></html>')
    (tmp_path / "pcbnew.html").write_text(html, encoding="utf-8")
    doc = load(tmp_path / "pcbnew.html")
    assert "PCB 编辑器用于设计印刷电路板。" in sentences(doc)
    assert "目录" not in doc.text  # the table of contents itself still goes
    # A note is a paragraph of its own, not a table row "Note | …".
    assert "打开旧设计之前，请先保存一个备份。" in doc.text.splitlines()
    assert "Note" not in doc.text and doc.stats.tables == 0
    # An element named like chrome that holds most of the page is content, not chrome.
    assert doc.text.count("这是一段很长的正文") == 20


def test_help_page_alternatives_by_system_keep_the_default(tmp_path):
    """Regression: LibreOffice help writes a key that differs by system as hidden
    alternatives a script picks from, and both stayed in the text: "按 CommandCtrl+F3"."""
    def switch(*cases):
        return '<span class="switchinline">' + "".join(
            f'<span hidden="true" {attr}>{word}</span>' for attr, word in cases) + "</span>"
    html = ('<html><body><h1>編輯群組</h1><p>選取群組並按 F3 可編輯群組中個別的物件。按 '
            + switch(('class="MAC" id="MACx_1"', "Command"), ('id="defaultx_1"', "Ctrl"))
            + '+F3 可結束群組編輯模式。</p><p>Choose '
            + switch(('class="IMPRESS" id="IMPRESSx_2"', "Slide"), ('id="defaultx_2"', "Page"))
            + ' - Properties.</p></body></html>')
    (tmp_path / "groups.html").write_text(html, encoding="utf-8")
    text = load(tmp_path / "groups.html").text
    assert "按 Ctrl+F3 可結束群組編輯模式。" in text and "Command" not in text
    # Alternatives by application both stay, set apart.
    assert "Choose Slide / Page - Properties." in text


def test_chrome_inside_a_content_wrapper_and_long_link_lists_still_go(tmp_path):
    """The share rule spares a layout wrapper named like chrome (ReadTheDocs'
    wy-nav-content-wrap) but not the navigation inside it, nor a table of contents longer
    than the page's text."""
    toc = "".join(f'<li><a href="#s{i}">第 {i} 节 安装与配置说明</a></li>' for i in range(40))
    html = ('<html><body><div class="sphinxsidebar"><ul>' + toc + '</ul></div>'
            '<div class="wy-nav-content-wrap"><div role="navigation">Docs » 安装</div>'
            '<div class="document"><p>运行安装程序即可。</p>' + "<p>安装过程会复制文件并写入配置。</p>" * 3 +
            '</div></div></body></html>')
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    doc = load(tmp_path / "page.html")
    assert "运行安装程序即可。" in doc.text
    assert "第 3 节" not in doc.text and "Docs »" not in doc.text


def test_real_faq_chapter():
    doc = load(FAQ / "pkgtools.zh-cn.html")
    assert "卸载一个软件包（包括配置文件）：dpkg --purge foo。" in sentences(doc)
    assert "上一页" not in doc.text and "起始页" not in doc.text
    at = doc.text.index("这是主要的软件包管理程序")
    assert doc.section_at(at).endswith("› 8.1. Debian 提供了哪些软件包管理程序？ › 8.1.1. dpkg")
    assert doc.stats.extractor == "inscriptis" and doc.stats.sections >= 10


# -- Markdown --------------------------------------------------------------------------------

def test_markdown_headings_soft_breaks_and_markup(tmp_path):
    md = ("# 用户手册\n\n## 安装\n\n运行 `make run` 即可**启动**界面，\n浏览器会打开 [本地地址](http://127.0.0.1)。\n"
          "This line is\nwrapped in Markdown.\n\n| 命令 | 作用 |\n|---|---|\n| make test | 运行测试 |\n")
    (tmp_path / "guide.md").write_text(md, encoding="utf-8")
    doc = load(tmp_path / "guide.md")
    assert "运行 make run 即可启动界面，浏览器会打开 本地地址。This line is wrapped in Markdown." in doc.text
    assert "make test | 运行测试" in doc.text.splitlines()
    assert doc.section_at(doc.text.index("运行")) == "用户手册 › 安装"


# -- plain text ------------------------------------------------------------------------------

def test_hard_wrapped_txt_is_rejoined():
    doc = load(FAQ / "customizing.txt")
    assert doc.stats.rewrapped
    got = sentences(doc)
    # Wrapped at 70 columns over two lines in the file.
    assert ("注意，自从引入 udev 之后，如果您更改了硬件外设的权限，这些权限可能在系统启动时被更改；") in got
    assert "如果恰好是您关心的硬件外设出现了这种情况，您需要修改 /etc/udev 中的规则。" in got
    assert "Debian 的 X 应用程序会将应用程序资源数据安装到 /etc/X11/app-defaults/ 目录。" in got
    # "(5) 手册页" after a cut line continues the sentence; it is not a list item.
    assert "详情请见 papersize (5) 手册页。" in got
    # Headings give sections; list items stay one per line.
    at = doc.text.index("许多在 /dev 目录下")
    assert doc.section_at(at) == "第 11 章 定制您的 Debian GNU/Linux 系统 › 11.2. 如何在不牺牲安全性的情况下提供对硬件外设的访问？"
    assert "1（单用户模式），" in doc.text.splitlines()


def test_wrapped_english_joins_words_and_mends_hyphens(tmp_path):
    para = ("The package manager keeps a database of every installed file, so that an inter-\n"
            "national user can remove a package cleanly and upgrade it later without leaving\n"
            "stale files behind on the system.\n")
    text = "\n".join([para] * 6)  # enough lines to tell the wrap width
    (tmp_path / "wrapped.txt").write_text(text, encoding="utf-8")
    doc = load(tmp_path / "wrapped.txt")
    assert doc.text.splitlines()[0] == (
        "The package manager keeps a database of every installed file, so that an international user "
        "can remove a package cleanly and upgrade it later without leaving stale files behind on the system.")


def test_unwrapped_text_keeps_its_lines():
    """The article has one paragraph per line: nothing is joined."""
    doc = load(ROOT / "corpus" / "ai_compute_war.txt")
    raw = [l.strip() for l in (ROOT / "corpus" / "ai_compute_war.txt").read_text(encoding="utf-8").splitlines()]
    assert not doc.stats.rewrapped
    assert doc.text.splitlines() == [l for l in raw if l]


# -- DOCX ------------------------------------------------------------------------------------

def test_docx_heading_styles_give_sections():
    doc = load(FAQ / "pkg-basics.docx")
    at = doc.text.index("软件包通常包括了实现一组互相关联的命令")
    assert doc.section_at(at) == "第 7 章 Debian 软件包管理系统基础 › 7.1. 什么是 Debian 软件包？"
    assert doc.text.count("第 7 章 Debian 软件包管理系统基础") == 1  # Title + Heading 1 with one text
    assert doc.stats.extractor == "python-docx"


def test_docx_tables_in_place_and_toc_dropped(tmp_path):
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    d = docx.Document()
    d.styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("1 安装 ........ 3", style="TOC 1")
    d.add_heading("第 1 章 安装", level=1)
    d.add_paragraph("安装前请先阅读下表。")
    table = d.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("软件包", "说明"), ("dpkg", "底层软件包管理工具")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    d.add_heading("1.1 配置", level=2)
    d.add_paragraph("配置文件位于 /etc/apt。")
    d.save(tmp_path / "manual.docx")
    doc = load(tmp_path / "manual.docx")
    assert doc.text.splitlines() == ["第 1 章 安装", "安装前请先阅读下表。", "软件包 | 说明", "dpkg | 底层软件包管理工具",
                                     "1.1 配置", "配置文件位于 /etc/apt。"]
    assert doc.section_at(doc.text.index("配置文件")) == "第 1 章 安装 › 1.1 配置"
    assert doc.stats.boilerplate_chars > 0 and doc.stats.tables == 1


# -- PDF -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def guide():
    return load(GUIDE / "maint-guide.zh-cn.pdf")


def test_pdf_wrapped_paragraph_is_whole(guide):
    got = sentences(guide)
    # Wrapped over two lines of page 8.
    assert "注意，你不可能在一夜之间成为 Debian Developer，因为成为 DD 所需要的远不只是技术技巧。" in got
    # Latin words hyphenated across a line break are mended ("ar-" / "chitecture").
    assert "package architecture" in guide.text and "ar-\nchitecture" not in guide.text


def test_pdf_running_headers_page_numbers_and_toc_are_dropped(guide):
    assert "Debian 新维护者手册 7 / 57" not in guide.text
    assert ". . . ." not in guide.text
    assert "1.1 Debian 的社会驱动力" in guide.text.splitlines()  # the heading, once
    assert guide.text.count("1.1 Debian 的社会驱动力") == 1
    assert guide.stats.boilerplate_chars > 1000 and guide.stats.pages == 22


def test_pdf_footnote_references_do_not_make_sentences(guide):
    """'…请求的软件包。3' ended with the footnote number, which became a one-character sentence."""
    assert "另外，你也可以“领养”那些维护者发送过“Request for Adoption”(RFA) 请求的软件包。" in sentences(guide)
    assert not [s for s in sentences(guide) if s.isdigit()]


def test_pdf_sections_and_pages(guide):
    at = guide.text.index("可能你已经想好了要制作的软件包")
    assert guide.section_at(at) == "Chapter 2 第一步 › 2.2 挑一个你喜欢的程序"
    assert guide.page_at(at) == 13


def test_chunks_carry_section_and_page_and_never_cross_sections(guide):
    chunks = chunk_document(guide, 300, 1)
    chunk = next(c for c in chunks if "可能你已经想好了要制作的软件包" in c.text)
    assert chunk.section == "Chapter 2 第一步 › 2.2 挑一个你喜欢的程序" and chunk.page == 13
    assert chunk.context_text.startswith(chunk.section + "\n") and chunk.text.startswith("2.2 挑一个")
    for c in chunks:
        assert guide.section_at(c.char_end - 1) == c.section
        assert guide.text[c.char_start:c.char_end] == c.text
    # The heading line is marked: context for retrieval, never an answer sentence.
    records = {r.text: r for r in sentence_records(guide, 300)}
    assert records["2.2 挑一个你喜欢的程序"].heading
    assert not records["可能你已经想好了要制作的软件包。"].heading


def test_pdf_without_text_layer_is_skipped_with_a_hint(tmp_path):
    import pypdfium2

    from ingest.loaders import SkipFile

    pdf = pypdfium2.PdfDocument.new()
    pdf.new_page(595, 842)
    pdf.save(tmp_path / "scan.pdf")
    with pytest.raises(SkipFile, match="no text layer"):
        load(tmp_path / "scan.pdf")
