"""The eval corpora as shipped (no hand conversion): every sentence a gold answer quotes is a
whole sentence of its document, checked against the source's own structure (HTML block
elements, the PDF's line geometry), never against our extractor's output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.text import normalize
from eval.corpora import open_corpus
from eval.dataset import load_dataset

from .conftest import ROOT

DATASETS = ROOT / "eval" / "datasets"
# A sentence may end with these (closing quotes/brackets may follow).
_END = "。！？!?；;…:：."
_CLOSERS = "”’」』）)\"'"


def _quotes(answer) -> list[tuple[str, str]]:
    """(source file, quoted sentence) for every highlighted sentence of every citation."""
    out = []
    for c in answer.citations:
        for start, end in c.highlights:
            out.append((c.source, c.text[start:end]))
    return out


def _ends_sentence(text: str) -> bool:
    return text.rstrip(_CLOSERS + " ")[-1:] in _END


def _answers(assistant, dataset: str):
    data = load_dataset(DATASETS / dataset / "gold.jsonl")
    corpus = open_corpus(assistant, data)
    return [corpus.ask(q.question) for q in data.questions if q.answerable]


@pytest.fixture(scope="module")
def faq_quotes(assistant):
    return [q for a in _answers(assistant, "debian_faq") for q in _quotes(a)]


@pytest.fixture(scope="module")
def guide_quotes(assistant):
    return [q for a in _answers(assistant, "maint_guide") for q in _quotes(a)]


def _html_blocks(path: Path) -> list[str]:
    """The text of every block element of the source HTML (table rows as 'a | b'), from lxml."""
    import lxml.html

    tree = lxml.html.parse(str(path)).getroot()
    blocks = []
    for el in tree.iter("p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "caption", "th", "td", "tr",
                        "pre", "blockquote", "div"):
        if el.tag == "tr":
            blocks.append(" | ".join(" ".join(c.text_content().split()) for c in el if c.tag in ("td", "th")))
        elif el.tag == "pre":
            blocks += [" ".join(line.split()) for line in el.text_content().splitlines()]
        else:
            blocks.append(" ".join(el.text_content().split()))
    return [b for b in blocks if b]


def test_faq_html_quotes_are_whole_sentences(faq_quotes):
    html = [(s, q) for s, q in faq_quotes if s.endswith(".html")]
    assert len(html) >= 10
    blocks = {s: _html_blocks(DATASETS / "debian_faq" / "corpus" / s) for s, _ in html}
    fragments = []
    for source, quote in html:
        q = " ".join(quote.split())
        # Innermost block holding the quote (the smallest one).
        holders = sorted((b for b in blocks[source] if q in b), key=len)
        assert holders, f"{source}: quote not inside any block element: {quote!r}"
        block = holders[0]
        i = block.index(q)
        starts = i == 0 or block[:i].rstrip()[-1:] in _END + _CLOSERS
        ends = i + len(q) == len(block) or _ends_sentence(q)
        if not (starts and ends):
            fragments.append((source, quote, block))
    assert not fragments, fragments[:3]


def test_guide_pdf_quotes_are_whole_sentences(guide_quotes):
    """A quote that stops where a full-width PDF line stops, without a sentence end, is a
    sentence cut at a line wrap (the old loader's fault)."""
    import pdfplumber

    pdf_path = DATASETS / "maint_guide" / "corpus" / "maint-guide.zh-cn.pdf"
    full_lines, raw = set(), []
    with pdfplumber.open(str(pdf_path)) as pdf:
        for page in pdf.pages:
            lines = page.extract_text_lines()
            if not lines:
                continue
            right = max(l["x1"] for l in lines)
            for l in lines:
                raw.append(l["text"])
                text = re.sub(r"\d", "", normalize(l["text"]))
                if l["x1"] > right - 15 and len(text) >= 8:
                    full_lines.add(text)
    # Footnote reference numbers are dropped from sentences: compare without digits.
    source_text = re.sub(r"\d", "", normalize("".join(raw)))
    assert len(guide_quotes) >= 10
    for _, quote in guide_quotes:
        n = normalize(quote)
        assert re.sub(r"\d", "", n) in source_text, f"not in the PDF: {quote!r}"
        if not _ends_sentence(quote):
            # Cut at a wrap: the quote ends where a full-width line ends, taking in that
            # whole line or starting inside it. (Only the last few characters matching is
            # not enough: the code line "$ dquilt add Makefile" ends as a prose line does.)
            m = re.sub(r"\d", "", n)
            assert not any(m.endswith(line) or line.endswith(m) for line in full_lines), \
                f"cut at a line wrap: {quote!r}"
    assert not [q for _, q in guide_quotes if re.fullmatch(r"\d{1,2}", q.strip())]
