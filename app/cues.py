"""Question-type cues: what kind of fact a question asks for, and whether a sentence has one.

哪一年 wants a year, 多少 a quantity, 谁 a person, 哪些 a list. A sentence that cannot
contain the asked-for kind of fact is a poor answer however similar it is, which is what
separates "黄仁勋出生于哪一年？" (no year near his name: abstain) from a real answer.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache


class Cue(str, Enum):
    """The kind of fact a question asks for."""

    YEAR = "year"
    TIME = "time"
    NUMBER = "number"
    PERSON = "person"
    LIST = "list"
    DEFINITION = "definition"


_ZH_CUES = [
    (Cue.YEAR, re.compile(r"哪一年|哪年|几几年|哪个年份|什么年份|何年")),
    (Cue.TIME, re.compile(r"什么时候|何时|哪一天|哪天|几月|什么时间|哪个月|什么日子")),
    (Cue.NUMBER, re.compile(r"多少|几[个倍次家款块座位种名成]|多大|多高|多长|比例|百分之几|几成|多久")),
    (Cue.PERSON, re.compile(r"谁|哪位|什么人|哪个人")),
    (Cue.LIST, re.compile(r"哪些|哪几|有什么|分别|哪两|哪三|哪四|列举")),
    (Cue.DEFINITION, re.compile(r"全称|全名|中文名|英文名|简称|缩写|代表什么|是什么的缩写")),
]
_EN_CUES = [
    (Cue.YEAR, re.compile(r"\b(which|what) year\b|\bin what year\b|\bwhen\b.*\b(founded|launched|released|born)\b", re.I)),
    (Cue.TIME, re.compile(r"\bwhen\b|\bwhat date\b|\bwhich (day|month)\b", re.I)),
    (Cue.NUMBER, re.compile(r"\bhow (many|much|often|long|big|large)\b|\bwhat (percentage|share|proportion|fraction)\b|\bby how much\b", re.I)),
    (Cue.PERSON, re.compile(r"\bwho\b|\bwhose\b|\bwhich person\b", re.I)),
    (Cue.LIST, re.compile(r"\bwhich (two|three|four|five)\b|\bwhat (two|three|four|five)\b|\blist\b|\bname (the|all)\b", re.I)),
    (Cue.DEFINITION, re.compile(r"\bstand for\b|\bfull name\b|\bchinese name\b|\babbreviation\b", re.I)),
]

_YEAR = re.compile(r"(?<![0-9A-Za-z])(1[89]\d\d|20\d\d)(?:年|s\b)|\d0年代")
_TIME = re.compile(r"(?<![0-9A-Za-z])(1[89]\d\d|20\d\d)年|\d{1,2}月|\d{1,2}日|年[初底中末]|年代|[春夏秋冬]天|周[一二三四五六日]")
_CN_NUM = "零一二两三四五六七八九十百千万亿半"
# A quantity: digits not part of a model name (H20, 910B) and not a calendar year, or a
# Chinese numeral with a measure word (两三倍, 四分之一, 十五年).
_NUMBER = re.compile(
    rf"(?<![A-Za-z0-9.\-])\d+(?:\.\d+)?(?![A-Za-z0-9]|年(?!代))|(?<![A-Za-z0-9])\d+(?=%|倍|万|亿|个|nm|纳米)"
    rf"|(?:[{_CN_NUM}]{{2,}}|[{_CN_NUM.replace('一', '')}])(?:分之|成|倍|个|次|家|款|块|座|年|月|亿|万|千|百|层|代|种|位|名|片|卡)|%"
)
_DEFINITION = re.compile(r"[A-Za-z0-9\u4e00-\u9fff][(（][^)）]{2,}[)）]")


def question_cues(question: str, language: str) -> set[Cue]:
    """The cues a question carries (possibly none)."""
    table = _ZH_CUES if language == "zh" else _EN_CUES
    cues = {cue for cue, rx in table if rx.search(question)}
    if language == "en" and Cue.YEAR in cues:
        cues.discard(Cue.TIME)
    return cues


@lru_cache(maxsize=65536)
def _has_person(sentence: str) -> bool:
    import jieba.posseg as pseg

    return any(flag == "nr" and len(word) >= 2 for word, flag in pseg.cut(sentence)) or bool(
        re.search(r"[A-Z][a-z]+ [A-Z][a-z]+|[\u4e00-\u9fff]{1,4}·[\u4e00-\u9fff]{1,5}", sentence)
    )


def sentence_has(cue: Cue, sentence: str) -> bool:
    """Whether a sentence can answer a question with this cue."""
    if cue is Cue.YEAR:
        return bool(_YEAR.search(sentence))
    if cue is Cue.TIME:
        return bool(_TIME.search(sentence))
    if cue is Cue.NUMBER:
        return bool(_NUMBER.search(sentence))
    if cue is Cue.PERSON:
        return _has_person(sentence)
    if cue is Cue.DEFINITION:
        return bool(_DEFINITION.search(sentence))
    if cue is Cue.LIST:
        # An enumeration: items separated by 、 or 和/与/及, or several commas.
        return bool(re.search(r"、|[和与及]|,.*,|，.*，|第[一二三]", sentence))
    return True
