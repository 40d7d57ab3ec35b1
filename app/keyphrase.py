"""The answer phrase inside a quoted sentence: the year, number, name or list the question
asks for, so a reader of a long quote sees the answer at a glance.

The phrase comes from the question's cue (:mod:`app.cues`): 哪一年 -> the year the sentence
states, 多少 -> its number, 谁 -> a person's name, 哪些 -> the run of enumerated items.
Values the question itself states are never the answer (奥特曼的7万亿美元计划实际筹到了多少
is not answered by 7万亿美元). Without a cue, the clause that carries the question's terms
plus the most new words is taken, or the clause after it when it ends on the question's words;
with no such clause, a name the sentence writes and the question does not.
"""

from __future__ import annotations

import re
from typing import Sequence

from .cues import (_CN_NUM, _DEFINITION, _MONEY, _NOT_A_NAME, _NUMBER, _TIME, _VERSION, _YEAR, Cue, asks_for_name, commands,
                   counted_in_words, mask_references, named_commands, question_cues)
from .text import content_terms, fold, has_words, is_cjk, normalize, simplified

# The phrase patterns are the cue patterns made to take the whole value: a full date
# (2022年10月7日, 2022年底, not 2022年), a whole fraction (四分之一), a model name with
# its letters (910B, not 昇腾910).
_DATE = re.compile(r"(?<![0-9A-Za-z])(?:1[89]\d\d|20\d\d) ?年(?: ?\d{1,2} ?月(?: ?\d{1,2} ?日)?|[初底中末])?"
                   r"|\d{1,2} ?月(?: ?\d{1,2} ?日)?")
_FRACTION = re.compile(rf"[{_CN_NUM}]+分之[{_CN_NUM}]+|百分之[{_CN_NUM}点]+|(?<![\d.])\d+(?:\.\d+)? ?%")
_MODEL_NAME = re.compile(r"(?<![A-Za-z0-9\-])(?=[A-Za-z0-9\-]*\d)(?=[A-Za-z0-9\-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9\-]*"
                         r"[A-Za-z0-9]|[\u4e00-\u9fff]{1,4}\d{2,4}(?![年月日\dA-Za-z])|“[^”]{2,8}”")
_ASKS_SHARE = re.compile(r"率|比例|百分|占比|份额|percent|rate|share|proportion", re.I)
# The unit after a count: 18个月, 5 天, 3 倍, 20 MB.
_UNIT = re.compile(r" ?(?:个月|个小时|小时|分钟|字符|[天年月日周个次种位名家台块张件本页层倍秒人]|[KMGT]i?B\b|%)")
# The magnitude written after digits (23 万, 1.5亿).
_MAGNITUDE = re.compile(r" ?[万亿](?![元美])")
# Characters a model-name match may pick up in front of the name (的含光800 -> 含光800).
_LEADING_FUNCTION = "的是其了和与及在为把被由从向对将"
# A key to press, a combination whole (Alt+F4, Ctrl + Shift + T, not Alt), or a key a Chinese
# text names (回车键, F2 键).
_KEY_NAME = (r"(?:Ctrl|Control|Shift|Alt|AltGr|Super|Meta|Cmd|Command|Esc|Escape|Tab|Enter|Return|Backspace|Delete|Del"
             r"|Insert|Home|End|PageUp|PageDown|Page Up|Page Down|Space|PrtSc|Print Screen|F\d{1,2})")
_KEY_PHRASE = re.compile(rf"(?<![A-Za-z0-9])(?:{_KEY_NAME}|[A-Z][A-Za-z]*)(?:\s?\+\s?(?:{_KEY_NAME}|[A-Za-z0-9↑↓←→;,.]))+"
                         rf"(?![A-Za-z0-9])|(?<![A-Za-z]){_KEY_NAME}(?![A-Za-z])(?:\s?键)?|回车键?|空格键|退格键?"
                         r"|(?<![A-Za-z0-9])[A-Za-z0-9]\s?键")
# Cues in the order their phrase is preferred (the most specific first).
_ORDER = [(Cue.VERSION, _VERSION), (Cue.MONEY, _MONEY), (Cue.YEAR, _YEAR), (Cue.TIME, _DATE), (Cue.TIME, _TIME),
          (Cue.NUMBER, _FRACTION), (Cue.NUMBER, _NUMBER), (Cue.KEY, _KEY_PHRASE), (Cue.MODEL, _MODEL_NAME),
          (Cue.DEFINITION, _DEFINITION)]
# A question that asks for the name of a thing (叫什么, 哪款芯片, which tool): the answer is
# the quoted, titled or Latin term nearest to the question's words.
_ASKS_NAME_ZH = re.compile(r"叫什么|叫做什么|什么名字|称为什么|称作什么|被称为|名为|比作什么|哪(?:款|个|种|部|家|项|份|条|一个|一款)"
                           r"|(?:有没有|有什么|用什么|用哪个)(?:工具|软件|程序|命令|软件包|包|选项|参数)"
                           r"|什么(?:工具|软件|命令|软件包|包|芯片|平台|架构|项目|机构|法案|协议|格式|变量|文件|目录|选项|名称|产品|游戏)")
_ASKS_NAME_EN = re.compile(r"\b(which|what)\b(?!\s+(year|date|time|month|day)\b)", re.I)
_NAME = re.compile(r"“[^”]{1,16}”|「[^」]{1,16}」|《[^》]{1,24}》|(?<![A-Za-z0-9_./\-])(?:--?)?[A-Za-z/.~][A-Za-z0-9_.+/~\-]*[A-Za-z0-9+]"
                   # A parameter with its value (firmware=never, lowmem=1).
                   r"(?:=[A-Za-z0-9_.+/~\-]*[A-Za-z0-9])?"
                   r"(?: (?:-{1,2}[A-Za-z][\w\-]*|[a-z][a-z0-9\-]+))?"
                   r"|(?:(?<![\u4e00-\u9fff])|(?<=[的是为叫]))[\u4e00-\u9fff]{2,3}\d{2,4}[A-Za-z]?(?![年月日\dA-Za-z])")
# Words that introduce a name (名为“JUPITER”, 叫做 sid): the name right after them is the one.
_NAMING = re.compile(r"(?:名为|叫做|称为|称作|叫|即|被称为)\s*$")
# An unquoted Chinese name after such a word (这个特性称作 鼠标键。): up to the clause's end.
_NAMED_TERM = re.compile(r"(?:名为|叫做|叫作|称为|称作)\s*([^\s，。；：、,.;:!?！？“”「」《》()（）]{2,8})(?=[\s，。；：、,.;:!?！？()（）]|$)")
# A run of capitalised words in English text (the Type Special Characters section, Mouse Keys):
# a label or a feature's name, taken whole.
_TITLE_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Z][a-z]+(?: [A-Z][A-Za-z]+)+(?![A-Za-z0-9])")
# What an English sentence starts with (a step's number, a bullet) before its first word.
_LEAD = re.compile(r"^[\s\d.)(*•\-–]*$")
# Items of an enumeration: short phrases joined by 、 (or a final 和/与/及).
_LIST = re.compile(r"[^，。、；：,;:\s“”]{1,24}(?:\s*[、]\s*[^，。、；：,;:\s“”]{1,24})+(?:\s*[和与及]\s*[^，。、；：,;:\s]{1,24})?")
# Short items after a colon, separated by commas (三种工作模式：设计，编辑，移动。), to the
# sentence's end: a list written without 、.
_COLON_LIST = re.compile(r"(?<=[：:])\s*[^，。、；：,;:\s]{1,10}(?:\s*[，,、]\s*[^，。、；：,;:\s]{1,10})+(?=\s*(?:[。；;.]|$))")
# Two items joined by 和/与/及 alone (半导体材料和精密设备, “算力”与“带宽”).
_PAIR = re.compile(r"[^，。、；：,;:\s]{1,12}\s*[和与及]\s*[^，。、；：,;:\s]{1,12}")
_CLAUSE = re.compile(r"[^，。；;：:,！？!?]+")
# 从AlphaGo到Transformer,再到引爆全球的ChatGPT: a run of items from the first to the last.
_FROM_TO = re.compile(r"从[^，。、；,;]{1,24}到[^，。、；,;]{1,24}(?:[，,]\s*(?:再到|直到|以及)[^，。、；,;]{1,24})+")
_WORD_CHARS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{2}")


# A line that is a command or a formula as a whole: after a shell prompt ($ apt clean,
# # cp debian.iso /dev/sdX), or a spreadsheet formula (=Sheet2.A1, 「=VLOOKUP(A1;D1:E100;2)」).
_PROMPT_LINE = re.compile(r"^\s*[$#]\s+([a-z][^\u4e00-\u9fff]*?)\s*$")
_FORMULA_LINE = re.compile(r"^\s*「?\s*(=[A-Za-z][^」\u4e00-\u9fff]*?)\s*」?\s*$")
# A question asking how to do something (not why: 为什么 asks for a reason).
_ASKS_HOW = re.compile(r"怎么|怎样|如何|\bhow\b", re.I)


def key_span(sentence: str, question: str, language: str, extra_terms: Sequence[str] = (),
             names: bool = True, clause: bool = True) -> tuple[int, int] | None:
    """(start, end) of the answer phrase in ``sentence``, or None when nothing stands out.

    ``names``: for a question asking what something is called, the quoted, titled or Latin
    term nearest the question's words; off, the clause that carries them (what a two-part
    question resolves its pronoun against: :meth:`app.Assistant._bind_parts`).
    ``clause``: fall back on the clause that carries the question's words when nothing the
    question asks for (a year, a list, a name…) is in the sentence; off, None then.
    """
    q = simplified(question)
    cues = question_cues(q, language)
    asked = normalize(q)
    text = sentence
    # The phrase search runs on the sentence as written; Traditional text is matched through
    # a 1:1 character view so offsets stay valid.
    view = simplified(text)
    if len(view) != len(text):
        view = text
    if Cue.NUMBER in cues and language == "zh":
        # 需要附几份副本: the count in words (组合作品只需包含本授权的一份副本), before any number.
        counted = [m for m in counted_in_words(view, q) if normalize(m.group()) not in asked]
        if counted:
            return counted[0].span()
    for cue, pattern in _ORDER:
        if cue not in cues or (pattern is _FRACTION and not _ASKS_SHARE.search(q) and "分之" not in view):
            continue
        found: list[tuple[int, int]] = []
        matches = list(pattern.finditer(mask_references(view) if pattern is _NUMBER else view))
        if pattern is _MODEL_NAME:
            # A name with digits (910B, 含光800) is a model; a quoted phrase (“特供版”) only
            # when the sentence has none: …推出了“特供版”A800和H800芯片 answers with A800.
            matches.sort(key=lambda m: m.group().startswith("“"))
        # A count's phrase is never a cross-reference (参阅第 3.4 节，至少需要 128MB 内存).
        for m in matches:
            start = m.start()
            if pattern is _MODEL_NAME:
                while start < m.end() - 1 and view[start] in _LEADING_FUNCTION:
                    start += 1
            end = m.end()
            if pattern is _NUMBER:
                magnitude = _MAGNITUDE.match(view, end)  # 23 万 (行): the number is 230,000
                end = magnitude.end() if magnitude else end
                unit = _UNIT.match(view, end)  # 18个月, 5 天: the count with what it counts
                end = unit.end() if unit else end
            value = normalize(view[start:end])
            if value and value not in asked:
                found.append((start, end))
                if len(found) == min(2, _times_asked(q, cue)):
                    break
        if found:
            # 错误率从多少降到了多少: both values, when they stand within one clause.
            a, b = found[0][0], found[-1][1]
            return (a, b) if _CLAUSE.fullmatch(view[a:b]) else found[0]
    if Cue.STEPS in cues:
        command = next((m for m in commands(view) if normalize(m.group()) not in asked), None)
        # Of several commands the prose names, the one among the question's words (lsusb 命令读取
        # USB 设备上的值，lspci -nn 命令用于 PCI 设备: lspci -nn, asked about PCI).
        named = [sp for sp in named_commands(view) if normalize(view[sp[0]:sp[1]]) not in asked]
        named = _name(view, q, asked, extra_terms, named) if named else None
        # Asked which command (用什么命令), the one the prose names (调用 dh_make 命令：) is the
        # answer; the command lines after it are the worked example (cd, wget, tar…).
        if named and asks_for_name(q, language):
            return named
        if command:
            return command.start(), command.end()
        if named:
            return named
    if Cue.STEPS in cues or _ASKS_HOW.search(q):
        # Asked how, a quoted line that is a command or a formula is what to type
        # ($ dquilt refresh after 使用以下命令…：), though no cue asked for a command.
        span = _code_line(view)
        if span:
            return span
    if Cue.PERSON in cues:
        span = _person(view, asked)
        if span:
            return span
    if Cue.LIST in cues or language != "zh" and _asks_plural(q):
        best = max((*_LIST.finditer(view), *_COLON_LIST.finditer(view)), key=lambda m: m.end() - m.start(),
                   default=None) or next(_FROM_TO.finditer(view), None)
        if best:
            lead = len(best.group()) - len(best.group().lstrip())
            return best.start() + lead, best.end()
        span = _parallel_clauses(view) or next(((m.start(), m.end()) for m in _PAIR.finditer(view)), None)
        if span:
            return span
    if names and (_ASKS_NAME_ZH if language == "zh" else _ASKS_NAME_EN).search(q):
        span = _name(view, q, asked, extra_terms)
        if span:
            return span
    if not clause:
        return None
    # With no clause to single out (one clause only, or none holding the question's words), a
    # name the sentence writes and the question does not stands out instead (这种情况请使用
    # apt-get。, 可以设置 firmware=never 引导参数来禁用, 负数的阶乘将返回「无效参数」错误信息。).
    return _clause(view, q, extra_terms) or (_name(view, q, asked, extra_terms) if names else None)


# "Which countries'…", "which South Korean companies": a plural noun after which/what asks
# for the items, however many (a phrase rule only: the answer is scored as before).
_PLURAL_ASKED = re.compile(r"\b(?:which|what)\s+(?:[A-Za-z\-]+\s+){0,2}?([A-Za-z]+(?:ies|[^su']s))(?:'|\b)", re.I)
_NOT_PLURAL = {"does", "was", "has", "this", "its", "his", "yes", "plus", "alias", "news", "series", "species",
               "is", "as", "us", "ones"}


# The kind of thing a question asks to have named (装哪个包, 用什么函数, which package), and
# the words a text writes next to such a name (build-essential 软件包, 命令 lvresize).
_KINDS_ZH = {"软件包": ("软件包", "包"), "包": ("软件包", "包"), "命令": ("命令", "指令"), "函数": ("函数",),
             "参数": ("参数", "引导参数"), "选项": ("选项",), "工具": ("工具",), "程序": ("程序",), "变量": ("变量",),
             "插件": ("插件",), "模块": ("模块",)}
_ASKED_KIND_ZH = re.compile(rf"(?:哪个|哪一个|哪款|哪种|哪些|什么)\s*({'|'.join(sorted(_KINDS_ZH, key=len, reverse=True))})")
_ASKED_KIND_EN = re.compile(r"\b(?:which|what)\s+(package|command|function|option|parameter|tool|program|variable"
                            r"|plugin|module)s?\b", re.I)


def kind_span(sentence: str, question: str, language: str) -> tuple[int, int] | None:
    """The name ``sentence`` writes beside the kind of thing the question asks for: asked
    装哪个包, build-essential in 您只需要安装 build-essential 软件包; asked 用什么命令, lvresize in
    使用命令 lvresize; asked which package, debmake in "the debmake package". None when the
    question asks for no such kind or the sentence names none the question does not."""
    q = simplified(question)
    m = (_ASKED_KIND_ZH if language == "zh" else _ASKED_KIND_EN).search(q)
    if not m:
        return None
    words = _KINDS_ZH[m.group(1)] if language == "zh" else (m.group(1).lower(),)
    low = fold(sentence)
    if len(low) != len(sentence):
        low = sentence.lower()
    asked = normalize(q)
    spans = _name_spans(sentence)
    if language != "zh":
        # English prose writes a package or command in plain lower case (the debmake package).
        kind = re.compile(rf"(?<![\w.+\-])([a-z][\w.+\-]*[a-z0-9]) {re.escape(words[0])}s?\b")
        spans += [mm.span(1) for mm in kind.finditer(sentence) if mm.group(1) not in _NOT_A_NAME]
    found = []
    for a, b in spans:
        after = low[b:b + 8].lstrip(" ”」’\"")
        before = low[max(0, a - 8):a].rstrip(" “「‘\"")
        # 包含/包括 (contains) is no 包 (package).
        if any(after.startswith(w) or before.endswith(w) for w in words) and not after.startswith(("包含", "包括")):
            found.append((a, b))
    # Of several (lsusb 命令…，lspci -nn 命令…), the one among the question's words.
    return _name(sentence, q, asked, (), found) if found else None


def _code_line(text: str) -> tuple[int, int] | None:
    """The command or formula a line consists of (:data:`_PROMPT_LINE`, :data:`_FORMULA_LINE`;
    or command lines making up most of a line without Chinese: apt-mark hold package_name),
    else None."""
    m = _PROMPT_LINE.match(text) or _FORMULA_LINE.match(text)
    if m:
        return m.span(1)
    found = commands(text)
    if found and not any(is_cjk(ch) for ch in text) and \
            sum(len(c.group()) for c in found) >= 0.6 * len(text.strip()):
        return found[0].start(), found[-1].end()
    return None


def _asks_plural(question: str) -> bool:
    """Whether an English question asks which things, in the plural (see :data:`_PLURAL_ASKED`)."""
    m = _PLURAL_ASKED.search(question)
    return bool(m) and m.group(1).lower() not in _NOT_PLURAL


def _name(text: str, question: str, asked: str, extra_terms: Sequence[str],
          candidates: Sequence[tuple[int, int]] | None = None) -> tuple[int, int] | None:
    """The quoted, titled or Latin term of ``text`` that the question does not name, nearest
    to where the text uses the question's words (腾讯自研的芯片叫“紫霄”,百度的叫“昆仑芯”:
    紫霄 for 腾讯自研的芯片叫什么); ``candidates``: choose among these spans instead."""
    low = fold(text)
    if len(low) != len(text):
        low = text.lower()  # offsets into ``low`` place names found in ``text`` (fold: … -> ...)
    terms = set(content_terms(question)) | {fold(t) for t in extra_terms}
    # One-character words (用, 的) stand next to anything; they place nothing.
    terms = {t for t in terms if len(t) >= 2 or not is_cjk(t)} or terms
    # Whole words only: search-mode tokens repeat a word's parts (奥特曼 -> 奥特, 特曼).
    terms = {t for t in terms if not any(t != u and t in u for u in terms)}
    spans = [sp for sp in (_name_spans(text) if candidates is None else candidates) if normalize(text[sp[0]:sp[1]])
             and not _states(question, asked, text[sp[0]:sp[1]])]
    # A name that writes the question's own words (Compose Key for "the Compose key", “精度”
    # for "precision") restates what is asked about; the others answer first.
    names = [sp for sp in spans if not _holds_term(low[sp[0]:sp[1]], terms)] or spans
    # X的Y names Y (阿里“平头哥”的含光800: the chip is 含光800; Chinese puts the modifier first).
    starts = {a for a, _ in names}
    names = [sp for sp in names if not (text[sp[1]:sp[1] + 1] == "的" and sp[1] + 1 in starts)] or names
    if not names:
        return None
    at = {t: [(i, i + len(t)) for i in _occurrences(low, t)] for t in terms}

    def rank(span: tuple[int, int]) -> tuple[int, float, int, int]:
        start, end = span
        named = 0 if _NAMING.search(text[max(0, start - 4): start]) else 1
        # Closeness to the question's words, each at its nearest use: a name sits among
        # them (英伟达的GeForce游戏显卡, 昇腾(Ascend)系列AI芯片).
        near = sum(1.0 / (1 + min(max(a - end, start - b, 0) for a, b in spans)) for spans in at.values() if spans)
        # On a tie, the name after them (百度自研的“昆仑芯”: Chinese puts the modifier first).
        after = 0 if any(b <= start for spans in at.values() for a, b in spans) else 1
        return named, -near, after, start

    # A name in brackets right after one of the question's words glosses that word
    # (山姆·奥特曼(Sam Altman)): the question names it already.
    glossed = [(i, text.find(")" if text[i] == "(" else "）", i)) for spans in at.values() for _, i in spans
               if i < len(text) and text[i] in "(（"]
    names = [sp for sp in names if not any(a < sp[0] and sp[1] <= b for a, b in glossed)] or names
    return min(((_trim(text, a, b), b) for a, b in names), key=rank)


def _states(question: str, asked: str, value: str) -> bool:
    """Whether the question itself writes ``value``: a Latin word as a whole word (What init
    system… does not write systemd), anything else anywhere in it."""
    if re.fullmatch(r"[A-Za-z0-9_.+/~\- ]+", value):
        return has_words(" ".join(fold(question).split()), " ".join(fold(value).split()))
    return normalize(value) in asked


def _holds_term(name: str, terms: set[str]) -> bool:
    """Whether a name (folded) contains one of the question's terms: a Latin term as a whole word."""
    return any(t in name if is_cjk(t[0]) else has_words(name, t) for t in terms)


def _name_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` writes something that looks like a name: a quoted or titled term, a
    Latin term, a Chinese name with digits, a term after 称作/名为, and in English prose a run
    of capitalised words.

    In Chinese text any Latin word stands out (默认使用 systemd); in English prose every word
    is Latin, so only a word written as a name counts: capitals inside it or all capitals
    (RGB, KiCad), digits or the marks of a path or option (dh_make, --purge, /etc), or a
    capital that does not start the sentence (the Classic theme). A plain word (uses,
    through) is no answer to "which"; with none left the caller falls back on the clause.
    """
    english = not any(is_cjk(ch) for ch in text)
    out: list[tuple[int, int]] = []
    runs = [(m.start(), m.end()) for m in _TITLE_RUN.finditer(text)] if english else []
    # A run that starts the sentence loses its first word (Click Compose Key: Compose Key).
    runs = [(a if not _LEAD.match(text[:a]) else text.index(" ", a) + 1, b) for a, b in runs]
    runs = [(a, b) for a, b in runs if " " in text[a:b]]
    for m in _NAME.finditer(text):
        a, b = m.start(), m.end()
        if any(ra <= a and b <= rb for ra, rb in runs):
            continue
        if english:
            word = text[a:b].split(" ")[0]
            if any(ch.isupper() for ch in word):
                b = a + len(word)  # LibreOffice uses -> LibreOffice (the trailing word is a command's)
            if not _written_as_name(word, _LEAD.match(text[:a]) is not None):
                continue
        out.append((_trim(text, a, b), b))
    out.extend(runs)
    out.extend(m.span(1) for m in _NAMED_TERM.finditer(text))
    return sorted(set(out))


def _written_as_name(word: str, starts_sentence: bool) -> bool:
    """Whether an English word is written as a name (see :func:`_name_spans`)."""
    core = word.lstrip("-")
    if word[0] in "“「《" or word != core or re.search(r"[0-9_./+~\-]", core):
        return True
    if len(core) >= 2 and core.isupper() or any(ch.isupper() for ch in core[1:]):
        return True
    return core[0].isupper() and not starts_sentence


def _trim(text: str, start: int, end: int) -> int:
    """``start`` moved past the function characters a name match may take in front of the
    name (的含光800 -> 含光800)."""
    while start < end - 1 and text[start] in _LEADING_FUNCTION:
        start += 1
    return start


_ASKS_COUNT = {Cue.NUMBER: re.compile(r"多少|几"), Cue.YEAR: re.compile(r"哪一?年"),
               Cue.MONEY: re.compile(r"多少")}


# A question about how much something changed asks for where it started and ended.
_ASKS_CHANGE = re.compile(r"\bby how much\b|\bfrom what\b.*\bto what\b", re.I)


def _times_asked(question: str, cue: Cue) -> int:
    """How many values of this kind the question asks for (从多少降到了多少: two)."""
    if cue is Cue.NUMBER and _ASKS_CHANGE.search(question):
        return 2
    pattern = _ASKS_COUNT.get(cue)
    return max(1, len(pattern.findall(question))) if pattern else 1


def _occurrences(text: str, term: str) -> list[int]:
    """Start offsets of ``term`` in ``text``."""
    out, i = [], text.find(term)
    while i >= 0 and term:
        out.append(i)
        i = text.find(term, i + 1)
    return out


def _person(text: str, asked: str) -> tuple[int, int] | None:
    import jieba.posseg as pseg

    pos = 0
    words = list(pseg.cut(text))
    for k, (word, flag) in enumerate(words):
        if flag == "nr" and len(word) >= 2 and normalize(word) not in asked:
            end = pos + len(word)
            # jieba sometimes cuts a name's last character off as a noun (马克 + 龙).
            if len(word) == 2 and k + 1 < len(words) and len(words[k + 1].word) == 1 \
                    and words[k + 1].flag in ("n", "ng", "nr") and "\u4e00" <= words[k + 1].word <= "\u9fff":
                end += 1
            return pos, end
        pos += len(word)
    m = re.search(r"[\u4e00-\u9fff]{1,4}·[\u4e00-\u9fff]{1,5}|[A-Z][a-z]+ [A-Z][a-z]+", text)
    return (m.start(), m.end()) if m and normalize(m.group()) not in asked else None


def _parallel_clauses(text: str) -> tuple[int, int] | None:
    """The run of three or more neighbouring clauses built alike (将二进制文件放入 /usr/local/bin/，
    库文件放入 /usr/local/lib/，配置文件放入 /usr/local/etc/): each shares a two-character word
    with the next, so they list items in one pattern (two may share one by chance)."""
    clauses = [m for m in _CLAUSE.finditer(text) if m.group().strip()]
    best: tuple[int, int] | None = None
    run = clauses[:1]
    for prev, cur in zip(clauses, clauses[1:]):
        shared = _bigrams(prev.group()) & _bigrams(cur.group())
        if shared and text[prev.end(): cur.start()].strip() in ("，", ",", "；", ";", "、"):
            run.append(cur)
        else:
            run = [cur]
        if len(run) >= 3 and (best is None or run[-1].end() - run[0].start() > best[1] - best[0]):
            lead = len(run[0].group()) - len(run[0].group().lstrip())
            best = (run[0].start() + lead, run[-1].end())
    return best


def _bigrams(text: str) -> set[str]:
    """Every two-character window of letters, digits or Chinese characters."""
    return {text[i:i + 2] for i in range(len(text) - 1) if _WORD_CHARS.match(text, i)}


def _clause(text: str, question: str, extra_terms: Sequence[str]) -> tuple[int, int] | None:
    """The clause holding question terms and the most words the question does not have; or,
    when that clause ends on the question's own words (如果「位数」为负数，则舍入到十位、百位…),
    the clause after it. A sentence states its topic first and what it says about the topic
    next, and the answer stands where the question's 什么/怎样 stands, after the words it
    shares with the text: when nothing follows them in their clause, it is the next one."""
    terms = set(content_terms(question)) | {fold(t) for t in extra_terms}
    clauses = list(_CLAUSE.finditer(text))
    if len(clauses) < 2:
        return None

    def counts(m: re.Match) -> tuple[int, int]:
        """(question terms the clause holds, characters of other words it has)."""
        low = fold(m.group())
        hits = [t for t in terms if t in low]
        return len(hits), len(normalize(m.group())) - sum(len(t) for t in hits)

    best, best_score = None, 0.0
    for m in clauses:
        hits, new = counts(m)
        score = (1 + hits) * max(0, new) if hits else 0
        if score > best_score:
            best, best_score = m, score
    if best is None:
        return None
    k = clauses.index(best)
    if k + 1 < len(clauses):
        low = fold(best.group())
        last = max(low.rfind(t) + len(t) for t in terms if t in low)
        nxt_hits, nxt_new = counts(clauses[k + 1])
        # Nothing after the clause's last question word (offsets in the folded text, where
        # they were found), and the next clause has words of its own and fewer of the question's.
        if len(normalize(low[last:])) < 2 and nxt_new >= 2 and nxt_hits < counts(best)[0]:
            best = clauses[k + 1]
    lead = len(best.group()) - len(best.group().lstrip())
    return best.start() + lead, best.end()
