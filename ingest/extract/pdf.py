"""PDF to blocks with pdfplumber: wrapped lines joined, running headers dropped, pages kept.

pdfplumber (pdfminer.six underneath, MIT) gives each text line with its position, font and
size, which is what re-flowing needs; pypdfium2's text API is faster but returns wrapped
lines with no sizes, and PyMuPDF is AGPL. From the line geometry:

* **running headers, footers and page numbers**: lines in the top/bottom tenth of the page
  whose text (digits masked) repeats on many pages, or that are only a page number;
* **headings**: lines set in a larger size than the body text (the most common size); each
  larger size is one level, the largest first;
* **paragraphs**: a line continues the previous one when the previous line was cut by the
  right margin (the next line's first word would not have fitted after it) and the line
  is not a list item; CJK joins without a space, Latin words with one, and a word
  hyphenated across the break is mended. Paragraphs continue across page breaks;
* **code** (monospaced) lines stay one block each;
* **footnote references** (small digits right after body text) are dropped from the
  sentence they interrupt; footnotes themselves stay, as their own blocks.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import _DOT_LEADER, Block, ExtractStats
from .plain import join_wrapped

_MONO = re.compile(r"mono|courier|code|consol|menlo", re.IGNORECASE)
_MARKER = re.compile(r"^\s*([•·▪◦‣–—\-*]\s*|\(?\d{1,3}[.)、]\s+|[①-⑳])")
_PAGE_NUMBER = re.compile(r"^\s*(-\s*)?(\d+|[ivxlc]+)(\s*(/|of|／)\s*\d+)?(\s*-)?\s*$|^\s*第\s*\d+\s*页.*$",
                          re.IGNORECASE)
_SUPERSCRIPTS = set("⁰¹²³⁴⁵⁶⁷⁸⁹")
_PAGE_TAIL = re.compile(r"\s*\b(\d+|[ivxlc]+)(\s*(/|of)\s*\d+)?$", re.IGNORECASE)
_FOOTNOTE_NUMBER = re.compile(r"^\d{1,2}(?=\s*[^\d\s.,:/-])\s*")
# A footnote reference set in body size where a line ends: "…的软件包。3", "支持 $(DESTDIR) 变量2".
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")
_TRAILING_REF = re.compile(r"([。！？；”’）)\u4e00-\u9fff])\d{1,2}$")
# A heading that only labels the next one: "Chapter 2" above "第一步".
_LABEL = re.compile(r"^(chapter|appendix|part|第)\s*[\w一二三四五六七八九十]+\s*[章部篇]?$", re.IGNORECASE)


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    mono: bool
    page: int
    page_height: float
    first_word_width: float


def _first_word_width(chars: list[dict]) -> float:
    """How wide the line's first word is (one character for CJK)."""
    if not chars:
        return 0.0
    first = chars[0]
    if ord(first["text"][:1] or " ") >= 0x2E80:
        return first["x1"] - first["x0"]
    end = first["x1"]
    for ch in chars[1:]:
        if not ch["text"].strip() or ord(ch["text"][:1]) >= 0x2E80 or ch["x0"] - end > ch["size"] * 0.25:
            break
        end = ch["x1"]
    return end - first["x0"]


def _read_lines(pdf) -> tuple[list[list[_Line]], float]:
    """Text lines of every page, and the body font size."""
    from pdfplumber.utils.text import chars_to_textmap

    pages: list[list[_Line]] = []
    sizes: Counter = Counter()
    for page in pdf.pages:
        for ch in page.chars:
            sizes[round(ch["size"] * 2) / 2] += 1
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    for number, page in enumerate(pdf.pages, 1):
        kept, prev = [], None
        chars = page.chars
        for i, ch in enumerate(chars):
            nxt = chars[i + 1] if i + 1 < len(chars) else None
            # Footnote references: superscript digits (some fonts set "15" as "1" + "⁵"), or
            # small or raised digits right after body text.
            ref = ch["text"] in _SUPERSCRIPTS or (
                ch["text"].isdigit() and nxt is not None and nxt["text"] in _SUPERSCRIPTS) or (
                ch["text"].isdigit() and prev is not None and prev["size"] >= body * 0.95
                and abs(prev["top"] - ch["top"]) < body
                and (ch["size"] < body * 0.85 or ch["bottom"] < prev["bottom"] - 0.2 * prev["size"]))
            if not ref:
                kept.append(ch)
            prev = ch
        textmap = chars_to_textmap(kept, layout_bbox=page.bbox, layout_width=page.width,
                                   layout_height=page.height, x_tolerance=1.5)
        lines = []
        for raw in textmap.extract_text_lines(strip=True, return_chars=True):
            cs = raw["chars"]
            if not raw["text"].strip() or not cs:
                continue
            size = statistics.median(c["size"] for c in cs)
            # Code is set entirely in a monospaced font; prose may quote commands inline.
            mono = sum(1 for c in cs if _MONO.search(c.get("fontname", ""))) >= 0.95 * len(cs)
            lines.append(_Line(raw["text"], raw["x0"], raw["x1"], raw["top"], raw["bottom"], size, mono,
                               number, float(page.height), _first_word_width(cs)))
        pages.append(lines)
    return pages, body


def _drop_running(pages: list[list[_Line]], stats: ExtractStats) -> list[list[_Line]]:
    """Remove running headers/footers and page numbers."""
    def band(line: _Line) -> bool:
        return line.top < 0.1 * line.page_height or line.bottom > 0.9 * line.page_height

    def key(line: _Line) -> str:  # page numbers masked: "Manual 7 / 57" and "Manual iv" agree
        text = _PAGE_TAIL.sub("", " ".join(line.text.split()))
        return re.sub(r"\d+", "#", text)

    counts = Counter(k for lines in pages for k in {key(l) for l in lines if band(l)})
    repeated = {k for k, c in counts.items() if c >= max(2, 0.3 * len(pages))}
    out = []
    for lines in pages:
        kept = []
        for line in lines:
            if band(line) and (key(line) in repeated or _PAGE_NUMBER.match(line.text)):
                stats.boilerplate_chars += len(line.text.strip())
            else:
                kept.append(line)
        out.append(kept)
    return out


def pdf_blocks(path: Path, stats: ExtractStats) -> list[Block]:
    """Blocks of a PDF file, each with its page number."""
    import pdfplumber

    stats.extractor = "pdfplumber"
    with pdfplumber.open(str(path)) as pdf:
        pages, body = _read_lines(pdf)
    stats.pages = len(pages)
    stats.rewrapped = True
    pages = _drop_running(pages, stats)
    body_lines = [l for lines in pages for l in lines if abs(l.size - body) < 0.5 and not l.mono]
    if not body_lines:
        return [Block(l.text, page=l.page) for lines in pages for l in lines]
    right = sorted(l.x1 for l in body_lines)[int(len(body_lines) * 0.95) - 1]
    heading_sizes = sorted({round(l.size * 2) / 2 for lines in pages for l in lines
                            if l.size > body * 1.15 and len(l.text) <= 120}, reverse=True)
    levels = {s: i + 1 for i, s in enumerate(heading_sizes)}
    # The usual distance from one line of a paragraph to the next; more means a new paragraph.
    pitches = [b.top - a.top for lines in pages for a, b in zip(lines, lines[1:])
               if abs(a.size - body) < 0.5 and abs(b.size - body) < 0.5 and 0 < b.top - a.top < 3 * body]
    pitch = statistics.median(pitches) if pitches else body * 1.2

    blocks: list[Block] = []
    open_para: Block | None = None  # the body paragraph that may continue
    last: _Line | None = None
    open_small: Block | None = None  # the footnote that may continue
    last_small: _Line | None = None
    for lines in pages:
        for line in lines:
            text = " ".join(line.text.split())
            level = levels.get(round(line.size * 2) / 2, 0) if line.size > body * 1.15 and len(text) <= 120 else 0
            if level:
                prev = blocks[-1] if blocks else None
                if prev is not None and prev.kind == "heading" and prev.page == line.page and (
                        prev.level == level or _LABEL.match(prev.text)):
                    prev.text = f"{prev.text} {text}"  # "Chapter 2" + "第一步", a title on two lines
                else:
                    blocks.append(Block(text, "heading", level=level, page=line.page))
                open_para = last = open_small = last_small = None
                continue
            if line.mono:
                blocks.append(Block(line.text.rstrip(), "code", page=line.page))
                open_para = last = open_small = last_small = None
                continue
            text = _TRAILING_REF.sub(r"\1", text)
            # A dropped reference (or an emphasis box) leaves a gap between two CJK characters.
            text = _CJK_GAP.sub("", text)
            if re.fullmatch(r"\d{1,2}", text):  # a raised reference that landed on a line of its own
                continue
            # Footnotes (small print) re-flow on their own, without closing the body paragraph
            # they interrupt (it may continue on the next page).
            small = line.size < body * 0.9
            para, prev = (open_small, last_small) if small else (open_para, last)
            if para is not None and prev is not None and _continues(prev, line, right, pitch):
                para.text = join_wrapped(para.text, text)
            elif small and _FOOTNOTE_NUMBER.match(text):  # "3参见 …": the footnote's own number
                para = Block(_FOOTNOTE_NUMBER.sub("", text), page=line.page)
                blocks.append(para)
            else:
                para = Block(_MARKER.sub("", text) if _MARKER.match(text) else text,
                             "list_item" if _MARKER.match(text) else "paragraph", page=line.page)
                blocks.append(para)
            if small:
                open_small, last_small = para, line
            else:
                open_para, last = para, line
                open_small = last_small = None
    return blocks


def _continues(prev: _Line, line: _Line, right: float, pitch: float) -> bool:
    """Whether ``line`` continues the paragraph that ``prev`` ended."""
    if _MARKER.match(line.text) or abs(prev.size - line.size) > 0.6:
        return False
    if _DOT_LEADER.match(prev.text) or _DOT_LEADER.match(line.text):
        return False  # table-of-contents entries are one per line
    if prev.page == line.page and line.top - prev.top > 1.3 * pitch:
        return False  # more space than between the lines of a paragraph
    # The wrapper cut prev when the next word would not have fitted after it (one character
    # of slack: CJK line-breaking rules move a character or two to the next line).
    return prev.x1 + line.first_word_width > right - 1.2 * line.size
