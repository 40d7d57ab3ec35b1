"""Hybrid retrieval: exact dense search over the chunk vectors (:mod:`app.dense`) + jieba BM25,
merged by rank fusion.

The lexical index is built from the chunks in the store, then saved in the assistant's
snapshot of that index version (:mod:`app.snapshot`): a later start memory-maps it instead
of tokenising every chunk again, and a new version (any ingestion that changed the store)
gets a new snapshot, so it never drifts from the vectors.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import replace
from typing import Sequence

import numpy as np

from .config import FusionMode, RetrievalConfig
from .passages import Chunk, Passage
from .text import fold, is_cjk, is_latin_script, to_traditional, tokenize


# Capitalised words in a row, with of/and/the/for/to between them (GNU Free Documentation License).
_CAPITALISED_RUN = re.compile(r"(?<![A-Za-z])[A-Z][A-Za-z]+(?:[ -]+(?:(?:of|and|the|for|to)[ -]+)?[A-Z][A-Za-z]+)+")


class LexicalIndex:
    """BM25 over jieba search-mode tokens of every chunk, plus IDF for overlap scoring."""

    def __init__(self, chunks: Sequence[Chunk], _state: dict | None = None):
        import bm25s

        self.chunks = list(chunks)
        if _state is not None:  # loaded from a snapshot (see :meth:`load`)
            self._text, self._idf, self.max_idf, self._bm25 = (_state["text"], _state["idf"], _state["max_idf"],
                                                                 _state["bm25"])
            return
        # Lower-cased text of the corpus, for substring checks of terms jieba splits
        # differently in questions and passages.
        self._text = "\n".join(fold(c.text) for c in self.chunks)
        # Section paths are indexed with the chunk (a contextual header): a question about
        # "严格的密码规则" finds the chunks under that heading even when they never repeat it.
        tokens = [tokenize(c.context_text) for c in self.chunks]
        self._bm25 = None
        if any(tokens):
            self._bm25 = bm25s.BM25()
            # bm25s rejects empty documents; a placeholder token keeps positions aligned.
            self._bm25.index([t or ["\x00"] for t in tokens], show_progress=False)
        df = Counter(tok for toks in tokens for tok in set(toks))
        n = max(1, len(self.chunks))
        self._idf = {tok: math.log(1 + (n - d + 0.5) / (d + 0.5)) for tok, d in df.items()}
        #: IDF given to a term the corpus never uses: as rare as it gets.
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)

    def save(self, folder) -> None:
        """Write the index to ``folder`` (BM25 arrays, IDF table, folded text)."""
        import json
        from pathlib import Path

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder / "bm25"), show_progress=False)
        (folder / "lexical.json").write_text(json.dumps({"idf": self._idf, "max_idf": self.max_idf,
                                                         "bm25": self._bm25 is not None}, ensure_ascii=False),
                                             encoding="utf-8")
        (folder / "text.txt").write_text(self._text, encoding="utf-8")

    @classmethod
    def load(cls, folder, chunks: Sequence[Chunk]) -> "LexicalIndex":
        """The index saved by :meth:`save` for these ``chunks``; BM25 arrays memory-mapped."""
        import json
        from pathlib import Path

        import bm25s

        folder = Path(folder)
        meta = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False) if meta["bm25"] else None
        return cls(chunks, _state={"text": (folder / "text.txt").read_text(encoding="utf-8"), "idf": meta["idf"],
                                   "max_idf": meta["max_idf"], "bm25": bm25})

    def idf(self, token: str) -> float:
        """BM25-style IDF of a token; unseen tokens get the maximum."""
        return self._idf.get(token, self.max_idf)

    def known(self, token: str) -> bool:
        """Whether any chunk contains the token."""
        return token in self._idf

    def in_text(self, term: str) -> bool:
        """Whether the term occurs anywhere in the corpus text (as a substring)."""
        return term in self._text

    def spells_out(self, acronym: str) -> str | None:
        """The corpus's words an acronym stands for (GFDL -> "GNU Free Documentation
        License"), or None: 3 to 6 letters that begin consecutive capitalised words of one
        chunk, in order (of/and/the/for/to may stand between them). A document names a thing
        in full; its readers ask by the acronym. The table is built once, on first use."""
        a = acronym.upper()
        if not 3 <= len(a) <= 6 or not a.isascii() or not a.isalpha():
            return None
        table = self.__dict__.get("_acronyms")
        if table is None:
            table = {}
            for chunk in self.chunks:
                for run in _CAPITALISED_RUN.finditer(chunk.text):
                    words = run.group().replace("-", " ").split()
                    caps = [k for k, w in enumerate(words) if w[0].isupper()]
                    # Every stretch of 3 to 6 capitalised words (small words between them kept).
                    for x in range(len(caps)):
                        for y in range(x + 2, min(x + 6, len(caps))):
                            key = "".join(words[k][0] for k in caps[x:y + 1])
                            table.setdefault(key, " ".join(words[caps[x]:caps[y] + 1]))
            self.__dict__["_acronyms"] = table
        return table.get(a)

    def search(self, query_tokens: Sequence[str], k: int, sources: Sequence[str] | None = None
               ) -> list[tuple[Chunk, float]]:
        """Top-k chunks by BM25; zero-score chunks are dropped (they share no term)."""
        if self._bm25 is None or not query_tokens or k <= 0:
            return []
        scores = np.asarray(self._bm25.get_scores(list(query_tokens)), dtype=np.float64)
        if sources:
            allowed = set(sources)
            mask = np.array([c.source in allowed for c in self.chunks])
            scores = np.where(mask, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunks[i], float(scores[i])) for i in order if scores[i] > 0]


#: How far down the English leg's ranking its best English passage is looked for.
ENGLISH_LOOKAHEAD = 8


def _passage(chunk: Chunk) -> Passage:
    return Passage.from_chunk(chunk)


def fuse(dense: list[tuple[Chunk, float]], lexical: list[tuple[Chunk, float]], config: RetrievalConfig,
         sentence: Sequence[tuple[Chunk, float]] = ()) -> list[Passage]:
    """Merge the ranked lists into passages ordered by the configured fusion score.

    ``sentence`` (chunks ranked by their best sentence's similarity, with their own chunk
    similarity) is a third list for rank fusion; weighted fusion ignores it.
    """
    passages: dict[str, Passage] = {}
    for chunk, score in dense:
        passages.setdefault(chunk.id, _passage(chunk)).dense_score = score
    for chunk, score in lexical:
        passages.setdefault(chunk.id, _passage(chunk)).lexical_score = score
    if config.fusion is FusionMode.RRF:
        for chunk, score in sentence:
            p = passages.setdefault(chunk.id, _passage(chunk))
            if p.dense_score is None:
                p.dense_score = score
        # Reciprocal rank fusion, k=60 from Cormack, Clarke & Buettcher (SIGIR 2009).
        for ranked in (dense, lexical, sentence):
            for rank, (chunk, _) in enumerate(ranked, 1):
                passages[chunk.id].score += 1.0 / (config.rrf_k + rank)
    else:
        def minmax(pairs):
            if not pairs:
                return {}
            vals = [s for _, s in pairs]
            lo, hi = min(vals), max(vals)
            return {c.id: (s - lo) / (hi - lo) if hi > lo else 1.0 for c, s in pairs}

        d, lx = minmax(dense), minmax(lexical)
        w = config.dense_weight
        for pid, p in passages.items():
            p.score = w * d.get(pid, 0.0) + (1 - w) * lx.get(pid, 0.0)
    ranked = sorted(passages.values(), key=lambda p: (-p.score, -(p.dense_score or 0.0)))
    for i, p in enumerate(ranked, 1):
        p.rank = i
    return ranked


class Retriever:
    """Dense + lexical retrieval over one index version (exact dense search: :mod:`app.dense`)."""

    def __init__(self, config: RetrievalConfig, dense, embedder, lexical: LexicalIndex, sentences=None,
                 crosslingual=None):
        self.config = config
        self.dense = dense
        self.embedder = embedder
        self.lexical = lexical
        #: The sentence index (:class:`app.answer.SentenceIndex`) for the sentence leg; None: off.
        self.sentences = sentences
        #: :class:`app.crosslingual.CrossLingual` for the English leg of Chinese questions; None: off.
        self.crosslingual = crosslingual
        self._chunk_of: np.ndarray | None = None
        self._row_of: dict[str, int] | None = None

    def _sentence_leg(self, query_vector: np.ndarray, k: int, sources: Sequence[str] | None
                      ) -> list[tuple[Chunk, float]]:
        """The chunks holding the ``k`` sentences most similar to the question, best first,
        each with the chunk's own similarity (what the answerer weighs a passage by)."""
        s = self.sentences
        if s is None or not len(s.records) or k <= 0:
            return []
        if self._chunk_of is None:
            self._chunk_of = self._map_sentences()
        sims = s.vectors @ query_vector
        allowed = set(sources) if sources else None
        out: list[tuple[Chunk, float]] = []
        seen: set[int] = set()
        for i in np.argsort(-sims)[: 4 * k]:
            c = int(self._chunk_of[i])
            if c < 0 or c in seen or s.records[i].heading:
                continue
            chunk = self.dense.chunks[c]
            if allowed is not None and chunk.source not in allowed:
                continue
            seen.add(c)
            out.append((chunk, float(self.dense.vectors[c] @ query_vector)))
            if len(out) == k:
                break
        return out

    def _map_sentences(self) -> np.ndarray:
        """For each sentence, the index of the first chunk whose span holds it (-1: none)."""
        by_source: dict[str, list[tuple[int, int, int]]] = {}
        for j, c in enumerate(self.dense.chunks):
            by_source.setdefault(c.source, []).append((c.char_start, c.char_end, j))
        for lst in by_source.values():
            lst.sort()
        out = np.full(len(self.sentences.records), -1, dtype=np.int64)
        for i, r in enumerate(self.sentences.records):
            lst = by_source.get(r.source, [])
            pos = bisect.bisect_right(lst, (r.char_start, math.inf, math.inf)) - 1
            # Chunks overlap by a sentence: step back to the first one that still holds it.
            while pos >= 0 and lst[pos][1] >= r.char_end and lst[pos][0] <= r.char_start:
                out[i] = lst[pos][2]
                pos -= 1
        return out

    def rescore(self, passages: Sequence[Passage], query_vector: np.ndarray) -> list[Passage]:
        """Copies of ``passages`` (found for another search) with their dense similarity to
        ``query_vector`` instead, the score the answerer weighs a passage by."""
        if self._row_of is None:
            self._row_of = {c.id: j for j, c in enumerate(self.dense.chunks)}
        out = []
        for p in passages:
            row = self._row_of.get(p.id)
            out.append(replace(p, dense_score=None if row is None else float(self.dense.vectors[row] @ query_vector)))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """The question's vector; over a Traditional-script corpus, of the question in that
        script (the embedder places a Simplified question farther from Traditional text than
        from the same text in Simplified; quotes and the lexical leg fold both scripts)."""
        traditional = self.sentences is not None and self.sentences.traditional
        return self.embedder.embed_query(to_traditional(text) if traditional else text)

    def retrieve(self, question: str, query_vector: np.ndarray | None = None, top_k: int | None = None,
                 sources: Sequence[str] | None = None, mode: str = "hybrid", expansion: Sequence[str] = ()
                 ) -> list[Passage]:
        """Best passages for a question; ``mode`` is hybrid, dense or lexical (for baselines).

        ``expansion`` adds corpus terms to the lexical query only (the Chinese terms of an
        English question, :mod:`app.crosslingual`); the dense leg embeds the question as asked.
        In hybrid mode a Chinese question may get one English passage after the ``top_k``
        (:meth:`_english_passages`).
        """
        c = self.config
        dense: list[tuple[Chunk, float]] = []
        lexical: list[tuple[Chunk, float]] = []
        if mode in ("hybrid", "dense"):
            if query_vector is None:
                query_vector = self.embed_query(question)
            dense = self.dense.search(query_vector, c.dense_top_k, sources=sources)
        if mode in ("hybrid", "lexical"):
            tokens = tokenize(" ".join([question, *expansion]))
            lexical = self.lexical.search(tokens, c.lexical_top_k, sources=sources)
        sentence = self._sentence_leg(query_vector, c.sentence_top_k, sources) if mode == "hybrid" else []
        found = fuse(dense, lexical, c, sentence)[: top_k or c.top_k]
        if mode == "hybrid":
            found += self._english_passages(question, found, sources, query_vector)
        return found

    def _english_passages(self, question: str, found: Sequence[Passage], sources: Sequence[str] | None,
                          query_vector: np.ndarray | None) -> list[Passage]:
        """A Chinese question over a corpus with untranslated English text: the English
        passage that BM25 over the English glosses of its terms finds first
        (:meth:`CrossLingual.english_words`), after the passages ``found``. The dense leg
        places a Chinese question far from an English passage (哪一列是不能隐藏的 ranks "The
        Name column cannot be hidden." 101st), and the lexical leg shares no word with it.
        It is added, not fused: most questions are answered by the Chinese text, whose
        ranking it must not disturb; the answerer weighs it as the last passage."""
        s = self.sentences
        if self.crosslingual is None or s is None or not s.has_latin or not any(map(is_cjk, question)):
            return []
        words = self.crosslingual.english_words(question)
        if not words:
            return []
        for chunk, score in self.lexical.search(tokenize(" ".join(words)), ENGLISH_LOOKAHEAD, sources=sources):
            if not is_latin_script(chunk.text, chinese_below=0.5):
                continue
            if any(p.id == chunk.id for p in found):
                return []  # found by the question itself already
            p = replace(_passage(chunk), lexical_score=score, rank=len(found) + 1)
            return self.rescore([p], query_vector) if query_vector is not None else [p]
        return []
