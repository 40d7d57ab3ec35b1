"""HTML (and Markdown, rendered to HTML) to blocks, with inscriptis.

inscriptis lays HTML out the way a browser would: block elements (headings, paragraphs,
list items, table rows, ``pre``) start new lines, inline elements (``code``, ``a``,
``span``, ``em``) stay inside the sentence, tables keep their rows. We annotate headings,
tables and ``pre`` so each output line can be typed, and prune navigation, tables of
contents and site chrome from the tree first. Measured against html-text and trafilatura
on the Debian FAQ chapters (eval/datasets/debian_faq): see README "Loaders".
"""

from __future__ import annotations

import re

from . import Block, ExtractStats
from .plain import display_width

# Site chrome, by element or by a class/id token. DocBook (navheader/navfooter/toc), Sphinx
# (sphinxsidebar, related), MkDocs/Material (md-sidebar, md-header), Javadoc-like (topNav).
_CHROME_TAGS = ("nav", "aside")
_CHROME_WORDS = re.compile(
    r"(^|[\s_-])(nav|navbar|navheader|navfooter|navigation|breadcrumbs?|toc|sidebar|sphinxsidebar|"
    r"related|menu|skip-?link|md-sidebar|md-header|md-footer|topnav|bottomnav|footer-nav|pagination)($|[\s_-])",
    re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[*•◦▪‣–-]\s+")


# Elements that hold the page itself, whatever their classes say: Asciidoctor writes
# <body class="article toc2 toc-left"> for a page with a table of contents on the left.
_CONTENT_TAGS = ("html", "body", "main", "article")
# A wrapper matched only by a class or id word (page with-sidebar, wy-nav-content-wrap)
# that holds more than this share of the page's prose (text outside links) is the page's
# content named for its layout. Navigation (nav, aside, role=navigation) and link lists (a
# table of contents, however long) are chrome whatever their size.
_CHROME_MAX_SHARE = 0.5


def _text_len(el) -> int:
    return len(" ".join(el.text_content().split()))


def _prose_len(el) -> int:
    """Characters of ``el``'s text outside links."""
    return _text_len(el) - sum(_text_len(a) for a in el.iter("a") if a is not el)


def _is_content_wrapper(el, prose: int) -> bool:
    """Whether an element that a class/id word marks as chrome holds the page's content:
    more than :data:`_CHROME_MAX_SHARE` of the page's ``prose``."""
    return bool(prose) and _prose_len(el) > _CHROME_MAX_SHARE * prose


def _prune(tree, stats: ExtractStats) -> None:
    """Drop navigation, tables of contents and page chrome, counting what they held."""
    doomed = []
    prose = _prose_len(tree)
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in _CONTENT_TAGS:
            continue
        marks = f"{el.get('class', '')} {el.get('id', '')}"
        structural = (tag in _CHROME_TAGS or el.get("role") in ("navigation", "banner", "contentinfo")
                      or (tag in ("header", "footer") and el.getparent() is not None
                          and el.getparent().tag.lower() == "body"))
        if structural or (_CHROME_WORDS.search(marks) and not _is_content_wrapper(el, prose)):
            doomed.append(el)
    dropped: set = set()
    for el in doomed:
        # An element inside one already dropped went with it (and was counted there).
        if el.getparent() is None or any(a in dropped for a in el.iterancestors()):
            continue
        stats.boilerplate_chars += _text_len(el)
        dropped.add(el)
        el.drop_tree()


def _unbox_admonitions(tree) -> None:
    """Asciidoctor sets a note, tip or warning as a one-row table (an icon cell titled
    "Note", then the text): read as a table it became "Note | 在用新版本的 KiCad…", a row
    that is no sentence. Its content cell becomes a plain block and the icon goes."""
    for table in tree.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " admonitionblock ")]/table'):
        content = table.xpath('.//td[contains(concat(" ", normalize-space(@class), " "), " content ")]')
        if content and table.getparent() is not None:
            cell = content[0]
            cell.tag = "div"
            for name in list(cell.attrib):
                del cell.attrib[name]
            table.getparent().replace(table, cell)


# Alternatives a page shows one of, by platform (LibreOffice help: a hidden span per
# system, picked by a script), and the systems that name them.
_SWITCH = ('//*[contains(concat(" ", normalize-space(@class), " "), " switchinline ")'
           ' or contains(concat(" ", normalize-space(@class), " "), " switch ")]')
_PLATFORMS = {"MAC", "WIN", "UNIX", "UNX", "LINUX"}


def _resolve_switches(tree) -> None:
    """LibreOffice help writes a word that differs by system or application as hidden
    alternatives, of which a script shows one: ``<span class="switchinline"><span hidden
    class="MAC">Command</span><span hidden id="default…">Ctrl</span></span>``. Read as
    text every alternative stayed, run together (``CommandCtrl+F3``, ``SlidePage``). The
    platform cases go when there is a default (the key most readers press); alternatives by
    application (Impress ``Slide``, otherwise ``Page``) both stay, set apart by " / "."""
    for switch in tree.xpath(_SWITCH):
        cases = [c for c in switch if isinstance(c.tag, str) and c.get("hidden") is not None]
        if len(cases) < 2:
            continue
        if any(c.get("id", "").startswith("default") for c in cases):
            for c in cases:
                if c.get("class", "").strip().upper() in _PLATFORMS:
                    c.drop_tree()
            cases = [c for c in cases if c.getparent() is switch]
        if switch.tag.lower() == "span":
            for c in cases[:-1]:
                c.tail = " / " + (c.tail or "")


def html_blocks(html: str, stats: ExtractStats) -> list[Block]:
    """Blocks of an HTML document (already decoded to str)."""
    import lxml.html
    from inscriptis import Inscriptis
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    stats.extractor = "inscriptis"
    html = _XML_DECL.sub("", html)
    if not html.strip():
        return []
    tree = lxml.html.document_fromstring(html)
    for el in tree.xpath("//script|//style|//noscript|//template|//head"):
        el.drop_tree()
    _prune(tree, stats)
    _unbox_admonitions(tree)
    _resolve_switches(tree)
    rules = {f"h{i}": [f"h{i}"] for i in range(1, 7)}
    rules.update({"table": ["table"], "pre": ["pre"], "caption": ["caption"], "figcaption": ["caption"]})
    # "strict" keeps inline elements inline and adds no decorative padding.
    config = ParserConfig(css=CSS_PROFILES["strict"].copy(), annotation_rules=rules, table_cell_separator=" | ")
    parser = Inscriptis(tree, config)
    text = parser.get_text()
    labels = [(a.start, a.end, a.metadata) for a in parser.get_annotations()]
    stats.tables = sum(1 for *_, m in labels if m == "table")
    return _lines_to_blocks(text, labels)


def _lines_to_blocks(text: str, labels: list[tuple[int, int, str]]) -> list[Block]:
    """Type each output line by the annotations that cover it."""
    blocks: list[Block] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        lead = start + len(line) - len(line.lstrip())
        kinds = {m for s, e, m in labels if s <= lead < e}
        heading = min((int(m[1]) for m in kinds if re.fullmatch(r"h[1-6]", m)), default=0)
        if heading:
            blocks.append(Block(line.strip(), "heading", level=heading))
        elif "pre" in kinds:
            blocks.append(Block(line.rstrip(), "code"))
        elif "table" in kinds:
            cells = [c.strip() for c in line.split(" | ")]
            cells = [c for i, c in enumerate(cells) if c and (i == 0 or c != cells[i - 1])]
            if cells:
                blocks.append(Block(" | ".join(cells), "table_row"))
        elif "caption" in kinds:
            blocks.append(Block(line.strip(), "caption"))
        elif _BULLET.match(line):
            blocks.append(Block(_BULLET.sub("", line).strip(), "list_item"))
        else:
            blocks.append(Block(line.strip()))
    return blocks


def markdown_blocks(markdown: str, stats: ExtractStats) -> list[Block]:
    """Blocks of a Markdown document: rendered by markdown-it (CommonMark + tables), then as HTML.

    Rendering first means soft line breaks inside a paragraph join, ``#`` lines become
    headings, and ``**bold**`` / `` `code` `` / links lose their markup instead of leaking
    into quoted answers.
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")

    def softbreak(self, tokens, idx, options, env) -> str:
        # A line break inside a paragraph: nothing between CJK characters, a space otherwise.
        before = tokens[idx - 1].content[-1:] if idx > 0 else ""
        after = tokens[idx + 1].content[:1] if idx + 1 < len(tokens) else ""
        return "" if not before or not after or display_width(before) == 2 or display_width(after) == 2 else " "

    md.add_render_rule("softbreak", softbreak)
    html = md.render(markdown)
    blocks = html_blocks(f"<html><body>{html}</body></html>", stats)
    stats.extractor = "markdown-it+inscriptis"
    return blocks
