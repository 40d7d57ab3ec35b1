"""Do the passages and the sentence vectors agree? A start-up check.

The dense store holds two collections: passages (chunks) and their sentences (which the
answer step quotes). Ingestion writes each batch's sentences before its chunks and
reconciles both against the corpus, so they agree after every completed run. They can
disagree after a run that was killed (sentences written, their chunks not yet) or after
someone edited the collections by hand. A passage without sentences can be retrieved but
never quoted; sentences outside every passage are dead weight.

The check compares spans: a passage is covered when a sentence of the same file overlaps
it, a sentence is placed when it overlaps a passage of its file. It runs when a start-up
snapshot is built (the lexical index is built from the same chunks, so it cannot disagree
with them) and its result is saved with the snapshot, so later starts pay nothing.
``python -m ingest`` repairs any mismatch: it adds what is missing and deletes what no
document holds.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

REPAIR = "python -m ingest"


@dataclass
class Integrity:
    """Counts of disagreement between passages and sentences (zero when they agree)."""

    passages_without_sentences: int = 0
    sentences_outside_passages: int = 0

    @property
    def ok(self) -> bool:
        return not (self.passages_without_sentences or self.sentences_outside_passages)

    def problems(self) -> list[str]:
        """One line per problem, each naming the command that repairs it."""
        out = []
        if self.passages_without_sentences:
            out.append(f"{self.passages_without_sentences} passages have no sentence vectors (they can be found but "
                       f"not quoted); run `{REPAIR}` to repair the index")
        if self.sentences_outside_passages:
            out.append(f"{self.sentences_outside_passages} sentence vectors belong to no passage (left by an "
                       f"interrupted ingestion); run `{REPAIR}` to repair the index")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


class _Spans:
    """Spans of one file, sorted by start, answering "does anything overlap [a, b)?"."""

    def __init__(self, spans: Iterable[tuple[int, int]]):
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.max_end: list[int] = []
        best = -1
        for _, e in ordered:
            best = max(best, e)
            self.max_end.append(best)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, max(end, start + 1))  # spans starting before `end`
        return i > 0 and self.max_end[i - 1] > start


def check(chunks: Sequence, sentences: Sequence) -> Integrity:
    """Compare passage spans with sentence spans, file by file."""
    chunk_spans: dict[str, list] = defaultdict(list)
    sent_spans: dict[str, list] = defaultdict(list)
    for c in chunks:
        chunk_spans[c.source].append((c.char_start, c.char_end))
    for s in sentences:
        sent_spans[s.source].append((s.char_start, s.char_end))
    by_chunks = {src: _Spans(v) for src, v in chunk_spans.items()}
    by_sents = {src: _Spans(v) for src, v in sent_spans.items()}
    empty = _Spans([])
    uncovered = sum(1 for c in chunks if not by_sents.get(c.source, empty).overlaps(c.char_start, c.char_end))
    outside = sum(1 for s in sentences if not by_chunks.get(s.source, empty).overlaps(s.char_start, s.char_end))
    return Integrity(uncovered, outside)
