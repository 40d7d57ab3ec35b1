"""The answer phrase inside a quoted sentence: the year, number, name or list the question
asks for, so a reader of a long quote sees the answer at a glance.

The phrase comes from the question's cue (:mod:`app.cues`): 哪一年 -> the year the sentence
states, 多少 -> its number, 谁 -> a person's name, 哪些 -> the run of enumerated items.
Values the question itself states are never the answer (奥特曼的7万亿美元计划实际筹到了多少
is not answered by 7万亿美元). Without a cue, the clause that carries the question's terms
plus the most new words is taken.
"""

from __future__ import annotations

import re
from typing import Sequence

from .cues import _DEFINITION, _MODEL, _MONEY, _NUMBER, _TIME, _YEAR, Cue, question_cues
from .text import content_terms, fold, normalize, simplified

# Cues in the order their phrase is preferred (the most specific first).
_ORDER = [(Cue.MONEY, _MONEY), (Cue.YEAR, _YEAR), (Cue.TIME, _TIME), (Cue.NUMBER, _NUMBER),
          (Cue.MODEL, _MODEL), (Cue.DEFINITION, _DEFINITION)]
# Items of an enumeration: short phrases joined by 、 (or a final 和/与/及).
_LIST = re.compile(r"[^，。、；：,;:\s“”]{1,24}(?:\s*[、]\s*[^，。、；：,;:\s“”]{1,24})+(?:[和与及及以][^，。、；：,;:\s]{1,24})?")
_CLAUSE = re.compile(r"[^，。；;：:,！？!?]+")


def key_span(sentence: str, question: str, language: str, extra_terms: Sequence[str] = ()) -> tuple[int, int] | None:
    """(start, end) of the answer phrase in ``sentence``, or None when nothing stands out."""
    q = simplified(question)
    cues = question_cues(q, language)
    asked = normalize(q)
    text = sentence
    # The phrase search runs on the sentence as written; Traditional text is matched through
    # a 1:1 character view so offsets stay valid.
    view = simplified(text)
    if len(view) != len(text):
        view = text
    for cue, pattern in _ORDER:
        if cue not in cues:
            continue
        for m in pattern.finditer(view):
            value = normalize(m.group())
            if value and value not in asked:
                return m.start(), m.end()
    if Cue.PERSON in cues:
        span = _person(view, asked)
        if span:
            return span
    if Cue.LIST in cues:
        best = max(_LIST.finditer(view), key=lambda m: m.end() - m.start(), default=None)
        if best:
            return best.start(), best.end()
    return _clause(view, q, extra_terms)


def _person(text: str, asked: str) -> tuple[int, int] | None:
    import jieba.posseg as pseg

    pos = 0
    for word, flag in pseg.cut(text):
        if flag == "nr" and len(word) >= 2 and normalize(word) not in asked:
            return pos, pos + len(word)
        pos += len(word)
    m = re.search(r"[\u4e00-\u9fff]{1,4}·[\u4e00-\u9fff]{1,5}|[A-Z][a-z]+ [A-Z][a-z]+", text)
    return (m.start(), m.end()) if m and normalize(m.group()) not in asked else None


def _clause(text: str, question: str, extra_terms: Sequence[str]) -> tuple[int, int] | None:
    """The clause holding question terms and the most words the question does not have."""
    terms = set(content_terms(question)) | {fold(t) for t in extra_terms}
    clauses = list(_CLAUSE.finditer(text))
    if len(clauses) < 2:
        return None
    best, best_score = None, 0.0
    for m in clauses:
        low = fold(m.group())
        hits = sum(1 for t in terms if t in low)
        new = len(normalize(m.group())) - sum(len(t) for t in terms if t in low)
        score = (1 + hits) * max(0, new) if hits else 0
        if score > best_score:
            best, best_score = m, score
    if best is None:
        return None
    lead = len(best.group()) - len(best.group().lstrip())
    return best.start() + lead, best.end()
