"""Structure-aware text extraction: every format becomes a list of blocks, then one text.

Each format's extractor (``html``, ``pdf``, ``docx``, ``plain``) turns a file into
:class:`Block` objects (headings, paragraphs, list items, table rows, code lines) using a
layout-aware library; :func:`assemble` then builds the document text with **one block per
line**, so a line break always marks a block boundary and never falls inside a sentence,
drops boilerplate (navigation links, tables of contents) and records, by character offset,
the heading path (``第 4 章 … › 4.5.4 …``) and the PDF page every part of the text sits on.

``LOADER_VERSION`` is part of every file's fingerprint: bump it whenever an extractor's
output changes, and the next ingestion re-extracts every file instead of reusing its cache.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, field

#: Bump when any extractor's output changes (part of each file's fingerprint), or the
#: sentence splitting that chunks are cut from (11: a step's number stays with its step).
LOADER_VERSION = "11"

#: Separator of the levels of a section path.
SECTION_SEP = " › "


@dataclass
class Block:
    """One structural unit of a document, as the extractor saw it."""

    text: str
    #: heading | paragraph | list_item | table_row | code | caption
    kind: str = "paragraph"
    #: Heading level, 1 = top (only for headings).
    level: int = 0
    #: 1-based page number (PDF only).
    page: int | None = None


@dataclass
class ExtractStats:
    """What the extractor read from one file, for the ingestion summary."""

    extractor: str = "text"
    blocks: int = 0
    sections: int = 0
    tables: int = 0
    table_rows: int = 0
    pages: int = 0
    #: Characters dropped as boilerplate (navigation, tables of contents, running headers).
    boilerplate_chars: int = 0
    #: Whether hard-wrapped lines were re-joined (plain text and PDF).
    rewrapped: bool = False
    #: Whether this run reused a cached extraction (same bytes, same loader version).
    cached: bool = False

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


@dataclass
class Extracted:
    """A document's text with where its sections and pages start."""

    text: str
    #: (char offset, heading path) at every change of section, sorted by offset.
    sections: list[tuple[int, str]] = field(default_factory=list)
    #: (char offset, page number) at every change of page, sorted by offset (PDF only).
    pages: list[tuple[int, int]] = field(default_factory=list)
    stats: ExtractStats = field(default_factory=ExtractStats)


def mark_at(marks: list[tuple[int, object]], offset: int):
    """The value of the last (offset, value) mark at or before ``offset``; None before the first."""
    i = bisect.bisect_right(marks, offset, key=lambda m: m[0]) - 1
    return marks[i][1] if i >= 0 else None


# Lines that are only navigation: 上一页 / 下一页 / 起始页 / 目录 / Prev / Next / Home / Up ...
_NAV_WORDS = r"(上一页|下一页|上一章|下一章|上一节|下一节|起始页|首页|返回目录|返回顶部|上一级|回到顶部|目录|" \
             r"prev(ious)?|next|home|up|top|contents|table of contents|back to top)"
_NAV_LINE = re.compile(rf"^(\W*{_NAV_WORDS}\W*)+$", re.IGNORECASE)
# A table-of-contents entry: "1.2 需要的开发工具 . . . . 3", "第 2 章 第一步 7", "2.1. Debian 软件包制作流程".
# Possessive quantifiers: a long run of ". . . ." must not backtrack exponentially.
_LEADER = r"[.·…](?:[ \t]?[.·…]){2,}+[ \t]*+\d++[ \t]*$"
_DOT_LEADER = re.compile(rf"^\S.*?{_LEADER}")
# "2 第一步 6", "A 高级打包 53": a numbered title followed by its page number.
_PAGED_ENTRY = re.compile(r"^([0-9]+(\.[0-9]+)*\.?|[A-Z])\s+\S.{0,80}\s\d{1,4}$")
_NUMBERED = re.compile(r"^(第\s*[0-9一二三四五六七八九十百]+\s*[章节篇部]|chapter\s+\d+|appendix\s+[a-z]|[0-9]+(\.[0-9]+)*\.?)\s*\S",
                       re.IGNORECASE)


def is_navigation(text: str) -> bool:
    """Whether a block is nothing but navigation links (上一页 | 起始页 | 下一页)."""
    return bool(_NAV_LINE.match(text.strip()))


def _toc_runs(blocks: list[Block]) -> set[int]:
    """Indices of blocks that form a table of contents.

    A TOC is a run of 3+ blocks that are each a dot-leader entry, or numbered entries whose
    titles come back later as real headings or paragraphs (so a run of genuine numbered
    headings with body text between them is never taken for one, nor steps that come back
    together, in order: a procedure's steps repeated in the next one).
    """
    keys = [_title_key(b.text) for b in blocks]
    # Where each block's text comes back next (None: never) and whether it is its first
    # time: "comes back later and not seen before" in O(1) (slicing the list per block made a
    # 50 MB file with many numbered lines quadratic).
    following: list[int | None] = [None] * len(keys)
    upcoming: dict[str, int] = {}
    for n in range(len(keys) - 1, -1, -1):
        following[n] = upcoming.get(keys[n])
        upcoming[keys[n]] = n
    first = upcoming  # after the backward pass: each key's first position
    out: set[int] = set()
    i = 0
    while i < len(blocks):
        j = i
        while j < len(blocks) and blocks[j].kind != "code" and (
                _DOT_LEADER.match(blocks[j].text) or _PAGED_ENTRY.match(blocks[j].text) or
                (_NUMBERED.match(blocks[j].text) and len(blocks[j].text) <= 120
                 and following[j] is not None and first[keys[j]] == j)):
            j += 1
        # Numbered lines that come back together, in order, are steps two procedures share
        # (1. Open the Activities overview… under "enable" and again under "disable"): a
        # TOC's titles come back apart, each with its section's text after it.
        again = [following[k] for k in range(i, j)]
        shared = j - i >= 3 and all(_NUMBERED.match(blocks[k].text) for k in range(i, j)) \
            and all(a is not None for a in again) and all(b == a + 1 for a, b in zip(again, again[1:]))
        if j - i >= 3:
            if not shared:
                out.update(range(i, j))
            i = j
        else:
            i += 1
    return out


def _title_key(text: str) -> str:
    """A TOC entry and its heading compare equal: no leaders, page numbers or spaces."""
    text = re.sub(_LEADER, "", text.strip())
    return re.sub(r"\s+", "", text)


def assemble(blocks: list[Block], stats: ExtractStats) -> Extracted:
    """Join blocks into the document text (one block per line) with section and page marks."""
    toc = _toc_runs(blocks)
    lines: list[str] = []
    sections: list[tuple[int, str]] = []
    pages: list[tuple[int, int]] = []
    stack: list[tuple[int, str]] = []  # (level, title) of the open headings
    offset = 0
    kept = 0
    for i, block in enumerate(blocks):
        text = " ".join(block.text.split()) if block.kind != "code" else block.text.replace("\n", " ").rstrip()
        if not text.strip():
            continue
        if i in toc or (block.kind != "code" and is_navigation(text)):
            stats.boilerplate_chars += len(text)
            continue
        if block.kind == "heading":
            if stack and stack[-1][1] == text:  # a title repeated as the first heading
                continue
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, text))
            stats.sections += 1
        path = SECTION_SEP.join(t for _, t in stack) if stack else None
        if path and (not sections or sections[-1][1] != path):
            sections.append((offset, path))
        if block.page is not None and (not pages or pages[-1][1] != block.page):
            pages.append((offset, block.page))
        if block.kind == "table_row":
            stats.table_rows += 1
        lines.append(text)
        offset += len(text) + 1
        kept += 1
    stats.blocks = kept
    return Extracted("\n".join(lines), sections, pages, stats)
