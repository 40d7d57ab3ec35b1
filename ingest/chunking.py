"""Sentence-aware chunking with exact character and line spans.

Sizes are measured in characters (a CJK character is one; the default 300 is ~200-250
e5 tokens for this article, well under the model's 512-token window). Chunks are runs of
whole sentences; consecutive chunks share ``overlap_sentences`` sentences. Only a single
sentence longer than the limit is cut, at clause marks (，；、：) first.
"""

from __future__ import annotations

import bisect
import hashlib
import re

from app.passages import Chunk
from app.store import SentenceRecord
from app.text import Span, split_long, split_sentences

from .loaders import Document


def stable_id(kind: str, source: str, text: str, occurrence: int) -> str:
    """Id from source + content (+ which repeat of the same text it is in that file)."""
    h = hashlib.sha1(f"{kind}\x00{source}\x00{occurrence}\x00{text}".encode("utf-8")).hexdigest()
    return f"{kind[0]}{h[:23]}"


class LineIndex:
    """Maps character offsets to 1-based line numbers."""

    def __init__(self, text: str):
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        """The 1-based line containing ``offset``."""
        return bisect.bisect_right(self._starts, offset)


def document_sentences(doc: Document, max_chars: int) -> list[Span]:
    """Sentences of a document, over-long ones split into pieces no longer than max_chars."""
    out: list[Span] = []
    for sent in split_sentences(doc.text):
        out.extend(split_long(sent, max_chars))
    return out


def chunk_document(doc: Document, max_chars: int, overlap_sentences: int) -> list[Chunk]:
    """Group a document's sentences into chunks of at most ``max_chars`` characters.

    A chunk never crosses a section boundary, so each chunk has one heading path (and the
    page it starts on), which the store keeps and citations show.
    """
    lines = LineIndex(doc.text)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for section, sentences in _by_section(doc, document_sentences(doc, max_chars)):
        for start, end in _windows(sentences, max_chars, overlap_sentences):
            text = doc.text[start:end]
            # The section is part of the id: the same words under another heading are embedded
            # with another contextual header.
            key = f"{section or ''}\x00{text}"
            n = seen.get(key, 0)
            seen[key] = n + 1
            chunks.append(Chunk(stable_id("chunk", doc.source, key if section else text, n), text, doc.source,
                                start, end, lines.line(start), lines.line(end - 1), section=section,
                                page=doc.page_at(start)))
    return chunks


def _by_section(doc: Document, sentences: list[Span]) -> list[tuple[str | None, list[Span]]]:
    """Consecutive runs of sentences under the same heading path."""
    runs: list[tuple[str | None, list[Span]]] = []
    for s in sentences:
        section = doc.section_at(s.start)
        if runs and runs[-1][0] == section:
            runs[-1][1].append(s)
        else:
            runs.append((section, [s]))
    return runs


def _windows(sentences: list[Span], max_chars: int, overlap_sentences: int) -> list[tuple[int, int]]:
    """(start, end) of each chunk: runs of whole sentences, consecutive runs overlapping."""
    out = []
    i = 0
    while i < len(sentences):
        j = i + 1
        while j < len(sentences) and sentences[j].end - sentences[i].start <= max_chars:
            j += 1
        out.append((sentences[i].start, sentences[j - 1].end))
        if j >= len(sentences):
            break
        # Step back by the overlap, but always move forward by at least one sentence, and
        # only when the overlapping sentences leave room for a new one (else the next chunk
        # would lie entirely inside this one).
        nxt = max(i + 1, j - overlap_sentences)
        while nxt < j and sentences[j].end - sentences[nxt].start > max_chars:
            nxt += 1
        i = nxt
    return out


def sentence_records(doc: Document, max_chars: int) -> list[SentenceRecord]:
    """Every sentence of a document as a record for the sentence collection."""
    records = []
    seen: dict[str, int] = {}
    headings = heading_spans(doc)
    starts = [a for a, _ in headings]
    for s in document_sentences(doc, max_chars):
        n = seen.get(s.text, 0)
        seen[s.text] = n + 1
        i = bisect.bisect_right(starts, s.start) - 1
        heading = i >= 0 and s.end <= headings[i][1]
        records.append(SentenceRecord(stable_id("sentence", doc.source, s.text, n), s.text, doc.source, s.start,
                                      s.end, heading))
    return records


def heading_spans(doc: Document) -> list[tuple[int, int]]:
    """(start, end) of every heading line: a section begins at its heading's line."""
    out = []
    for offset, _ in doc.sections:
        end = doc.text.find("\n", offset)
        out.append((offset, len(doc.text) if end < 0 else end))
    return out
