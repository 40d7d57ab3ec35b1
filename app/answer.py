"""The extractive answerer: the best one to three sentences of the passages, verbatim, cited.

Each candidate sentence is scored against the question by
  * embedding similarity (sentence vectors were computed at ingest time),
  * IDF-weighted coverage of the question's terms (a term the corpus never uses counts
    fully against coverage: a question about 特斯拉 is not answered by a text without it),
  * whether it can hold the kind of fact asked for (a year for 哪一年, a number for 多少),
  * the rank of the passage it came from.
When the best score is below ``answer.min_score`` the answer abstains.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .config import AnswerConfig
from .crosslingual import CrossLingual, word_forms
from .cues import (Cue, alternatives, asks_for_name, has_name, name_kind, question_cues, question_focus, sentence_has,
                   strip_question_values)
from .keyphrase import key_span, kind_span
from .passages import Answer, Citation, Passage
from .retrieval import LexicalIndex
from .store import SentenceRecord
from .text import content_terms, fold, is_cjk, is_latin_script, is_traditional, normalize, simplified

NOT_FOUND = {
    "zh": "抱歉，文档中没有找到能回答这个问题的内容。下面列出最接近的段落，供您参考。",
    "en": "Sorry, the documents do not answer this question. The closest passages are listed below for reference.",
}


@dataclass
class Weights:
    """Scoring weights (first fitted by grid search on eval/datasets/article_gold.jsonl).

    ``python -m eval.fit`` refits them leave-one-corpus-out (README "Held out" has the
    held-out and in-sample measurements). The full search over its grid keeps these
    defaults when fitted on all corpora and in two of the three folds (the fold without the
    Maintainers' Guide moves ``cue_missing`` to 0.3, with the same result on that corpus);
    ``unknown_penalty`` and ``number_missing`` were the last two refitted, each alone.

    ``score = (cos - offset) + lexical * coverage - cue_missing * missing_cues
    - focus_missing * focus_words_absent - focus_unknown * focus_nouns_the_corpus_lacks
    - unknown_penalty * unknown_term_share + passage_cos * (passage_cos - offset)
    - rank_decay * (rank - 1) - pair_cost * is_pair - cross_line_cost * crosses_a_line
    - echo * only_repeats_the_question - number_missing * question_numbers_absent``, where
    ``offset`` is the question's background similarity plus ``background_offset``
    (:data:`FEATURES` and :meth:`ExtractiveAnswerer.coefficients`); the reported confidence
    is ``score + 0.5``.
    """

    lexical: float = 0.25
    #: Lexical weight for English questions (Latin terms and the Chinese expansion terms).
    lexical_en: float = 0.05
    cue_missing: float = 0.2
    focus_missing: float = 0.05
    #: Per focus noun the corpus never uses at all (纳米, 售价, 政党): the text cannot state it.
    focus_unknown: float = 0.15
    #: Scales the share of question-term weight the corpus never uses (e.g. 红烧肉, 时区).
    #: Refitted leave-one-corpus-out: every fold picks 0.1 (it was 0.05, fitted on the
    #: article alone).
    unknown_penalty: float = 0.1
    #: Per number of the question (Debian 13, 2022) that neither the candidate nor its
    #: passage writes: the text speaks of another release, year or amount.
    number_missing: float = 0.1
    #: Weight of the whole passage's similarity (context helps cross-lingual matching).
    passage_cos: float = 0.5
    rank_decay: float = 0.01
    #: Cosine similarities of e5 cluster around 0.8; this centres them when there is no
    #: background (an empty sentence index).
    cos_offset: float = 0.8
    #: Similarities are centred on the question's own background: its mean cosine to a fixed
    #: sample of the corpus's sentences, plus this. How similar "unrelated" text looks
    #: differs by question and by corpus (0.82 to 0.86 here); measured against it, the
    #: confidence means the same on every corpus (held-out AUC in the eval report).
    #: Latin-script sentences of a mostly Chinese corpus are measured against a sample of
    #: their own kind (:meth:`SentenceIndex.latin_background`): an English question looks
    #: similar to any English line.
    background_offset: float = -0.04
    #: Whether to use the background at all (off: the fixed ``cos_offset``; for comparisons).
    background: bool = True
    #: A second/third candidate must score within this of the best one.
    margin: float = 0.08
    #: A candidate this close to the best is quoted too (after those that add a question term
    #: or a cue, within the length budget) even if it adds neither: the scores cannot tell
    #: the two apart, and showing both beats asserting the wrong one (README "Held out",
    #: 2026-12-03: answers right 649 → 657 in-sample, 311 → 323 unread; median answer 133 →
    #: 146 characters). 0 quotes only what adds.
    tie_margin: float = 0.03
    #: Cost of adding a neighbouring sentence for context (prefer one sentence when equal).
    pair_cost: float = 0.02
    #: Extra cost of pairing sentences across a line break.
    cross_line_cost: float = 0.0
    #: Cost of a candidate that only repeats the question: once the question's terms are
    #: taken out, fewer than ``echo_chars`` letters or digits are left (a command line that
    #: quotes the command asked about, a title that names the topic).
    echo: float = 0.1
    echo_chars: int = 2
    #: Threshold shift for English questions. Zero since similarities are measured against
    #: the question's background: the leave-one-corpus-out fit picks 0.0 to 0.025.
    en_threshold_shift: float = 0.0


#: The raw signals a candidate answer is scored on (see :meth:`ExtractiveAnswerer.candidates`).
FEATURES = ("cos", "coverage", "cues_missing", "rank", "pair", "cross_line", "focus_missing", "unknown_share",
            "unknown_nouns", "passage", "echo", "numbers_missing")


@dataclass
class Option:
    """One candidate answer unit (a sentence, alone or with a neighbour) and its raw features."""

    unit: list[int]
    sentence: int  # the sentence scored; the other one of a pair is context
    passage: Passage
    cosine: float
    cues_ok: set[Cue]
    terms: set[str]
    features: dict[str, float]


@dataclass
class ScoredSentence:
    """A candidate answer: one sentence, possibly with an adjacent one for context."""

    indices: list[int]  # sentence indices in document order
    passage: Passage
    score: float
    cosine: float
    coverage: float
    cues_ok: set[Cue] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)
    #: The named terms of the score (for explanations and for fitting new signals).
    parts: dict[str, float] = field(default_factory=dict)
    #: The sentence the candidate was scored for (the other one, if any, is its context).
    sentence: int = -1


#: Sentences sampled for the background similarity of a question (fixed seed: the same
#: index always gives the same confidences).
BACKGROUND_SAMPLE = 1024
#: Latin-script sentences needed before they get a background of their own.
LATIN_SAMPLE_MIN = 50


class SentenceIndex:
    """All corpus sentences with vectors, looked up by the passage spans that contain them."""

    def __init__(self, records: Sequence[SentenceRecord], vectors: np.ndarray):
        self.records = list(records)
        self.vectors = vectors
        n = len(self.records)
        pick = np.random.default_rng(0).choice(n, BACKGROUND_SAMPLE, replace=False) if n > BACKGROUND_SAMPLE \
            else np.arange(n)
        self._sample = np.ascontiguousarray(vectors[np.sort(pick)]) if n else None
        # A corpus written mostly in Traditional characters: questions are embedded in that
        # script too (:meth:`app.Assistant.prepare`), as the embedder places a Simplified
        # question farther from Traditional text than from the same text in Simplified.
        sampled = [self.records[i].text for i in np.sort(pick)]
        cjk = sum(1 for t in sampled if any(map(is_cjk, t)))
        self.traditional = cjk > 0 and sum(map(is_traditional, sampled)) > 0.5 * cjk
        # Latin-script sentences (English prose, command lines, copyright notes) have a
        # background of their own: an English question looks like any English sentence, a
        # Chinese one like none (:meth:`latin_background`).
        self.latin = np.array([is_latin_script(r.text) for r in self.records], dtype=bool)
        latin_idx = np.flatnonzero(self.latin)
        if len(latin_idx) >= LATIN_SAMPLE_MIN:
            pick = np.random.default_rng(0).choice(latin_idx, BACKGROUND_SAMPLE, replace=False) \
                if len(latin_idx) > BACKGROUND_SAMPLE else latin_idx
            self._latin_sample = np.ascontiguousarray(vectors[np.sort(pick)])
        else:
            self._latin_sample = None
        self._normalised: list[str] | None = None  # for :meth:`normalised`, built on first use
        self._by_source: dict[str, list[tuple[int, int]]] = {}
        for i, r in enumerate(self.records):
            self._by_source.setdefault(r.source, []).append((r.char_start, i))
        for lst in self._by_source.values():
            lst.sort()

    @property
    def has_latin(self) -> bool:
        """Whether the corpus has enough Latin-script sentences (untranslated English, command
        lines) to be searched in English too (:meth:`Retriever._english_passages`)."""
        return self._latin_sample is not None

    def background(self, query_vector: np.ndarray) -> float | None:
        """Mean cosine of the question to a fixed sample of the corpus's sentences: how
        similar text that does not answer it typically looks (None for an empty index)."""
        if self._sample is None or not len(self._sample):
            return None
        return float(np.mean(self._sample @ query_vector))

    def latin_background(self, query_vector: np.ndarray) -> float | None:
        """Mean cosine of the question to a fixed sample of the Latin-script sentences (None
        when the corpus has too few of them to tell: then they share :meth:`background`)."""
        if self._latin_sample is None:
            return None
        return float(np.mean(self._latin_sample @ query_vector))

    def following(self, idx: int, n: int) -> list[int]:
        """Up to ``n`` sentences after sentence ``idx`` in its source, in order."""
        rec = self.records[idx]
        lst = self._by_source.get(rec.source, [])
        pos = bisect.bisect_left(lst, (rec.char_start, idx))
        out: list[int] = []
        for _, i in lst[pos + 1:pos + 1 + 2 * n + 8]:  # a few headings may lie in between
            if not self.records[i].heading:
                out.append(i)
                if len(out) == n:
                    break
        return out

    def previous(self, idx: int) -> int | None:
        """The sentence just before sentence ``idx`` in its source (None for the first)."""
        rec = self.records[idx]
        lst = self._by_source.get(rec.source, [])
        pos = bisect.bisect_left(lst, (rec.char_start, idx))
        return lst[pos - 1][1] if pos > 0 else None

    def normalised(self, idx: int) -> str:
        """Sentence ``idx`` normalised (:func:`app.text.normalize`; all of them are, on
        first use)."""
        return self._all_normalised()[idx]

    def _all_normalised(self) -> list[str]:
        if self._normalised is None:
            self._normalised = [normalize(r.text) for r in self.records]
        return self._normalised

    def locate(self, quote: str) -> list[int]:
        """Indices of the quotable sentences (not headings) a quote holds, compared folded,
        letters and digits only (a sentence under 6 such characters only when the quote is
        that sentence), in document order. Read-only: safe outside the engine lock."""
        q = normalize(quote)
        if not q:
            return []
        found = [i for i, t in enumerate(self._all_normalised())
                 if t and not self.records[i].heading and (t == q or len(t) >= 6 and t in q)]
        return sorted(found, key=lambda i: (self.records[i].source, self.records[i].char_start))

    def around(self, idx: int, n: int) -> tuple[list[int], list[int]]:
        """Up to ``n`` quotable sentences before (nearest first) and after sentence ``idx``
        in its source, stopping at a heading: the neighbours that can belong to its list."""
        rec = self.records[idx]
        lst = self._by_source.get(rec.source, [])
        pos = bisect.bisect_left(lst, (rec.char_start, idx))
        sides: tuple[list[int], list[int]] = ([], [])
        for side, step in zip(sides, (-1, 1)):
            j = pos + step
            while 0 <= j < len(lst) and len(side) < n and not self.records[lst[j][1]].heading:
                side.append(lst[j][1])
                j += step
        return sides

    def section_heading(self, idx: int, within: int = 2) -> int | None:
        """The heading of sentence ``idx``'s section when at most ``within`` sentences lie
        between the two (the heading just above a description), else None."""
        rec = self.records[idx]
        lst = self._by_source.get(rec.source, [])
        pos = bisect.bisect_left(lst, (rec.char_start, idx))
        for j in range(pos - 1, max(-1, pos - 2 - within), -1):
            if self.records[lst[j][1]].heading:
                return lst[j][1]
        return None

    def within(self, source: str, start: int, end: int) -> list[int]:
        """Indices of the quotable sentences lying inside [start, end) of a source (headings
        are context for retrieval, not answers)."""
        lst = self._by_source.get(source, [])
        i = bisect.bisect_left(lst, (start, -1))
        out = []
        while i < len(lst) and lst[i][0] < end:
            idx = lst[i][1]
            if self.records[idx].char_end <= end and not self.records[idx].heading:
                out.append(idx)
            i += 1
        return out


class ExtractiveAnswerer:
    """Compose short cited answers from verbatim sentences, or abstain."""

    def __init__(self, config: AnswerConfig, sentences: SentenceIndex, lexical: LexicalIndex,
                 weights: Weights | None = None, crosslingual: CrossLingual | None = None):
        self.config = config
        self.sentences = sentences
        self.lexical = lexical
        self.weights = weights or Weights()
        #: Tells a Latin name the corpus writes in Chinese (Huawei = 华为) from one it lacks.
        self.crosslingual = crosslingual or CrossLingual(lexical)

    def candidates(self, question: str, query_vector: np.ndarray, passages: Sequence[Passage], language: str,
                   expansion: Sequence[str] = (), whole: str | None = None) -> list[Option]:
        """Every candidate answer unit of the passages with its raw :data:`FEATURES`: each
        sentence alone and with either neighbour in the same passage.

        A neighbour often holds what the sentence refers to (真正的转折点,发生在2006年。
        那一年,黄仁勋……推出CUDA), so it may supply a missing cue or question term.
        """
        w = self.weights
        question = simplified(question)  # cue and focus tables are written in Simplified
        asked, terms = self._terms(question, language, expansion)
        weights = {t: self.lexical.idf(t) for t in terms}
        total = sum(weights.values())
        cues = question_cues(question, language)
        hard_cues = cues - {Cue.LIST}
        focus = [f for f, _ in question_focus(question)] if language == "zh" else []
        kind = name_kind(question) if language == "zh" else None
        choice = self._choice(question, language)
        unknown_nouns, unknown_share = self._unknowns(question, language, terms)
        if whole and whole != question:
            # A part of a longer question (…做什么，什么时候需要写它？) is about what the whole
            # names: a thing the corpus lacks sinks every part, not just the one naming it.
            whole = simplified(whole)
            whole_nouns, whole_share = self._unknowns(whole, language, self._terms(whole, language, expansion)[1])
            unknown_nouns, unknown_share = max(unknown_nouns, whole_nouns), max(unknown_share, whole_share)
        asks_syntax = bool(_ASKS_SYNTAX.search(question))
        # Every word of the question, longest first, for the echo check.
        by_length = sorted(set(terms) | set(asked), key=len, reverse=True)
        numbers = set(_QUESTION_NUMBER.findall(fold(question)))
        # The English of the question's terms, looked up at the first untranslated sentence
        # (the dictionary loads only for a corpus that has one).
        english: dict[str, tuple[tuple[str, ...], ...]] | None = None
        recs = self.sentences.records
        bg = self.sentences.background(query_vector)
        offset = w.cos_offset if bg is None or not w.background else bg + w.background_offset
        latin_bg = self.sentences.latin_background(query_vector) if w.background and bg is not None else None
        latin_offset = offset if latin_bg is None else latin_bg + w.background_offset
        seen: set[int] = set()
        out: list[Option] = []
        for p in passages:
            idxs = self.sentences.within(p.source, p.char_start, p.char_end)
            if not idxs:
                continue
            cos = dict(zip(idxs, (self.sentences.vectors[idxs] @ query_vector).tolist()))
            # Passages found only by BM25 have no dense score; treat them as average.
            p_off = latin_offset if is_latin_script(p.text) else offset
            p_cos = p.dense_score if p.dense_score is not None else p_off
            # A number the passage's heading states is the passage's (2.0 版 over what 2.0 changed).
            p_text = fold(p.text) + "\n" + fold(p.section or "")
            p_numbers = {n for n in numbers if n in p_text}
            # A passage whose heading names a thing (a function's entry under FV) meets the
            # name cue in every sentence.
            named = Cue.NAME in cues and bool(p.section) \
                and sentence_has(Cue.NAME, p.section.split("›")[-1], question, language)
            feats = {}
            for i in idxs:
                low = fold(recs[i].text)
                stripped = strip_question_values(simplified(recs[i].text), question)
                met = {c for c in cues if sentence_has(c, stripped, question, language)}
                if named:
                    met.add(Cue.NAME)
                hit = {t for t in terms if t in low}
                if language == "zh" and self.sentences.latin[i]:
                    # An untranslated English sentence of a Chinese page says the question's
                    # words in English (防火墙 … 端口 -> firewall … port; 负数 needs both
                    # words of "negative number").
                    if english is None:
                        english = {t: g for t in terms if (g := self.crosslingual.english_of(t))}
                    words = word_forms(low)
                    hit |= {t for t, glosses in english.items() if CrossLingual.says_in_english(words, glosses)}
                feats[i] = (hit, met, low)
            for k, i in enumerate(idxs):
                if i in seen:
                    continue
                seen.add(i)
                units = [[i]]
                if k > 0:
                    units.append([idxs[k - 1], i])
                if k + 1 < len(idxs):
                    units.append([i, idxs[k + 1]])
                # Judged on the sentence alone: its similarity scores every unit, and a
                # sentence that repeats the question looks similar for no reason.
                echo = float(_novel_chars(feats[i][2], by_length) < w.echo_chars
                             or (not asks_syntax and bool(_SYNTAX_LINE.match(recs[i].text))))
                for unit in units:
                    hit = set().union(*(feats[j][0] for j in unit))
                    ok = set().union(*(feats[j][1] for j in unit))
                    unit_original = "".join(recs[j].text for j in unit)
                    unit_text = fold(unit_original)
                    pair = len(unit) > 1
                    out.append(Option(unit, i, p, cos[i], ok, hit, {
                        "cos": cos[i] - (latin_offset if self.sentences.latin[i] else offset),
                        # fsum: the same value whatever order the set of terms comes in (a
                        # plain sum over a set differs in the last bits between runs, and
                        # two units tied on score then swap).
                        "coverage": math.fsum(weights[t] for t in hit) / total if total else 0.0,
                        # A choice (A还是B？) unanswered counts as a missing cue.
                        "cues_missing": float(len(hard_cues - ok)
                                              + (choice is not None and not any(t in unit_text for t in choice))),
                        "rank": float((p.best_rank or p.rank) - 1),
                        "pair": float(pair),
                        "cross_line": float(pair and not self._same_paragraph(p, unit[0], unit[1])),
                        # Chinese focus words cannot appear in an English sentence (a manual
                        # left partly untranslated): its absence there says nothing.
                        "focus_missing": 0.0 if not any(map(is_cjk, unit_original)) else
                        float(sum(1 for f in focus if not _has_word(unit_text, f)
                                  and not (f == kind and has_name(unit_original, question)))),
                        "unknown_share": unknown_share,
                        "unknown_nouns": unknown_nouns,
                        "passage": p_cos - p_off,
                        "echo": echo,
                        "numbers_missing": float(sum(1 for n in numbers - p_numbers if n not in unit_text)),
                    }))
        return out

    def _terms(self, question: str, language: str, expansion: Sequence[str]) -> tuple[list[str], list[str]]:
        """(the question's own content terms, the terms a candidate is matched on)."""
        asked = content_terms(question)  # tokenize folds script and case itself
        terms = list(asked)
        if language == "en":
            # English words cannot match Chinese text; only corpus-known terms (Latin names
            # such as CUDA, H20) count, so unknown English words do not sink every score.
            terms = [t for t in terms if self.lexical.known(t)]
            # Plus the Chinese corpus terms the question's words translate to.
            terms += [t for t in content_terms(" ".join(expansion)) if t not in terms and self.lexical.known(t)]
        elif expansion:
            # Latin names the corpus writes in Chinese (Baidu -> 百度) count as their Chinese.
            translated = self.crosslingual.names(question)
            terms = [t for t in terms if t not in translated]
            terms += [t for t in content_terms(" ".join(expansion)) if t not in terms]
        return asked, terms

    def _choice(self, question: str, language: str) -> frozenset[str] | None:
        """The terms that tell the sides of a choice question apart (:func:`alternatives`),
        of which an answer must name one; None for no choice, or when a side has no term the
        corpus uses (an English word over Chinese text could never be named)."""
        sides = alternatives(question, language)
        if sides is None:
            return None
        if language != "zh":
            sides = tuple(frozenset(t for t in side if self.lexical.known(t)) for side in sides)
        return sides[0] | sides[1] if all(sides) else None

    def _unknowns(self, question: str, language: str, terms: Sequence[str]) -> tuple[float, float]:
        """(how many things the (Simplified) question names that the corpus lacks, the share
        of its ``terms``' weight the corpus never uses): the text cannot state those."""
        focus = question_focus(question) if language == "zh" else []
        nouns = sum(1 for f, noun in focus if noun and not self._names_known_thing(f))
        nouns += self._unknown_names(question, language, {f for f, noun in focus if noun})
        weights = {t: self.lexical.idf(t) for t in terms}
        total = sum(weights.values())
        unknown = sum(v for t, v in weights.items() if not self.lexical.known(t) and not self.lexical.in_text(t))
        return float(nouns), (unknown / total if total else 0.0)

    def _unknown_names(self, question: str, language: str, counted: set[str]) -> int:
        """How many names the question uses that the corpus never writes (beyond the focus
        nouns already ``counted``): the corpus does not speak of those things.

        In a Chinese question a Latin word names something (dput, snap, DPL), unless the
        corpus writes it in Chinese (Huawei = 华为); a run of three or more Latin words is a
        phrase (an English gloss in brackets), not a name, and an acronym of words the corpus
        writes is known (GFDL: GNU Free Documentation License). In an English question a file path
        or identifier is a name (debian/compat, dh_auto_install), and so is a word that is
        neither English nor pinyin (uupdate, GPG: :meth:`CrossLingual.unknown_name`)."""
        if language != "zh":
            folded = fold(question)
            codes = [t for t in _CODE_NAME.findall(folded) if not self.lexical.in_text(t)]
            words = [w for w in _EN_WORD.findall(_CODE_NAME.sub(" ", folded)) if self.crosslingual.unknown_name(w)]
            return len(codes) + len(set(words))
        latin = {t for run in _LATIN_RUN.findall(question) if len(run.split()) <= 2 for t in content_terms(run)}
        return sum(1 for t in latin if _LATIN_NAME.fullmatch(t) and t not in counted and not self.lexical.known(t)
                   and not self.lexical.in_text(t) and not self.crosslingual.name_terms(t)
                   and not self.lexical.spells_out(t))

    def _names_known_thing(self, word: str) -> bool:
        """Whether the corpus can speak of ``word``: it occurs in the text, or it is a
        compound of two words that each do (中东国家 = 中东 + 国家: jieba keeps some
        compounds whole that documents write apart or around other words), or a word the
        text uses under a one-character modifier (原作者 = 原 + 作者), or, in a corpus with
        untranslated English text, a word whose English gloss it writes as a phrase
        (:meth:`CrossLingual.english_of`)."""
        if self.lexical.in_text(word):
            return True
        if self.sentences.has_latin and any(self.lexical.in_text(" ".join(phrase))
                                            for phrase in self.crosslingual.english_of(word)):
            # A manual left partly in English may name the thing only there (台式机: "desktop
            # computer"): a word whose English gloss the corpus writes, as a phrase, is no
            # unknown thing. (Glosses matched word by word instead, numerical … value for 数值,
            # answered one more in-sample question and abstained on one unread question fewer.)
            return True
        if _modified(word) and (self.lexical.in_text(word[1:]) or self.lexical.in_text(word[:-1])):
            # A one-character modifier on a word the corpus uses (原作者, 新版本), or a
            # one-character head after one (还款额 = 还款 + 额, 折旧率).
            return True
        return any(self.lexical.in_text(word[:k]) and self.lexical.in_text(word[k:])
                   for k in range(2, len(word) - 1))

    def coefficients(self, language: str) -> dict[str, float]:
        """The weight of each of :data:`FEATURES` in a candidate's score (from :class:`Weights`)."""
        w = self.weights
        return {"cos": 1.0, "coverage": w.lexical if language == "zh" else w.lexical_en,
                "cues_missing": -w.cue_missing, "rank": -w.rank_decay, "pair": -w.pair_cost,
                "cross_line": -w.cross_line_cost, "focus_missing": -w.focus_missing,
                "unknown_share": -w.unknown_penalty, "unknown_nouns": -w.focus_unknown,
                "passage": w.passage_cos, "echo": -w.echo, "numbers_missing": -w.number_missing}

    def score_sentences(self, question: str, query_vector: np.ndarray, passages: Sequence[Passage],
                        language: str, expansion: Sequence[str] = (), whole: str | None = None) -> list[ScoredSentence]:
        """Candidate answers from the passages, scored and sorted best first: per sentence,
        its best unit (:meth:`candidates`) under :meth:`coefficients`."""
        coef = self.coefficients(language)
        best: dict[int, ScoredSentence] = {}
        for o in self.candidates(question, query_vector, passages, language, expansion, whole):
            parts = {k: coef[k] * v for k, v in o.features.items()}
            score = sum(parts.values())
            if o.sentence not in best or score > best[o.sentence].score:
                best[o.sentence] = ScoredSentence(o.unit, o.passage, score, o.cosine, o.features["coverage"],
                                                  o.cues_ok, o.terms, parts, o.sentence)
        return sorted(best.values(), key=lambda s: -s.score)

    def _next_steps(self, out: list[int]) -> list[int]:
        """After a quoted numbered step (1. 选中您想删除的文件。), the steps that follow it
        (2. …, 3. …, with the lines each step holds), while they fit in ``STEPS_CHARS``
        with the quote: asked how, the reader needs the whole procedure, not its first step."""
        recs = self.sentences.records
        m = _STEP_NUMBER.match(recs[out[-1]].text)
        if m is None:
            return []
        n, last, total, more = int(m.group(1)), out[-1], sum(len(recs[i].text) for i in out), []
        pending: list[int] = []  # lines of the current step, kept when the next step fits
        for j in self.sentences.following(last, 12):
            if self.sentences.previous(j) != last or j in out:
                break  # a heading in between: another section
            last = j
            mm = _STEP_NUMBER.match(recs[j].text)
            if mm and int(mm.group(1)) != n + 1:
                break
            pending.append(j)
            if mm:
                size = sum(len(recs[i].text) for i in pending)
                if total + size > self.STEPS_CHARS:
                    break
                more += pending
                total, n, pending = total + size, n + 1, []
        return more

    def _earlier_steps(self, out: list[int]) -> list[int]:
        """Before a quoted numbered step that is not the first (4. 按一下加号…), the steps
        from 1. on (with the lines each holds), when all of them fit in ``STEPS_CHARS`` with
        the quote: a procedure is followed from its start."""
        recs = self.sentences.records
        # The first quoted step; lines quoted before it belong to the step before.
        m = next((mm for mm in (_STEP_NUMBER.match(recs[i].text) for i in out) if mm), None)
        if m is None or int(m.group(1)) < 2:
            return []
        n, first, total, earlier = int(m.group(1)), out[0], sum(len(recs[i].text) for i in out), []
        while n > 1:
            j = self.sentences.previous(first)
            if j is None or recs[j].heading or j in out:
                return []
            earlier.insert(0, j)
            total += len(recs[j].text)
            if total > self.STEPS_CHARS:
                return []
            first = j
            mm = _STEP_NUMBER.match(recs[j].text)
            if mm:
                if int(mm.group(1)) != n - 1:
                    return []
                n -= 1
        return earlier

    def _same_paragraph(self, p: Passage, a: int, b: int) -> bool:
        """Whether sentences a and b (a before b) are adjacent in one paragraph of p."""
        ra, rb = self.sentences.records[a], self.sentences.records[b]
        gap = p.text[ra.char_end - p.char_start: rb.char_start - p.char_start]
        return "\n" not in gap

    def threshold(self, language: str) -> float:
        """The abstention threshold for a question language."""
        shift = self.weights.en_threshold_shift if language == "en" else 0.0
        return self.config.min_score + shift

    def select(self, scored: list[ScoredSentence], question: str, language: str) -> list[ScoredSentence]:
        """The best candidate plus up to two that add coverage or score within
        ``tie_margin`` of it, within the length budget, best first."""
        if not scored:
            return []
        cues = question_cues(simplified(question), language)
        best = scored[0]
        chosen = [best]
        used = set(best.indices)
        covered, cues_covered = set(best.terms), set(best.cues_ok)
        length = sum(len(self.sentences.records[i].text) for i in best.indices)
        said = {self.sentences.normalised(i) for i in best.indices}

        def fits(cand: ScoredSentence) -> int | None:
            """The candidate's length if it may join: no overlap, not the same words again
            from another place, within the length budget; else None."""
            if used & set(cand.indices) or all(self.sentences.normalised(i) in said for i in cand.indices):
                return None
            extra = sum(len(self.sentences.records[i].text) for i in cand.indices)
            return extra if length + extra <= self.config.max_chars else None

        def within(margin: float):
            for cand in scored[1:]:
                if len(chosen) >= self.config.max_sentences or cand.score < best.score - margin:
                    return
                yield cand

        def take(cand: ScoredSentence, extra: int) -> None:
            nonlocal length
            chosen.append(cand)
            said.update(self.sentences.normalised(i) for i in cand.indices)
            used.update(cand.indices)
            covered.update(cand.terms)
            cues_covered.update(cand.cues_ok)
            length += extra

        for cand in within(self.weights.margin):
            extra = fits(cand)
            adds = bool(cand.terms - covered) or bool((cand.cues_ok - cues_covered) & cues) or Cue.LIST in cues
            if extra is not None and adds:
                take(cand, extra)
        if self.weights.tie_margin > 0:
            # Near-ties next, where slots and length are left (those that add came first:
            # they answer more of the question).
            for cand in within(self.weights.tie_margin):
                if (extra := fits(cand)) is not None:
                    take(cand, extra)
        return sorted(chosen, key=lambda c: -c.score)

    def _expand(self, cand: ScoredSentence, cues: set[Cue] | frozenset[Cue] = frozenset(), how: bool = False
                ) -> list[int]:
        """Add the context a reader needs: the antecedent of a leading 这/那/它 (in either
        script; in English a leading It/This, or "this key combination" anywhere; two steps
        back at most, from the chunk before when the passage starts with the sentence);
        else, for a lone sentence, the next one of its paragraph when both are short
        (``answer.context_next_chars``): documents often answer in the sentence after the
        one that matches the question; then the sentence after the one scored, on the next
        line too, when it refers back to it (:data:`_REFERS_BACK`: 访问该控制台); the items
        announced by a sentence that ends with a
        colon (第一…第二…第三…), which may run past the passage, even when the candidate
        already quotes the first item with it (…有多个网络模式：+ 最简单的模式是…；), every
        sentence up to the last item when they are short (:meth:`_enumerated_run`); and the
        next line after a
        sentence that stops mid-clause (the command a manual sets on its own line)."""
        p = cand.passage
        idxs = self.sentences.within(p.source, p.char_start, p.char_end)
        recs = self.sentences.records
        out = list(cand.indices)
        pos = idxs.index(out[0])
        # Asked for a list, a sentence that names none but points back at one (…将这些文件添加到
        # 忽略的文件列表中) needs the sentence before it, like a leading 这/它.
        points_back = Cue.LIST in cues and _PLURAL_BACK.search(simplified(recs[out[0]].text)) \
            and not any("、" in recs[i].text for i in out)
        # The antecedent may itself refer back (它… after 这一工具… after 您可以使用 cron-apt).
        for _ in range(2):
            if not (_ANAPHOR.search(simplified(recs[out[0]].text)) or points_back):
                break
            points_back = False
            at = idxs.index(out[0]) if out[0] in idxs else -1
            if at > 0 and self._same_paragraph(p, idxs[at - 1], out[0]):
                out.insert(0, idxs[at - 1])
            elif at <= 0:
                # The passage starts with it: the antecedent ends the chunk before.
                prev = self._previous_in_paragraph(out[0])
                if prev is None:
                    break
                out.insert(0, prev)
            else:
                break
        if len(out) == 1 and pos + 1 < len(idxs) and self._same_paragraph(p, out[0], idxs[pos + 1]) \
                and len(recs[out[0]].text) + len(recs[idxs[pos + 1]].text) <= self.config.context_next_chars:
            out.append(idxs[pos + 1])
        # The sentence after the one scored may go on about it (…重定向到第四个控制台。您可以通过按下
        # 左 Alt+F4 访问该控制台；): one that refers back to it belongs with it.
        # Asked how, a sentence that says what can be done (您可以将位图转换成矢量图形。) is
        # followed by the step that does it: the step is the answer.
        if out[-1] == cand.sentence:
            nxt = self.sentences.following(out[-1], 1)
            if nxt and self.sentences.previous(nxt[0]) == out[-1] and nxt[0] not in out \
                    and len(recs[nxt[0]].text) <= self.config.context_next_chars:
                after = simplified(recs[nxt[0]].text)
                if _REFERS_BACK.search(after) or how and sentence_has(Cue.STEPS, after) \
                        and not sentence_has(Cue.STEPS, simplified(recs[out[-1]].text)):
                    out.append(nxt[0])
        if how:
            out[:0] = self._earlier_steps(out)
            out.extend(self._next_steps(out))
        key = self._key_line(out[0])
        if key is not None:
            out.insert(0, key)
        last = recs[out[-1]].text.rstrip()
        # The sentence announcing a list (…有多个网络模式：) may be quoted with its first item
        # as a pair: the items go on after the pair.
        colon = next((k for k in range(len(out) - 1, -1, -1) if recs[out[k]].text.rstrip().endswith((":", "："))
                      or _ANNOUNCES_END.search(simplified(recs[out[k]].text))), None)
        if colon is not None:
            quoted_after = len(out) - 1 - colon
            nxt = [j for j in self.sentences.around(out[colon], 12)[1] if j not in out]
            items = [j for j in nxt if _ENUMERATION.match(simplified(recs[j].text))]
            # The first item need not be marked (最简单的模式是…；…。然后是…。最后…).
            run = self._enumerated_run(nxt, first_within=3)
            if run and sum(len(recs[j].text) for j in out + run) <= 2 * self.config.max_chars:
                out.extend(run)  # every sentence up to the last item (首先…；…。然后…。最后…)
            elif len(items) >= 2:
                out.extend(items[:6])  # the enumerated sentences alone (第一… 第二…)
            else:
                out.extend(nxt[: max(0, 3 - quoted_after)])
        elif last and _UNFINISHED.search(last):
            # A sentence that stops mid-clause (…而是可以运行) goes on in the next line: the
            # command or path a manual sets on a line of its own.
            nxt = [j for j in self.sentences.following(out[-1], 1) if j not in out]
            if nxt and len(recs[nxt[0]].text) <= self.config.context_next_chars:
                out.append(nxt[0])
        return out

    def _key_line(self, idx: int) -> int | None:
        """The line just above sentence ``idx`` when it is the key that the sentence
        describes: a definition list's term on a line of its own (a man page's ``skip=blocks``
        or ``-t, --sort=time`` over its description), else None. The description alone does
        not say which option or term it is about."""
        recs = self.sentences.records
        prev = self.sentences.previous(idx)
        if prev is None or recs[prev].heading or recs[prev].source != recs[idx].source \
                or recs[idx].char_start - recs[prev].char_end > 2:
            return None  # a heading is quoted only when the question asks for a name (_section_name)
        if not _KEY_LINE.fullmatch(recs[prev].text.strip()) or _KEY_LINE.fullmatch(recs[idx].text.strip()):
            return None
        return prev

    def _list_items(self, out: list[int]) -> tuple[list[int], set[int]]:
        """``out`` with the other items of the lists its sentences belong to, in document
        order, and the items themselves (the answer phrases), for a question that asks for
        a list (哪几种, 哪些). Documents set list items on lines of their own, and the
        best-matching item (or the sentence after the list, 当这些事情发生时) names only one
        of them. An item is a short line without sentence-final punctuation (aptitude 命令 /
        the packages 页面), or a line opening with the same four characters as its siblings
        (有时候，某个软件包… ×3); the items right after a quoted sentence count too
        (现在你有了一系列的补丁。 + two patch lines)."""
        recs = self.sentences.records
        items: list[int] = []
        todo = list(out)
        for i in out:
            # 当这些事情发生时 / 上述 sums up the list before it: that list is the answer.
            prev = self.sentences.previous(i)
            if _LIST_BACK.match(simplified(recs[i].text)) and prev is not None and not recs[prev].heading \
                    and prev not in out:
                todo.append(prev)
        for i in todo:
            before, after = self.sentences.around(i, _LIST_WINDOW)
            run: list[int] = []
            if _is_item(recs[i].text):
                # The run of items the sentence is part of.
                for side in (before, after):
                    run += _leading_items(side, recs)
                if run:
                    run.append(i)
            elif len(after) >= 2 and all(_is_item(recs[j].text) for j in after[:2]):
                run += _leading_items(after, recs)  # the items announced by the sentence
            key = _item_prefix(recs[i].text)
            siblings = [j for j in before + after if key and _item_prefix(recs[j].text) == key]
            items += run + (siblings + [i] if siblings else []) + (self._numbered_items(i) or self._told_in_order(i))
        members = set(items)
        added = [j for j in dict.fromkeys(items + todo) if j not in out][:_LIST_MAX_ADDED]
        # Document order: a list reads as the document sets it.
        ordered = sorted(out + added, key=lambda j: (recs[j].source, recs[j].char_start)) if added else out
        return ordered, members & set(ordered)

    def _numbered_items(self, idx: int) -> list[int]:
        """Numbered lines that start right after sentence ``idx`` (场景一… 场景二… 场景三…,
        第一步… 第二步…, 1. … 2. …), each however many paragraphs long: the sentence that
        announces them (可以推演出几种…景象, 有以下三点：) names none of them. At least two,
        numbered in order, with the same word before the number."""
        recs = self.sentences.records
        if not _ANNOUNCES.search(simplified(recs[idx].text)):
            return []
        after = self.sentences.following(idx, _NUMBERED_SPAN)
        found: list[int] = []
        stem = None
        for k, j in enumerate(after):
            m = _NUMBERED.match(simplified(recs[j].text))
            if not m:
                if not found and k >= _NUMBERED_START:
                    return []  # the list must start right after the announcing sentence
                continue
            number = _ordinal(m.group(2))
            if not found and number == 1 or found and m.group(1) == stem and number == len(found) + 1:
                stem = m.group(1)
                found.append(j)
        return found if len(found) >= 2 else []

    def _enumerated_run(self, after: list[int], first_within: int = 1) -> list[int]:
        """The start of ``after`` up to its last enumerated sentence (首先, 第二, 然后, 最后,
        Finally…), when the first is among the first ``first_within`` + 1 sentences, at
        least two are, and no more than three others stand between any two of them; else []."""
        recs = self.sentences.records
        marked = [k for k, j in enumerate(after) if _ENUMERATION.match(simplified(recs[j].text))]
        if not marked or marked[0] > first_within:
            return []
        last = marked[0]
        for k in marked[1:]:
            if k - last > 4:
                break
            last = k
        run = after[: last + 1]
        return run if sum(1 for k in marked if k <= last) >= 2 else []

    def _told_in_order(self, idx: int) -> list[int]:
        """The sentences after sentence ``idx`` that tell the things it announces in order
        (涉及三个概念。 首先，PV… 许多 PV 可以在 VG… 第三种对象是 LV…), up to the next heading
        (:meth:`_enumerated_run`): all of them when short, else the enumerated ones."""
        recs = self.sentences.records
        if not _ANNOUNCES.search(simplified(recs[idx].text)):
            return []
        run = self._enumerated_run(self.sentences.around(idx, _TOLD_SPAN)[1])
        if sum(len(recs[j].text) for j in [idx, *run]) <= 2 * self.config.max_chars:
            return run
        return [j for j in run if _ENUMERATION.match(simplified(recs[j].text))]

    def _key_phrase(self, expanded: Sequence[int], cand: ScoredSentence, question: str, language: str,
                    expansion: Sequence[str]) -> tuple[int | None, tuple[int, int] | None]:
        """(sentence, span) of the answer phrase for ``question``: in the sentence scored
        first, then in those quoted after it (the next sentence often holds the address, the
        number, the key...), then before it. What the question asks for (a year, the list, a
        name) in any of them beats the clause that merely carries the question's words."""
        recs = self.sentences.records
        # The sentence scored, then what follows it (the next sentence often goes on with the
        # value: …控制台。您可以通过按下 Alt+F4…), then what comes before it.
        order = sorted(expanded, key=lambda j: (j != cand.sentence, j < cand.sentence))
        # Asked which package / command / function, a name written beside that word in any
        # quoted sentence (您只需要安装 build-essential 软件包) beats what the others name.
        for i in order:
            sp = kind_span(recs[i].text, question, language)
            if sp:
                return i, sp
        for clause in (False, True):
            for i in order:
                sp = key_span(recs[i].text, question, language, expansion, clause=clause)
                if sp:
                    return i, sp
        return None, None

    def _section_name(self, expanded: Sequence[int], question: str, language: str) -> int | None:
        """The heading to quote before the sentences when the question asks what something
        is called and they name nothing, but the heading just above them does (a reference
        manual: PMT, then 返回利率固定情况下年金的定期支付金额。); else None."""
        if not expanded or not asks_for_name(simplified(question), language):
            return None
        recs = self.sentences.records
        if any(has_name(recs[i].text, question) for i in expanded):
            return None
        h = self.sentences.section_heading(expanded[0])
        return h if h is not None and len(recs[h].text) <= 40 and has_name(recs[h].text, question) else None

    def _previous_in_paragraph(self, idx: int) -> int | None:
        """The sentence before ``idx`` in its source when both are in one paragraph (read
        from a corpus chunk that holds the two), else None."""
        recs = self.sentences.records
        rec = recs[idx]
        prev = self.sentences.previous(idx)
        if prev is None or recs[prev].heading:
            return None
        start, end = recs[prev].char_start, rec.char_end
        for chunk in self.lexical.chunks:
            if chunk.source == rec.source and chunk.char_start <= start and end <= chunk.char_end:
                gap = chunk.text[recs[prev].char_end - chunk.char_start: rec.char_start - chunk.char_start]
                return prev if "\n" not in gap else None
        return None

    #: A continuation (后来呢？) quotes the sentences after the previous quote until they
    #: hold this many characters, and this many sentences at most.
    CONTINUE_SENTENCES = 3
    CONTINUE_CHARS = 60
    #: Characters a quoted procedure may grow to with the steps after its first (:meth:`_next_steps`).
    STEPS_CHARS = 300

    def following_quote(self, runs: Sequence[str]) -> list[int]:
        """What the document says next after an earlier answer whose quoted runs are
        ``runs`` (:func:`app.followup.quoted_runs`): the sentences after its main quote
        (the first run), skipping any the answer quoted, until they hold
        ``CONTINUE_CHARS`` characters (``CONTINUE_SENTENCES`` at most).

        The main quote's place is a sentence the run starts with and the document's next
        sentences for as long as the run goes on with them, in order (a line such as a
        command may stand in several places; the longest such chain wins, the first on a
        tie). [] when the run does not start with a sentence of the corpus (an LLM's own
        words, a sentence under 6 letters) or its chain ends the document."""
        if not runs:
            return []
        quote = normalize(runs[0])
        recs = self.sentences.records
        best: list[int] = []
        for start in self.sentences.locate(runs[0]):
            first = normalize(recs[start].text)
            if not quote.startswith(first):
                continue
            chain, pos = [start], len(first)
            while pos < len(quote):
                nxt = self.sentences.following(chain[-1], 1)
                text = normalize(recs[nxt[0]].text) if nxt else ""
                if not text or not quote.startswith(text, pos):
                    break
                chain.append(nxt[0])
                pos += len(text)
            if len(chain) > len(best):
                best = chain
        if not best:
            return []
        quoted = set(best) | {i for run in runs for i in self.sentences.locate(run)}
        out: list[int] = []
        chars = 0
        for i in self.sentences.following(best[-1], 2 * self.CONTINUE_SENTENCES):
            if i in quoted:
                continue
            out.append(i)
            chars += len(recs[i].text)
            if len(out) >= self.CONTINUE_SENTENCES or chars >= self.CONTINUE_CHARS:
                break
        # Cited from the chunk that holds the first of them (the retrieved passages need not).
        if out and self._cite_passage(out[0], None, []) is None:
            return []
        return out

    def _cite_passage(self, idx: int, preferred: Passage | None, passages: list[Passage]) -> Passage | None:
        """The passage to cite for a sentence: the candidate's own, another retrieved one, or
        (for list items past the retrieved text) the corpus chunk that holds it."""
        rec = self.sentences.records[idx]

        def holds(p) -> bool:
            return p is not None and p.source == rec.source and p.char_start <= rec.char_start \
                and rec.char_end <= p.char_end

        if holds(preferred):
            return preferred
        for p in passages:
            if holds(p):
                return p
        for chunk in self.lexical.chunks:
            if holds(chunk):
                extra = Passage.from_chunk(chunk, rank=len(passages) + 1)
                passages.append(extra)
                return extra
        return preferred

    def answer(self, question: str, query_vector: np.ndarray, passages: list[Passage], language: str,
               subquestions: Sequence[tuple[str, np.ndarray]] = (), expansion: Sequence[str] = (),
               follows: Sequence[int] = ()) -> Answer:
        """Build the cited answer (or the abstention) for retrieved passages.

        ``subquestions`` (a question asking two things, 哪一年…?又是在哪一年?) are each
        answered from the same passages and the answers joined. ``follows`` (a continuation,
        后来呢？: :meth:`following_quote`) are quoted as they are, with confidence 1: they
        are where the previous quote goes on, found verbatim, not a guess at a match.
        """
        passages = list(passages)
        if follows:
            holder = self._cite_passage(follows[0], None, passages)
            top = ScoredSentence(indices=list(follows), passage=holder, score=0.5, cosine=0.0, coverage=0.0)
            chosen, bests = [top], []
        elif len(subquestions) >= 2:
            # Each part gets its own best sentence, not one already used by an earlier part.
            top, chosen = None, []
            bests: list[tuple[str, ScoredSentence]] = []  # each part and its best sentence
            for sub, vec in subquestions:
                scored = self.score_sentences(sub, vec, passages, language, expansion, whole=question)
                if not scored:
                    continue
                bests.append((sub, scored[0]))
                if top is None or scored[0].score > top.score:
                    top = scored[0]
                for cand in scored:
                    if cand.score < scored[0].score - self.weights.margin:
                        break
                    if not any(set(cand.indices) & set(c.indices) for c in chosen):
                        chosen.append(cand)
                        break
            # A part is kept when it would (nearly) be answered on its own: its confidence is
            # within ``margin`` of the threshold (confidences are comparable across questions;
            # the slack is because the question as a whole already passed).
            floor = self.threshold(language) - self.weights.margin
            chosen = [c for c in chosen if c.score + 0.5 >= floor] if top else []
            if top is not None and not chosen:
                chosen = [top]
        else:
            bests = []
            scored = self.score_sentences(question, query_vector, passages, language, expansion)
            top = scored[0] if scored else None
            chosen = self.select(scored, question, language) if scored else []
        confidence = round(top.score + 0.5, 4) if top else 0.0
        # A question with no word to look for (☃☃☃ ###) can only be matched by similarity
        # of form: whatever comes back is a guess.
        if not follows and (top is None or confidence < self.threshold(language) or not content_terms(question)):
            return Answer(question=question, text=NOT_FOUND[language], found=False, citations=[],
                          passages=passages, language=language, confidence=confidence)
        cues = question_cues(simplified(question), language)
        how = bool(ASKS_HOW.search(simplified(question)))
        citations: dict[str, Citation] = {}
        parts: list[str] = []
        key_phrases: list[str] = []
        used: set[int] = set()
        recs = self.sentences.records
        for cand in chosen:
            run_text, run_cit, prev = "", None, -1
            expanded, items = (list(cand.indices) if follows else self._expand(cand, cues, how)), set()
            if Cue.LIST in cues and not follows:
                expanded, items = self._list_items(expanded)
            expanded = [i for i in expanded if i not in used]
            named = self._section_name(expanded, question, language) if not follows else None
            if named is not None and named not in used and named not in expanded:
                expanded.insert(0, named)
            else:
                named = None
            # The answer phrase of each part of the question this candidate answers (the
            # part's own best sentence overlaps it: one sentence may answer 谁…？哪一年…？).
            parts_asked = [_last_question(sub) for sub, best in bests if set(best.indices) & set(cand.indices)] \
                or [question]
            keys: dict[int, list[tuple[int, int]]] = {}
            # A list's phrases are its items; a continuation has no phrase (all of it is new).
            for asked in ([] if items or follows else parts_asked):
                at, sp = self._key_phrase(expanded, cand, asked, language, expansion)
                if at is not None and sp not in keys.get(at, []):
                    keys.setdefault(at, []).append(sp)
            if named is not None:
                keys[named] = [(0, len(recs[named].text))]  # the name asked for
            for i in expanded:
                used.add(i)
                p = self._cite_passage(i, cand.passage, passages)
                if p.id not in citations:
                    citations[p.id] = Citation(**vars(p), number=len(citations) + 1)
                cit = citations[p.id]
                rec = recs[i]
                rel = rec.char_start - p.char_start
                cit.highlights.append((rel, rel + len(rec.text)))
                for a, b in sorted(keys.get(i, [])) if i not in items else [(0, len(rec.text))]:
                    cit.key_spans.append((rel + a, rel + b))
                    key_phrases.append(rec.text[a:b])
                if run_cit is not None and cit is not run_cit:
                    parts.append(f"{run_text}[{run_cit.number}]")
                    run_text = ""
                elif run_text and self.sentences.following(prev, 1) != [i]:
                    run_text += _ELLIPSIS  # sentences skipped in between (list items)
                elif run_text and not (is_cjk(run_text[-1]) or is_cjk(rec.text[0])) \
                        or run_text and (not _NOT_ITEM_END.search(run_text) or run_text[-1] in ".!?"):
                    # Latin-script sentences keep their space; lines without end punctuation
                    # (list items, a command), or after an English sentence (…To Polygon. 在
                    # Impress 中…), are set apart by one.
                    run_text += " "
                run_text += _FOOTNOTE.sub(r"［\1］", rec.text)
                run_cit, prev = cit, i
            if run_cit is not None:
                parts.append(f"{run_text}[{run_cit.number}]")
        sep = "" if language == "zh" else " "
        text = sep.join(parts)
        if language == "en" and any(is_cjk(ch) for ch in text):
            text = english_lead_in(list(citations.values())) + text
        return Answer(question=question, text=text, found=True, citations=list(citations.values()),
                      passages=passages, language=language, confidence=confidence, key_phrases=key_phrases)


# A line that only gives a syntax: a function's signature (ROUNDUP(Number [; Count])) or a
# command's synopsis (ls [选项]... [文件]...). It names the thing asked about and its
# parameters, and answers nothing but how it is written.
_SYNTAX_LINE = re.compile(r"\s*[A-Za-z][\w.]*\s*\((?:[^()。，]|\([^()]*\))*\)\s*$"
                          r"|\s*[a-z][\w.\-]*(?=[^\[<]*[\[<])(?:\s+(?:\[[^\]]*\]|<[^>]*>|-{1,2}\w[\w\-]*)(?:\.\.\.|…)?)+\s*$")
# A question about that syntax: how it is written, which parameters it takes (not what
# a parameter's value does: Abs 参数填 4 得到什么).
_ASKS_SYNTAX = re.compile(r"语法|格式|写法|怎么写|如何写|(?:哪些|哪几个|哪两个|几个|什么)(?:可选)?参数|参数(?:有哪些|是什么|顺序)"
                          r"|syntax|\b(?:which|what|how many)\b[\w\s]{0,20}\b(?:parameters|arguments)\b", re.I)


def _last_question(part: str) -> str:
    """The last question of a part that carries the one before it as context (CUDA是哪一年
    推出的？ 是谁做出的这个决定？ -> 是谁做出的这个决定？): what this part itself asks for."""
    pieces = [x for x in re.split(r"(?<=[？?])\s*", part) if x.strip()]
    return pieces[-1] if pieces else part


def _modified(word: str) -> bool:
    """Whether ``word`` may be a one-character modifier on a word (原作者 = 原 + 作者)."""
    return len(word) >= 3 and is_cjk(word[0]) and is_cjk(word[1])


def _has_word(text: str, word: str) -> bool:
    """Whether ``text`` holds ``word``, or the word under its one-character modifier
    (它们的作者 answers a question about the 原作者)."""
    return word in text or (_modified(word) and word[1:] in text)


#: A definition list's term on a line of its own: an option or options (-t, --sort=time,
#: -a, --all), an assignment (skip=blocks) or one identifier (noerror, PMT); not a command
#: line, a label in brackets or a sentence.
_KEY_LINE = re.compile(r"-{1,2}[A-Za-z0-9?][^\s,]*(?:,?\s+-{1,2}[A-Za-z0-9?][^\s,]*)*(?:\s+[A-Za-z_<\[][^\s]*)?"
                       r"|[A-Za-z_][\w.+\-]*(?:=[^\s]*)?")


def _novel_chars(text: str, terms: Sequence[str]) -> int:
    """Letters and digits of folded ``text`` left once the question's ``terms`` (longest
    first) are taken out: what the text says beyond the question."""
    for t in terms:
        text = text.replace(t, " ")
    return sum(1 for ch in text if ch.isalnum())


#: Matches the lead-in of :func:`english_lead_in` (follow-up resolution strips it).
LEAD_IN = re.compile(r"^The documents answer this in Chinese; the cited sentence \[\d+\] is from [^“\n]*?"
                     r"(?:, section “[^\n]*?”)?(?: \(and \d+ more sources?\))?: ")


def english_lead_in(citations: Sequence[Citation]) -> str:
    """The English sentence before a Chinese quote that answers an English question: it
    names where the cited sentence is, so the reader knows what the quote is."""
    first = citations[0]
    where = first.source + (f", section “{first.section}”" if first.section else "")
    more = f" (and {len(citations) - 1} more source{'s' if len(citations) > 2 else ''})" if len(citations) > 1 else ""
    return f"The documents answer this in Chinese; the cited sentence [{first.number}] is from {where}{more}: "


#: Marks omitted text between quoted sentences of one citation.
_ELLIPSIS = "……"
# Footnote marks in the documents ([3] in wiki-style text) would read as our citation markers;
# quoted text gets full-width brackets instead.
_FOOTNOTE = re.compile(r"\[(\d+)\]")

# A sentence that starts an enumerated item: 第一, 其二, 首先, 1. / (2)
_ENUMERATION = re.compile(r"^\s*(第[一二三四五六七八九十]+|其[一二三四五]|[一二三四五]是|首先|其次|再次|然后|接着|最后|[（(]?\d+[)）.、])"
                          r"|^\s*(?:First(?:ly)?|Second(?:ly)?|Third(?:ly)?|Then|Finally|Lastly)\b")
# A run of Latin-script words (spaces between them) in a question.
_LATIN_RUN = re.compile(r"[A-Za-z0-9][\w.\-/+]*(?: +[A-Za-z0-9][\w.\-/+]*)*", re.ASCII)
# A Latin-script name in a (folded) question: letters, digits and . - _ with a letter.
_LATIN_NAME = re.compile(r"(?=[a-z0-9._\-]*[a-z])[a-z0-9][a-z0-9._\-]*")

# A number in a folded question (13 in Debian 13, 2022), not part of a name (H100, 910B).
_QUESTION_NUMBER = re.compile(r"(?<![a-z0-9.\-])\d+(?:\.\d+)?(?![a-z0-9])")

# A word of an English question (hyphenated words whole: image-recognition, x-window-manager).
_EN_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

# A path or identifier in a folded question: Latin runs joined by / _ or a dot, with a letter.
_CODE_NAME = re.compile(r"(?<![a-z0-9_/.])/?(?=[a-z0-9_/.]*[a-z])[a-z0-9]{2,}(?:[/_.][a-z0-9]{2,})+(?![a-z0-9_/])")

# List items (:meth:`ExtractiveAnswerer._list_items`): how far from a quoted sentence its
# siblings may lie, how many are added, and the longest line that reads as an item.
_LIST_WINDOW = 6
_LIST_MAX_ADDED = 8
# How far the sentences that tell announced things in order may run (:meth:`ExtractiveAnswerer._told_in_order`).
_TOLD_SPAN = 8
_ITEM_CHARS = 80
# Punctuation that ends a sentence or announces more (：，): an item line has none at its end.
_NOT_ITEM_END = re.compile(r"[。！？!?；;.…:：，,、]\s*$")
# A command line ($ make, # apt install) is code, not a list item.
_PROMPT = re.compile(r"^\s*[$#>] ")
# Numbered items (:meth:`ExtractiveAnswerer._numbered_items`): a line opening with up to
# four characters, then a number and a separator (场景一: / 第二步, / 3. / （4）).
_NUMBERED = re.compile(r"^[（(]?([^\s\d一二三四五六七八九十:：、.．,，]{0,4}?)([一二三四五六七八九十]|\d{1,2})[)）]?(?:[:：、.．,，]|步|部分|章|节)")
_CN_ORDINALS = "一二三四五六七八九十"
# A sentence that ends by announcing what follows, like a colon (这分为以下两步。, 有如下三种。).
# Not 零度以下。 / 18 岁以下。 (below a value), 如下图所示。, 第二步。 or 下午三点。
_ANNOUNCES_END = re.compile(r"(?:以下|如下)(?!图)(?:[^，,。；;\d]{1,6}[。:：]|[:：])\s*$"
                            r"|(?<![第\d])[两二三四五六七八九十几][种类条步项]\s*[。:：]\s*$")
# A sentence that announces a list: a count of kinds, points or steps, 以下/如下, or a colon.
_ANNOUNCES = re.compile(r"[几两二三四五六七八九十多][种个点类条步项方面大]|以下|如下|[:：]\s*$")
# How far the numbered items may run, and how soon after the announcing sentence the first.
_NUMBERED_SPAN = 80
_NUMBERED_START = 3
# A sentence that opens by summing up what came before (当这些…, 上述…).
_LIST_BACK = re.compile(r"^.{0,2}(这些|这几|上述|以上|前述)")


def _ordinal(number: str) -> int:
    """一 -> 1, 3 -> 3."""
    return int(number) if number.isdigit() else _CN_ORDINALS.index(number) + 1


def _is_item(text: str) -> bool:
    """Whether a sentence reads as a list item: a short line with no sentence-final
    punctuation (the sentence splitter ends a sentence there only at a line break)."""
    return len(text) <= _ITEM_CHARS and not _NOT_ITEM_END.search(text) and not _PROMPT.match(text)


def _leading_items(side: Sequence[int], recs: Sequence[SentenceRecord]) -> list[int]:
    """The sentences of ``side`` (nearest first) up to the first that is not a list item."""
    run = []
    for j in side:
        if not _is_item(recs[j].text):
            break
        run.append(j)
    return run


def _item_prefix(text: str) -> str | None:
    """The first four characters (spaces dropped) when three or more of them are Chinese:
    parallel list items open the same way (有时候，某个软件包…, 对于仓库中…区的软件)."""
    head = re.sub(r"\s+", "", simplified(text))[:4]
    return head if len(head) == 4 and sum(1 for ch in head if is_cjk(ch)) >= 3 else None


# A sentence that ends mid-clause: on a CJK character or a Latin word character with no
# sentence-final punctuation (。！？.!?…) or closing bracket/quote after it.
_UNFINISHED = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]$")
# A sentence opening with a demonstrative or pronoun refers back to the previous one.
_ANAPHOR = re.compile(r"^(那一年|这一年|那一刻|这|那|它|他|她|此|该|其|随后|至此)"
                      # English: a leading pronoun, or "this key combination" / "this option"
                      # anywhere (…the first time you press this key combination, … $A$1).
                      r"|^(?:It|Its|This|These|They|Their)\b"
                      r"|\b(?:this|these) (?:key(?: combination)?s?|shortcuts?|commands?|options?|settings?"
                      r"|functions?|buttons?|icons?|features?|tools?|dialog(?: box)?s?)\b")
# The number of a numbered step: 1. 选中…, 2. Click Apply.
_STEP_NUMBER = re.compile(r"^(\d{1,2})\.(?!\d)")
# A question asking how to do something (怎么把…, 如何设置, how do I…), not how something is.
ASKS_HOW = re.compile(r"(?<!是)(?:怎么|如何|怎样)(?!样|回事)|\bhow (?:do|can|should|to)\b", re.I)
# A sentence that speaks of what the one before it named: a demonstrative or pronoun
# anywhere (访问该控制台, 这个账户会被禁止, 要转置它, 在本例中), or a leading one in English.
_REFERS_BACK = re.compile(r"^.{0,6}?(?:(?<![应活])该|这|那|此(?!外)|它|其中|他们|她们|本例)|(?<![应活])该(?=[\u4e00-\u9fff])"
                          r"|^(?:It|Its|This|That|These|Those|They|Their|Then|To do (?:this|so))\b")
# A plural that points back at things just named (这些文件, 这两种, 上述, these).
_PLURAL_BACK = re.compile(r"这些|这两|这三|这几|上述|以上这|\b(?:these|those|the above)\b", re.I)
