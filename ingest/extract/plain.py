"""Plain text to blocks: paragraphs, re-joined when the file is hard-wrapped, and headings.

A ``.txt`` export of a manual is often wrapped at a fixed width (70 columns, say), so one
sentence spans several lines. A line break ends a block only at a block boundary: an empty
line, a list or heading marker, a change of indentation back out, or a line that stops
short of the wrap width (the paragraph ended there). Text that is not hard-wrapped (one
paragraph per line) keeps every line break.
"""

from __future__ import annotations

import re
import unicodedata

from . import Block, ExtractStats

# List items: "* ", "- ", "• ", "1. ", "1) ", "(1) ", "a) ", "①".
_LIST = re.compile(r"^\s*([*•·▪◦‣–-]\s+|\(?\d{1,3}[.)、]\s*(?!\d)|\([a-z]\)\s|[a-z]\)\s|[①-⑳])")
# Headings: "第 11 章 …", "11.1. …", "11.1.2 …", "Chapter 3 …", "附录 A …", Markdown-style "# …".
_BULLET = re.compile(r"^\s*[*•·▪◦‣–-]\s+")
_HEADING = re.compile(
    r"^(?P<mark>第\s*[0-9一二三四五六七八九十百]+\s*[章节篇部分]|附录\s*[A-Z0-9]|chapter\s+\d+|appendix\s+[A-Z]|"
    r"(?P<num>\d+(?:\.\d+)*)\.?|#{1,6})\s+\S.{0,80}$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[。！？!?；;…:：]\s*[”’」』）)\"']*$")


def display_width(text: str) -> int:
    """Columns on a terminal: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_width(lines: list[str]) -> int | None:
    """The fixed width a text was hard-wrapped at, or None when it is not hard-wrapped.

    Hard-wrapped text has many lines ending within a few columns of one maximum; text with
    a paragraph per line has widths spread over a wide range.
    """
    widths = sorted(display_width(l.rstrip()) for l in lines if l.strip())
    if len(widths) < 8:
        return None
    top = widths[int(len(widths) * 0.95) - 1]
    if top < 40 or top > 200:
        return None
    near = sum(1 for w in widths if top - 8 <= w <= top + 2)
    return top if near / len(widths) >= 0.3 else None


def _first_word(line: str) -> str:
    """The text the wrapper would have had to fit on the previous line."""
    stripped = line.strip()
    if stripped and display_width(stripped[0]) == 2:
        return stripped[0]  # CJK text can break after any character
    return stripped.split()[0] if stripped else ""


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def join_wrapped(left: str, right: str) -> str:
    """Join two pieces of one wrapped line: no space next to CJK, one between Latin words,
    and a word hyphenated across the break is mended (``inter-`` + ``national``)."""
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left + right
    if re.search(r"[a-z]-$", left) and right[0].islower():
        return left[:-1] + right
    if left.endswith("/"):  # a path or URL broken after a slash
        return left + right
    if re.search(r"[A-Za-z0-9]\.$", left) and re.match(r"[a-z0-9]", right):
        return left + right  # "gentoo-0.9.12-rc99." + "tar.gz": a file name, not a sentence end
    if _is_cjk(left[-1]) or _is_cjk(right[0]):
        return left + right
    return left + " " + right


def heading_level(line: str) -> int:
    """1-6 for a line that reads as a numbered heading, 0 otherwise."""
    stripped = line.strip()
    m = _HEADING.match(stripped)
    if not m or re.search(r"[。，,；;]$", stripped):
        return 0
    mark = m.group(1)
    if mark.startswith("#"):
        return len(mark)
    if m.group("num"):
        return min(6, m.group("num").count(".") + 2)
    return 1


def plain_blocks(text: str, stats: ExtractStats) -> list[Block]:
    """Blocks of a plain-text document."""
    stats.extractor = "plain"
    lines = text.split("\n")
    width = wrap_width(lines)
    stats.rewrapped = width is not None
    blocks: list[Block] = []
    current: list[str] = []  # lines of the open block, with their indentation
    indent = 0

    def flush() -> None:
        if current:
            joined = current[0].strip()
            for piece in current[1:]:
                joined = join_wrapped(joined, piece)
            kind = "list_item" if _BULLET.match(current[0]) or _LIST.match(current[0]) else "paragraph"
            blocks.append(Block(_BULLET.sub("", joined).strip(), kind))
            current.clear()

    for i, line in enumerate(lines):
        if not line.strip():
            flush()
            continue
        lead = len(line) - len(line.lstrip())
        standalone = (i == 0 or not lines[i - 1].strip()) and (i + 1 >= len(lines) or not lines[i + 1].strip())
        level = heading_level(line) if standalone or line.lstrip().startswith("#") else 0
        if level:
            flush()
            blocks.append(Block(line.strip().lstrip("#").strip(), "heading", level=level))
            continue
        # The previous line was cut by the wrapper (not by the author) when this line's first
        # word would not have fitted after it.
        first = _first_word(line)
        gap = 0 if display_width(first[:1]) == 2 else 1
        continues = (width is not None and bool(current) and lead >= indent
                     and display_width(current[-1]) + gap + display_width(first) > width - 2)
        if continues and _LIST.match(line):
            # "(5) 手册页" after a cut line is the rest of a sentence; a bullet is a new item.
            continues = not _BULLET.match(line) and not _SENTENCE_END.search(current[-1])
        if not continues:
            flush()
            indent = lead
        current.append(line.rstrip())
    flush()
    return blocks
