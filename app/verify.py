"""Per-sentence citation verification for generated answers.

A model can write ``[1]`` after a claim that passage 1 never makes. After generation the
answer is split into sentences; each is scored against the sentences of the passages it
cites:

* semantic match: the best cosine between the claim and a cited sentence (the sentence
  vectors are in the index), measured against the claim's own background similarity to the
  corpus (as the answerer's confidence is, so one threshold holds across corpora);
* lexical match: the IDF-weighted share of the claim's corpus terms that the cited
  passages contain;
* facts the passages lack: each number (2022, 二十年), and each Latin name or code (H20,
  dpkg, 3.5), in the claim but not in the cited sentences counts heavily against it. A
  changed year is the most common hallucination that still reads fluently.

All three are measured per window of one or two adjacent cited sentences; the best window
decides.

A sentence without a marker is unsupported. The weights and threshold were calibrated on
hand-written supported / unsupported pairs (``eval/claims/``); ``python -m eval.verify``
reports precision and recall, leave-one-corpus-out.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np

from .text import content_terms, detect_language, fold

_MARKER = re.compile(r"\[(\d+)\]")
# A sentence ends at 。！？!? or a full stop followed by space/end, plus any markers and closing
# quotes right after it (……芯片。[1] keeps its [1]).
_SENTENCE = re.compile(r".+?(?:[。！？!?；;]+|\.(?=\s|\[|$)|$)[”」’\"')）]*(?:\s*\[\d+\])*", re.S)
_NUMBER = re.compile(r"(?<![a-z0-9.])\d+(?:\.\d+)*")  # not the 20 of h20
_LATIN_NAME = re.compile(r"[a-z][a-z0-9]*(?:[.\-_+][a-z0-9]+)*")


@dataclass
class AnswerSentence:
    """One sentence of a generated answer and whether its cited passages support it."""

    text: str
    #: The citation numbers ``[n]`` in the sentence, in order of appearance.
    markers: list[int] = field(default_factory=list)
    supported: bool = False
    #: The support score (see :class:`Verifier`); 0.0 for a sentence that cites nothing.
    support: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences with their markers; a marker-only fragment joins the previous
    sentence."""
    out: list[tuple[str, list[int]]] = []
    for m in _SENTENCE.finditer(text):
        piece = m.group(0).strip()
        if not piece:
            continue
        markers = [int(n) for n in _MARKER.findall(piece)]
        if out and not _MARKER.sub("", piece).strip(" 。.，,;；"):
            prev_text, prev_markers = out[-1]
            out[-1] = (f"{prev_text}{piece}", prev_markers + [n for n in markers if n not in prev_markers])
            continue
        out.append((piece, list(dict.fromkeys(markers))))
    return out


@dataclass
class VerifierWeights:
    """How the support score is composed (calibrated by ``python -m eval.verify``).

    For each window of one or two adjacent cited sentences,
    ``(best_cos - background) + lexical * coverage - missing_fact * facts_missing``;
    the claim's support is the best window's. Facts must be in the same window as the rest
    of the claim: a passage that names H800 in one sentence and A800 in another does not
    support "H800 was cut down" unless one window says so.
    """

    #: Coverage of the claim's terms by the window. The fit sets it to 0 for Chinese claims
    #: (similarity and the fact checks already carry it) and keeps it for English ones.
    lexical: float = 0.0
    lexical_en: float = 0.1
    missing_fact: float = 0.04
    #: Terms the corpus never uses (股价暴跌, 书面授权) are outside knowledge, not paraphrase.
    novel: float = 0.1
    threshold: float = 0.08


@dataclass
class Features:
    """The signals of one claim against one window of cited sentences."""

    cosine: float
    background: float
    coverage: float
    missing_facts: int
    #: IDF-weighted share of the claim's terms the corpus never uses (outside knowledge).
    novel: float = 0.0


# A Chinese numeral with a measure word (二十年, 五六倍, 十万片): a number as a changed-fact check
# sees it. A lone 一 (一个, 一种) is an article, not a fact.
_ZH_NUMBER = re.compile(r"([零〇一二两三四五六七八九十百千万亿]+)(?=[年月日天周倍个位家次种款台张片块元美人岁层成亿万%])")
# A name or code in English text: all capitals (CUDA, BIS), or with a digit (A100, 910B), or
# capitals inside (GeForce). Plain words (Commerce, the) are not facts.
_EN_NAME = re.compile(r"\b(?:[A-Z]{2,}[A-Za-z0-9]*|[A-Za-z]*\d[A-Za-z0-9.\-]*|[A-Za-z]*[a-z][A-Z][A-Za-z0-9]*)\b")


def claim_facts(claim: str, english: bool) -> set[str]:
    """The numbers and names in a claim, folded, that its cited text must contain."""
    raw = _MARKER.sub(" ", claim)
    text = fold(raw)
    facts = set(_NUMBER.findall(text))
    facts |= {m for m in _ZH_NUMBER.findall(text) if m not in ("一", "两")}
    if english:
        facts |= {fold(m).strip(".-") for m in _EN_NAME.findall(raw) if not m.isdigit()}
    else:
        facts |= {n for n in _LATIN_NAME.findall(text) if len(n) >= 2}
    return {f for f in facts if f}


class Verifier:
    """Scores answer sentences against the sentences of the passages they cite.

    ``embed`` turns claims into vectors comparable with the index's sentence vectors (the
    assistant passes one that takes its engine lock); ``sentences_of(passage)`` returns
    the vectors and texts of a passage's sentences; ``idf``/``known`` come from the lexical
    index; ``background(vector)`` from the sentence index.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray] | None,
                 sentences_of: Callable[[object], tuple[np.ndarray, list[str]]] | None,
                 idf: Callable[[str], float] | None, known: Callable[[str], bool] | None,
                 background: Callable[[np.ndarray], float | None] | None, weights: VerifierWeights | None = None,
                 in_corpus: Callable[[str], bool] | None = None):
        self.embed = embed
        self.in_corpus = in_corpus or known
        self.sentences_of = sentences_of
        self.idf = idf
        self.known = known
        self.background = background
        self.weights = weights or VerifierWeights()

    def windows(self, claim: str, vector: np.ndarray, passages: Sequence[object]) -> list[Features]:
        """The claim's features against every window of one or two adjacent cited
        sentences (a passage with no indexed sentences counts as one window)."""
        bg = self.background(vector)
        bg = 0.8 if bg is None else bg
        english = detect_language(claim) == "en"
        terms = content_terms(_MARKER.sub(" ", claim))
        if english:  # English words cannot occur in Chinese text; only corpus terms count
            terms = [t for t in terms if self.known(t)]
        weights = {t: self.idf(t) for t in terms}
        total = sum(weights.values())
        facts = claim_facts(claim, english)
        novel = sum(w for t, w in weights.items() if not self.in_corpus(t)) / total if total and not english else 0.0
        out: list[Features] = []
        for p in passages:
            vecs, texts = self.sentences_of(p)
            cos = (vecs @ vector).tolist() if len(texts) else []
            spans = [(i, i + 1) for i in range(len(texts))] + [(i, i + 2) for i in range(len(texts) - 1)]
            items = [(max(cos[a:b]), fold("".join(texts[a:b]))) for a, b in spans] or \
                [(0.0, fold(getattr(p, "text", "")))]
            for c, window in items:
                coverage = sum(w for t, w in weights.items() if t in window) / total if total else 0.0
                window_numbers = set(_NUMBER.findall(window))
                missing = sum(1 for f in facts if (f not in window_numbers if f[0].isdigit() else f not in window))
                out.append(Features(c, bg, coverage, missing, novel))
        return out

    def score(self, windows: Sequence[Features], english: bool) -> float:
        """The support score: the best window's."""
        w = self.weights
        lexical = w.lexical_en if english else w.lexical
        return max(((f.cosine - f.background) + lexical * f.coverage - w.missing_fact * f.missing_facts
                    - w.novel * f.novel for f in windows), default=-1.0)

    def verify(self, text: str, citations: Sequence[object]) -> list[AnswerSentence]:
        """Split ``text`` into sentences and check each against the citations it names
        (``citation.number`` is the marker)."""
        by_number = {getattr(c, "number", 0): c for c in citations}
        pieces = split_answer(text)
        claims = [(i, _MARKER.sub("", t).strip()) for i, (t, m) in enumerate(pieces) if m]
        vectors = self.embed([c for _, c in claims]) if claims else np.zeros((0, 0))
        out = [AnswerSentence(t, m) for t, m in pieces]
        for (i, claim), vector in zip(claims, vectors):
            cited = [by_number[n] for n in out[i].markers if n in by_number]
            if not cited or not claim:
                continue
            support = self.score(self.windows(claim, vector, cited), detect_language(claim) == "en")
            out[i].support = round(support, 4)
            out[i].supported = support >= self.weights.threshold
        return out


def index_verifier(embedder, sentences, lexical, lock=None, weights: VerifierWeights | None = None) -> Verifier:
    """A verifier over an assistant's indexes (:class:`app.answer.SentenceIndex`,
    :class:`app.retrieval.LexicalIndex`). ``lock`` guards the embedding engine, which is
    not thread-safe; only the embedding runs under it."""
    import contextlib

    guard = lock if lock is not None else contextlib.nullcontext()

    def embed(claims: list[str]) -> np.ndarray:
        # The query role, as for questions: held out, it separates supported from
        # unsupported claims better than the passage role (balanced accuracy 0.883 vs 0.817,
        # `python -m eval.verify --role passage`).
        with guard:
            return np.vstack([embedder.embed_query(c) for c in claims])

    def sentences_of(p) -> tuple[np.ndarray, list[str]]:
        idxs = sentences.within(p.source, p.char_start, p.char_end)
        return sentences.vectors[idxs], [sentences.records[i].text for i in idxs]

    return Verifier(embed, sentences_of, lexical.idf, lexical.known, sentences.background, weights,
                    in_corpus=lambda t: lexical.known(t) or lexical.in_text(t))
