"""DOCX to blocks with python-docx, in document order (tables where they stand).

Heading styles (``Heading 1``…``Heading 9``, ``Title``, and their localised names such as
``标题 1``) give the section levels; a paragraph whose outline level is set directly counts
too. Word's own table of contents (``TOC n`` styles) is boilerplate.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import Block, ExtractStats

_HEADING = re.compile(r"^(heading|标题|überschrift|titre|título)\s*(\d)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list|列表", re.IGNORECASE)


def _heading_level(paragraph) -> int:
    """1-9 for a heading paragraph, 0 otherwise."""
    style = paragraph.style
    while style is not None:
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 1
        m = _HEADING.match(name)
        if m:
            return int(m.group(2)) + 1  # Title is 1, Heading 1 is 2, ...
        style = style.base_style
    outline = paragraph._p.find(".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl")
    if outline is not None:
        try:
            return int(outline.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val")) + 2
        except (TypeError, ValueError):
            return 0
    return 0


def docx_blocks(path: Path, stats: ExtractStats) -> list[Block]:
    """Blocks of a .docx file: headings, paragraphs, list items and one block per table row."""
    import docx
    from docx.table import Table

    stats.extractor = "python-docx"
    document = docx.Document(str(path))
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            stats.tables += 1
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                if cells:
                    blocks.append(Block(" | ".join(cells), "table_row"))
            continue
        text = item.text
        if not text.strip():
            continue
        style = (item.style.name or "") if item.style is not None else ""
        if style.upper().startswith("TOC"):
            stats.boilerplate_chars += len(text.strip())
            continue
        level = _heading_level(item)
        if level:
            blocks.append(Block(text, "heading", level=level))
        elif _LIST_STYLE.search(style) or item._p.pPr is not None and item._p.pPr.numPr is not None:
            blocks.append(Block(text, "list_item"))
        else:
            # A soft line break (Shift+Enter) inside a paragraph is not a block boundary.
            blocks.append(Block(" ".join(text.split("\n"))))
    return blocks
