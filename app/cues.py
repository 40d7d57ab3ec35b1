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
    MONEY = "money"
    MODEL = "model"
    STEPS = "steps"
    #: A limit (最多能带多少个参数, at most how many): the sentence states a bound.
    LIMIT = "limit"
    #: A release or version (从哪个版本开始, which release).
    VERSION = "version"
    #: A quantity in the unit the question names (每隔几分钟, 多少毫米, how many minutes).
    UNIT = "unit"
    #: A key or key combination to press (按什么键, 快捷键是什么, which keyboard shortcut).
    KEY = "key"
    #: The menu a command is in (在哪个菜单下, which menu): the answer writes a menu path.
    MENU = "menu"
    #: A thing named by its kind (哪个变量, 哪些协议, which option): the answer writes a name.
    NAME = "name"


# What makes 几 no question of how many (哪几条 which, 好几条 several, 这几条 these, 前几年 the first few).
_NOT_HOW_MANY = "哪好这那前头初近"
# Measure words counted in Chinese numerals by the answer (几份 -> 一份; not 个: 一个 is "a").
_MEASURE_WORDS = "份条项张台步页行列层级遍段句组"
# Adjectives of a 谁A谁B comparison (谁新谁旧: which is newer).
_COMPARED = "新旧大小高低快慢先后早晚长短强弱好坏优劣多少轻重远近"
_ZH_CUES = [
    (Cue.YEAR, re.compile(r"哪一年|哪年|几几年|哪个年份|什么年份|何年")),
    (Cue.TIME, re.compile(r"什么时候|何时|哪一天|哪天|几月|什么时间|哪个月|什么日子")),
    # 哪几个/哪几种 asks which ones (a list), not how many; 好几条 is "several", 这几条 "these".
    # 几年/几天 ask how long, except after a word that makes them "a few" (最初几年, 近几天).
    (Cue.NUMBER, re.compile(rf"多少|(?<![{_NOT_HOW_MANY}])几[个倍次家款块座位种名成{_MEASURE_WORDS}]|多大|多高|多长|比例|百分之几|(?<!哪)几成|多久"
                            r"|(?<![哪近这那前头初去后来])几(?:年|天|周|个月|个?小时|分钟|秒钟?|毫秒|岁)(?![前后来])"
                            # Which port / which number: the answer is a number as much as for 多少.
                            r"|(?:哪个|什么|哪些|哪一个)(?:端口号?|编号|号码|数值|默认值)")),
    # 谁新谁旧 / 谁大谁小 compares two things; it asks for no person (谁和谁 does).
    (Cue.PERSON, re.compile(rf"(?<!谁[{_COMPARED}])谁(?![{_COMPARED}]谁)|哪位|什么人|哪个人")),
    (Cue.LIST, re.compile(r"哪些|哪几|有什么|分别|哪两|哪三|哪四|列举")),
    (Cue.DEFINITION, re.compile(r"全称|全名|中文名|英文名|简称|缩写|代表什么|是什么的缩写")),
    (Cue.MODEL, re.compile(r"(哪款|哪一款|什么|哪个|哪种)(型号|芯片|显卡|GPU|产品)|型号")),
    (Cue.MONEY, re.compile(r"多少钱|多少[万亿]*(美元|欧元|元|人民币|日元)|(售价|价格|营收|收入|利润|融资|市值|估值|耗资|花费|补贴)[^，。？?]{0,6}(多少|几)")),
    # Which release (从哪个版本开始); not 版本号 (the numbering itself), 版式, 版权.
    (Cue.VERSION, re.compile(r"(?:哪个|哪一个|哪一|什么)(?:版本(?!号)|发行版)")),
    # Which key to press: the answer names a key (Ctrl+N, Shift, 回车键).
    (Cue.KEY, re.compile(r"(?:按|用|敲)(?:下|住)?(?:什么|哪个|哪些|哪|啥)(?:个)?(?:键|按键|快捷键|组合键|热键)"
                         r"|(?:哪个|哪几个|哪些|什么)(?:键|按键)(?!盘)"
                         r"|(?:什么|哪个|哪些|啥)(?:快捷键|组合键|热键)|(?:快捷键|组合键|热键)是(?:什么|哪个|多少)")),
    # How to do something on the system: the answer is an instruction or a command.
    # Not 是怎么排序的 (how it is done, explained): 怎么 + an action the user takes.
    (Cue.STEPS, re.compile(r"(?<!是)(怎么|如何|怎样)(?:才能|来|去)?(?:查看|显示|设置|安装|配置|修改|删除|卸载|升级|编译|启动|停止"
                           r"|禁用|启用|创建|添加|替换|打包|构建|打开|关闭|连接|插入|移动|保存|导出|导入|隐藏|切换|更改|调整"
                           r"|编辑|输入|打印|复制|重命名|恢复|还原|撤销|加密|锁定|解锁|确认|检查|查找|挂载|格式化"
                           r"|引导|登录|重启|下载|写入|刻录|备份|运行|执行|退出|修复"
                           r"|新建|新增|定义|命名|合并|拆分|排序|筛选|冻结|对齐|旋转|填充|清除)(?!的|不[了能到上动])"
                           r"(?![^，,。？?]{0,4}(?:市场|局面|经济|政策|关系|大门|僵局))"
                           r"|该怎么做|(?:用|执行|运行|输入)(?:什么|哪个|哪条)命令")),
    (Cue.MENU, re.compile(r"(?:哪个|哪一个|什么|哪)(?:个)?菜单")),
]
_EN_CUES = [
    (Cue.YEAR, re.compile(r"\b(which|what) year\b|\bin what year\b|\bwhen\b.*\b(founded|launched|released|born)\b", re.I)),
    # "when" asks for a time only as a question word (When did…), not as a conjunction
    # (When one source package builds several…, which directory…).
    (Cue.TIME, re.compile(r"\bwhen (did|does|do|is|was|were|will|would|can|could|has|have|had|are|should)\b"
                          r"|\bwhat date\b|\bwhich (day|month)\b", re.I)),
    (Cue.NUMBER, re.compile(r"\bhow (many|much|often|long|big|large)\b|\bwhat (percentage|share|proportion|fraction)\b|\bby how much\b", re.I)),
    (Cue.PERSON, re.compile(r"\bwho\b|\bwhose\b|\bwhich person\b", re.I)),
    (Cue.LIST, re.compile(r"\bwhich (two|three|four|five)\b|\bwhat (two|three|four|five)\b|\blist\b|\bname (the|all)\b", re.I)),
    (Cue.DEFINITION, re.compile(r"\bstand for\b|\bfull name\b|\bchinese name\b|\babbreviation\b", re.I)),
    (Cue.MODEL, re.compile(r"\b(which|what)\b[\w\s-]{0,30}\b(chip|chips|gpu|gpus|card|model number|processor)\b", re.I)),
    (Cue.MONEY, re.compile(r"\bhow much (money|did .* cost|does .* cost)\b|\b(price|revenue|profit|valuation|cost)\b", re.I)),
    (Cue.VERSION, re.compile(r"\b(?:which|what) (?:version|release)\b(?! number| scheme| format)|\bsince (?:which|what) (?:version|release)\b", re.I)),
    (Cue.STEPS, re.compile(r"\bhow (do|can|should) (i|you|one|we)\b|\b(what|which) command\b", re.I)),
    # A key to press, not a signing key ("which key is used to sign", "what key does apt use").
    (Cue.KEY, re.compile(r"\b(?:which|what) (?:keyboard )?(?:shortcuts?|hotkeys?|key combinations?|key sequences?"
                         r"|keystrokes?)\b|\b(?:which|what) keys? (?:do|should|can|must) (?:i|you|we|one) (?:press|hit|type)\b"
                         r"|\bpress (?:which|what) keys?\b|\bwhich keys?\s*\?", re.I)),
    (Cue.MENU, re.compile(r"\b(?:which|what) menu\b|\bwhere in the menus?\b", re.I)),
]

# Digits may stand apart from their unit: many Chinese documents space Latin and digits off
# from Chinese text (1993 年, 5 天).
_YEAR = re.compile(r"(?<![0-9A-Za-z])(1[89]\d\d|20\d\d)(?: ?年|s\b)|\d0 ?年代")
_TIME = re.compile(r"(?<![0-9A-Za-z])(1[89]\d\d|20\d\d) ?年|\d{1,2} ?月|\d{1,2} ?日|年[初底中末]|年代|[春夏秋冬]天|周[一二三四五六日]")
_CN_NUM = "零一二两三四五六七八九十百千万亿半"
# A quantity: digits not part of a model name (H20, 910B) and not a calendar year, or a
# Chinese numeral with a measure word (两三倍, 四分之一, 十五年).
_NUMBER = re.compile(
    # (not the 0 of 0.005mm: a decimal is matched whole or not at all)
    rf"(?<![A-Za-z0-9.\-])\d+(?:\.\d+)?(?![A-Za-z0-9]|\.\d| ?年(?!代))|(?<![A-Za-z0-9])\d+(?=%|倍|万|亿|个|nm|纳米)"
    # a size, rate or length in a Latin unit (810MB, 1 GiB, 2.4GHz, 500 ms, 96 dpi, 0.2 mm)
    rf"|(?<![A-Za-z0-9.\-])\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|kB|[kKMG]?Hz|ms|px|dpi|fps|rpm|bps|[kKMG]bps|mm|cm|km|µm|mils?|pt)(?![A-Za-z])"
    rf"|(?:[{_CN_NUM}]{{2,}}|[{_CN_NUM.replace('一', '')}])(?:分之|成|倍|个|次|家|款|块|座|年|月|亿|万|千|百|层|代|种|位|名|片|卡)|%"
)
_MONEY = re.compile(r"\d[\d.,]*\s*[万亿]*\s*(美元|欧元|元|人民币|日元|美金)|[一二两三四五六七八九十百千万亿]+[万亿]*(美元|欧元|元)")
# A product/model name: Latin letters with digits (H20, A800, 910B) or a quoted coinage.
_MODEL = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{2,}|[\u4e00-\u9fff]{1,4}\d{2,4}(?![年月日\d])|“[^”]{2,8}”")
# A version: a name with its number (Debian 4.0, Python 3, KiCad 6), a dotted number (7.4.7)
# or a numbered edition (第 5 版, 版本 2).
_VERSION = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z+\-]+\s?\d+(?:\.\d+)*(?![\d.])|(?<![\d.])\d+\.\d+(?:\.\d+)*"
                      r"|\d+\s?版|版本\s?\d")
# A gloss in brackets (昇腾(Ascend), GTK (全称是 GIMP Toolkit); spaced off only before Chinese or
# a capital: not "the command (as root)").
_DEFINITION = re.compile(r"[A-Za-z0-9\u4e00-\u9fff](?:[(（]| [(（](?=[\u4e00-\u9fffA-Z]))[^)）]{2,}[)）]")
# What a sentence says a name stands for without brackets (meets the cue; the phrase is the gloss).
_DEFINED_AS = re.compile(r"全称|全名|缩写|简称|\bstands for\b|\bshort for\b")


def question_cues(question: str, language: str) -> set[Cue]:
    """The cues a question carries (possibly none)."""
    table = _ZH_CUES if language == "zh" else _EN_CUES
    cues = {cue for cue, rx in table if rx.search(question)}
    if language == "en" and Cue.YEAR in cues:
        cues.discard(Cue.TIME)
    if (Cue.NUMBER in cues or language != "zh" and _ASKS_BOUND_EN.search(question)) and _asks_limit(question, language):
        cues.add(Cue.LIMIT)
    if Cue.NUMBER in cues and asked_unit(question, language) is not None:  # not 最初几年, 几月几日
        cues.add(Cue.UNIT)
    # A command, key, menu, number or year asked for has its own cue, which says more.
    if _ASKS_NAME_KIND["zh" if language == "zh" else "en"].search(question) \
            and not cues & {Cue.STEPS, Cue.KEY, Cue.MENU, Cue.NUMBER, Cue.YEAR}:
        cues.add(Cue.NAME)
    return cues


# --- a bound asked for ------------------------------------------------------------------
# 最多能带多少个参数 asks for a limit: a sentence on the feature that states none (由于使用了
# 迭代方式，IRR 可能失败) does not answer it, whatever numbers it holds. The limit word must
# stand in the asking clause (…最小间距是 0.2 mm，最终按多大间距算？ asks for no bound).
_LIMIT_ASKED = {"zh": re.compile(r"(?:最多|最大|上限|最少|最小|下限|至少|至多|最长|最短|最高|最低)[^，。；,;]*?(?:多少|几|多大|多长|多久|多高)"
                                 r"|(?:多少|几)[^，。；,;？?]*?(?:最多|最大|上限|为止)"),
                "en": re.compile(r"\b(?:maximum|minimum|at most|at least|largest|smallest|longest|shortest|highest|lowest"
                                 r"|up to how)\b", re.I)}
# "What is the maximum number of…" asks a quantity without "how many".
_ASKS_BOUND_EN = re.compile(r"\b(?:maximum|minimum|largest|smallest|longest|shortest)\s+(?:number|size|length|value|count)\b",
                            re.I)
_LIMIT = re.compile(r"最多|最大(?!化)|上限|最少|最小(?!化)|下限|至少|至多|最长|最短|最高|最低|不超过|不能超过|不得超过|不多于"
                    r"|不少于|不低于|多达|高达|\d\s*[^\s，。；,;]{0,4}[以之][内下上]"
                    # 三个或更多 / 两个及以上 / five or more: a bound written after the number.
                    r"|[或及](?:更多|更少|更高|更低|更长|更短|以上|以下)|\bor (?:more|fewer|less|higher|lower|longer)\b"
                    r"|\bmaximum\b|\bminimum\b|\bmax\b|\bmin\b|\bup to (?:\d|[a-z]+ \d)|\bat most\b|\bat least\b"
                    r"|\blimit(?:s|ed)?\b", re.I)


def _asks_limit(question: str, language: str) -> bool:
    """Whether the question asks for a bound (最多能带多少个, at most how many)."""
    if language == "zh":
        return any(_LIMIT_ASKED["zh"].search(clause) for clause in _CLAUSE_SPLIT.split(question))
    return bool(_LIMIT_ASKED["en"].search(question))


# Where a question's clauses end (the asking clause of a bound, the clause of a choice).
_CLAUSE_SPLIT = re.compile(r"[，。；！？,;!?]")


# --- the unit a quantity is asked in ----------------------------------------------------
# Units of one family answer each other (多少天 is answered by 两周, how many minutes by 10
# 分钟). A question that names its unit is not answered by a number in none: 每隔几分钟 by
# "设置为 0 将禁用此功能". Counters (几家, 几种, 几位) are not units: a list answers them.
_UNIT_FAMILIES = (
    "秒 秒钟 分钟 小时 钟头 天 日 周 星期 个月 月 年 毫秒 微秒 纳秒 工作日 每天 每日 每周 每月 每年 每晚 每小时 "
    "ms sec secs second seconds min mins minute minutes hour hours day days week weeks month months year years "
    "daily weekly monthly yearly annually hourly nightly",
    "毫米 厘米 分米 米 千米 公里 英寸 英尺 微米 纳米 密耳 mil mils mm cm km nm um μm inch inches foot feet meter "
    "meters metre metres millimeter millimeters millimetre millimetres",
    "字节 千字节 兆字节 比特 byte bytes bit bits kb mb gb tb kib mib gib tib",
    "赫兹 千赫 兆赫 hz khz mhz ghz",
    "像素 ppi dpi pixel pixels px",
    "伏 伏特 毫伏 安培 毫安 瓦 瓦特 欧姆 mv ma mw ohm ohms volt volts amp amps watt watts",
    "克 千克 公斤 吨 kg mg gram grams kilogram kilograms",
    "字符 character characters char chars",
    "倍",  # not "times": "how many times" counts, it does not multiply
    "层 layer layers",
)
# How long / how often ask for a time whatever word follows.
_ASKS_DURATION = {"zh": re.compile(r"多久|多长时间|多少时间|多长的时间"),
                  "en": re.compile(r"\bhow often\b|\bhow long (?:does|did|do|will|would|should|can|could)\b"
                                   r"[^?]*\b(?:take|last|wait|run|keep|stay)\b", re.I)}


@lru_cache(maxsize=1)
def _unit_tables() -> tuple[dict[str, int], re.Pattern, re.Pattern]:
    from .text import simplified

    family_of: dict[str, int] = {}
    for k, family in enumerate(_UNIT_FAMILIES):
        for word in family.split():
            family_of[word] = k
            family_of[simplified(word)] = k  # questions and sentences are matched folded
    words = sorted(family_of, key=len, reverse=True)
    alternation = "|".join(re.escape(w) for w in words)
    zh = re.compile(rf"(?:几|多少)\s*个?\s*({alternation})(?![A-Za-z])", re.I)
    en = re.compile(rf"\bhow (?:many|much)\s+({alternation})\b", re.I)
    return family_of, zh, en


@lru_cache(maxsize=4096)
def asked_unit(question: str, language: str) -> int | None:
    """The unit family (an index into the unit table) a question asks its quantity in, or
    None: 每隔几分钟 → time, 多少 PPI → resolution, how many minutes → time."""
    family_of, zh, en = _unit_tables()
    for m in (zh if language == "zh" else en).finditer(question):
        unit = m.group(1)
        # A one-character unit must end a word (几年, 多少层): 多少日志, 多少周期, 几个层级 name no unit.
        if language == "zh" and (len(unit) == 1 or unit == "字符") and m.end(1) not in _word_ends(question):
            continue
        return family_of.get(unit.lower(), family_of.get(unit))
    return 0 if _ASKS_DURATION["zh" if language == "zh" else "en"].search(question) else None


@lru_cache(maxsize=4096)
def _word_ends(question: str) -> set[int]:
    """Where the jieba words of ``question`` end."""
    import jieba

    return {end for _, _, end in jieba.tokenize(question)}


def states_unit(family: int, sentence: str) -> bool:
    """Whether ``sentence`` states a quantity in a unit of ``family``: a word of two or more
    characters anywhere (分钟, 毫米, pixels), a one-character word after a numeral, perhaps
    with one word character between (5 天, 两三倍, 32 个铜层: 天 alone is also part of 今天), a
    Latin abbreviation right after a digit (10 ms). A calendar year (© 2021 年) is a date,
    not a length of time."""
    return any(not _CALENDAR_YEAR.fullmatch(m.group()) for m in _unit_pattern(family).finditer(sentence))


_CALENDAR_YEAR = re.compile(r"(?:1[89]|20)\d\d\s*年")


@lru_cache(maxsize=None)
def _unit_pattern(family: int) -> re.Pattern:
    words = sorted({w for w, k in _unit_tables()[0].items() if k == family}, key=len, reverse=True)
    alt = lambda ws: "|".join(re.escape(w) for w in ws) or "(?!)"  # noqa: E731
    long_latin = [w for w in words if w.isascii() and len(w) >= 4]
    short_latin = [w for w in words if w.isascii() and len(w) < 4]
    cjk_words = [w for w in words if not w.isascii() and len(w) >= 2]
    cjk_chars = [w for w in words if not w.isascii() and len(w) == 1]
    return re.compile(rf"(?<![A-Za-z])(?:{alt(long_latin)})(?![A-Za-z])|\d\s*(?:{alt(short_latin)})(?![A-Za-z])"
                      rf"|{alt(cjk_words)}|[\d{_CN_NUM}几数多]+\s*个?\s*[\u4e00-\u9fff]?(?:{alt(cjk_chars)})", re.I)


# --- a question asking what something is called ----------------------------------------
# 用哪个函数 / which command: the answer is a name. Reference manuals name the function or
# command in the heading and describe it below (PMT / 返回利率固定情况下年金的定期支付金额。).
_ASKS_NAME = {
    "zh": re.compile(r"(?:哪个|哪一个|什么|哪种|哪条|哪些|啥)\s*(?P<kind>函数|命令|工具|程序|选项|参数|软件包|宏|指令|公式|方法名|接口)"
                     r"|叫什么|名称是什么|什么名字|名字是什么"),
    "en": re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(?:functions?|commands?|tools?|programs?|options?|packages?"
                     r"|macros?|formulas?)\b|\bwhat is (?:it|this|that) called\b|\bname of the\b", re.I),
}
# 由 main.cf 里的哪个变量决定 / 可以使用哪些协议 / which option: the kind of thing whose
# name is the answer (Cue.NAME). A sentence about the topic that names nothing (安装过程中可以
# 使用网络来获取安装所需要的文件) does not answer it, however similar it is. Unlike
# :data:`_ASKS_NAME`, not 叫什么: what a thing is called may be a Chinese word (鼠标键).
_ASKS_NAME_KIND = {
    "zh": re.compile(r"(?:哪个|哪一个|什么|哪种|哪条|哪些|啥)\s*(?:函数|命令|工具|程序|选项|参数|软件包|宏|指令|变量|协议|字段|文件名|扩展名|包(?![含括]))"),
    "en": re.compile(r"\b(?:which|what)\s+(?:functions?|commands?|tools?|programs?|options?|packages?|macros?|variables?"
                     r"|protocols?|fields?|parameters?)\b", re.I),
}
# A name a help page writes in brackets (選擇 [檢視] - [頁首與頁尾]) or title marks.
_BRACKETED = re.compile(r"\[[^\]]{1,30}\]|『[^』]{1,20}』|《[^》]{1,30}》")
# A name in a sentence or heading: an identifier in capitals (PMT, IPC-2221), one with a
# digit or mark (saslpasswd2, x-window-manager, get_value), a lower-case word (dpkg) or a
# quoted term; not a capitalised English gloss (未来值 (Future Value)).
_NAME_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z][A-Z0-9_.\-]*[A-Z0-9]|[A-Za-z]+[0-9_.\-][A-Za-z0-9_.\-]*[A-Za-z0-9]"
                         r"|[a-z][a-z0-9]+)(?![A-Za-z0-9])|「[^」]{1,20}」|“[^”]{1,20}”")


def asks_for_name(question: str, language: str) -> bool:
    """Whether a question asks what a function, command, tool or option is called."""
    return bool(_ASKS_NAME["zh" if language == "zh" else "en"].search(question))


def name_kind(question: str) -> str | None:
    """The kind of thing a Chinese question asks the name of (函数 in 用哪个函数), or None:
    a sentence that writes a name answers it without calling it a 函数."""
    m = _ASKS_NAME["zh"].search(question)
    return m.group("kind") if m else None


def has_name(text: str, besides: str = "") -> bool:
    """Whether ``text`` writes a name (:data:`_NAME_TOKEN`) that ``besides`` (the question)
    does not: a name the question states is not the one it asks for."""
    low = besides.lower()
    return any(m.group().lower() not in low for m in _NAME_TOKEN.finditer(text)) if low else \
        bool(_NAME_TOKEN.search(text))


# --- a choice between two things ------------------------------------------------------------
# 保留前导零还是保留后导零？ / an animation or a video?: the answer names one of them. A sentence
# on the topic that names neither does not choose (零的格式控制数字的格式) however similar it is.
_CHOICE = {"zh": re.compile(r"(?<![我你他她它们都也还但可却仍])还是"),
           "en": re.compile(r"(?<!and/)\bor\b(?!/)(?! (?:more|less|fewer|later|earlier|higher|lower|newer|older|above"
                            r"|below|greater|so|not)\b)", re.I)}
# 无论A还是B / whether A or B: both, not a choice.
_CHOICE_BOTH = {"zh": re.compile(r"无论|不管|不论"), "en": re.compile(r"\b(?:either|whether)\b", re.I)}
_CHOICE_NOT = {"zh": re.compile(r"什么|哪|怎么|如何|多少|几|谁|为什么"),
               "en": re.compile(r"^\s*(?:not|no|so|otherwise|else)\b|\b(?:what|which|how|who|why|where|when)\b", re.I)}


@lru_cache(maxsize=4096)
def alternatives(question: str, language: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The two sides of a choice question (A还是B？, A or B?) as the terms that tell them
    apart, or None when it asks no choice (我还是想…, or not, …还是用什么？)."""
    import jieba

    from .text import content_terms, is_cjk

    lang = "zh" if language == "zh" else "en"
    start = 0
    for end in [m.start() for m in _CLAUSE_SPLIT.finditer(question)] + [len(question)]:
        clause, start = question[start:end], end + 1
        if end < len(question) and question[end] not in "？?":
            continue
        m = _CHOICE[lang].search(clause)
        if not m or _CHOICE_BOTH[lang].search(clause[:m.start()]):
            continue
        right = re.sub(r"[呢吗啊呀吧的\s]+$", "", clause[m.end():]).strip()
        left = clause[:m.start()].rstrip()
        if not right or not left or _CHOICE_NOT[lang].search(right):
            continue
        # The left side is as long as the right one, cut at a word boundary (保留前导零 /
        # 保留后导零, aptitude / 别的工具).
        tail = ""
        for tok in reversed(jieba.lcut(left)):
            tail = tok + tail
            if len(tail.strip()) >= len(right):
                break
        # The side's own word: the last one before 还是 and the first one after it that the
        # other side lacks (dpkg / apt in 应该用 dpkg 还是 apt 安装, not 安装), one character
        # words aside (用, 是).
        a = [t for t in content_terms(tail) if len(t) > 1 or not is_cjk(t)]
        b = [t for t in content_terms(right) if len(t) > 1 or not is_cjk(t)]
        left_own, right_own = [t for t in a if t not in b], [t for t in b if t not in a]
        if left_own and right_own:
            return frozenset(left_own[-1:]), frozenset(right_own[:1])
    return None


@lru_cache(maxsize=65536)
def _has_person(sentence: str) -> bool:
    import jieba.posseg as pseg

    # 谁 is answered by a person or by a body of people (an organisation: Debian QA Group).
    return any(flag in ("nr", "nt") and len(word) >= 2 for word, flag in pseg.cut(sentence)) or bool(
        re.search(r"[A-Z][A-Za-z]+ [A-Z][A-Za-z]+|[\u4e00-\u9fff]{1,4}·[\u4e00-\u9fff]{1,5}", sentence)
    )


_QUESTION_VALUES = re.compile(r"\d[\d.]*\s*[万亿]*\s*(?:美元|欧元|元|年|月|日|%)?|[一二两三四五六七八九十百千万亿]+[万亿]+(?:美元|欧元|元)?")


def strip_question_values(sentence: str, question: str) -> str:
    """Blank out numbers/dates the question itself states: they are not an answer to it.

    奥特曼的7万亿美元计划最后实际筹到了多少钱？ is not answered by the 7万亿美元 it quotes.
    """
    for value in {m.group() for m in _QUESTION_VALUES.finditer(question) if len(m.group()) >= 2}:
        sentence = sentence.replace(value, " ")
    return sentence


# An enumeration: items separated by 、 or 和/与/及, or several commas.
_LIST = re.compile(r"、|[和与及]|,.*,|，.*，|第[一二三]")
# A command line: lower-case words, one of them with a dash, slash, dot, underscore or digit
# (dpkg --purge foo, apt-mark hold package_name, systemctl get-default); English prose is
# lower-case words too, but plain ones.
_COMMAND = re.compile(r"(?<![A-Za-z0-9_./\-])[a-z][a-z0-9.+_\-]*(?: +(?:-{1,2}[a-z][\w\-]*|[a-z][a-z0-9_.\-]+|/[\w./\-]+))+")
_COMMAND_MARK = re.compile(r"[-_/.\d]")
# A key on the keyboard: a modifier or named key (Ctrl, Shift, Enter, F5, Backspace), a
# combination (Ctrl+N, Alt+F+N, Super+↓), or a key a Chinese text names (回车键, X 键).
_KEY = re.compile(r"(?<![A-Za-z])(?:Ctrl|Control|Shift|Alt|AltGr|Super|Meta|Cmd|Command|Esc|Escape|Tab|Enter|Return"
                  r"|Backspace|Delete|Del|Insert|Home|End|PageUp|PageDown|Page Up|Page Down|Space|PrtSc|Print Screen"
                  r"|F\d{1,2})(?![A-Za-z])|(?<![A-Za-z0-9])[A-Z][A-Za-z]*\s?\+\s?[A-Za-z0-9↑↓←→;,.]|回车|空格键|退格|[A-Za-z0-9]\s?键")
# An instruction: what to run or use (请执行, 可以使用, 只需).
# 可以使用它来… says what a thing is for (它 is the thing), not what to use.
# In a program's manual the instruction is a GUI action: a menu path (「插入 - 页眉」, 图像 → 剪裁,
# [工具] - [目標搜尋] in LibreOffice's Taiwan help),
# a labelled control to click or choose (单击「确定」, 选择 "覆盖锁定"), a key to press (按 F5,
# 按回车键; not 按“先到先得”的原则 or 按空格分隔), or an English step (Press Delete…, Switch the X
# switch to on, 2. Click Apply; not "Open source…", "Check out…").
# A menu path: 「插入 - 页眉」, [工具] - [目標搜尋] (LibreOffice's Taiwan help), 图像 → 剪裁.
_PATH = r"「[^」]+\s[-–]\s[^」]+」|\[[^\[\]]+\]\s?[-–]\s?\[[^\[\]]+\]|\S\s*[→›]\s*\S"
_INSTRUCTION = re.compile(r"请(?:执行|运行|使用|输入|安装|编辑|查看|参见)|可以(?:使用|用|运行|执行|通过|输入)(?![它他她这那此其]|\s*[它他她这那此其])"
                          r"|可使用|只需|以下命令|如下命令"
                          # A numbered step of a procedure (1. 选择位图。).
                          r"|^\d{1,2}\.\s*(?=[\u4e00-\u9fff])"
                          # A conditional imperative: 若要确保…，请在…; 要移动的话，在矩形中点住和拖动即可.
                          r"|(?:若要|如要|如果要)[^，,。；]{1,30}[，,]\s*请|请在"
                          r"|(?:^|[，,])\s*(?:若要|如要|如果要|要)[^，,。；]{1,20}(?:的话)?[，,][^。；]{0,40}即可"
                          r"|(?:选择|单击|点击|双击|右击|右键单击|勾选|选中|打开|启用|取消选择)\s*[「“\"【\[]"
                          rf"|{_PATH}|\S -> \S"
                          r"|^(?:\d+\.\s*)?(?:Press|Click|Double-click|Right-click|Select|Choose|Switch|Toggle|Go to|Drag|Tap"
                          r"|Uncheck|Enable|Disable|Hold down|(?:Open|Check) (?:the|a|an|your)|Check that)\b"
                          rf"|按(?:下|住)?\s*(?:{_KEY.pattern})")
# A command named in prose: 这通过 saslpasswd2 命令完成, 使用命令 postmap, the vgextend command.
# A name ends in a letter or digit (not the sentence's full stop); "the following command"
# names none (:data:`_NOT_A_NAME`).
_NAMED_COMMAND = re.compile(r"(?<![A-Za-z0-9_./\-])[a-z][a-z0-9_.+\-]*[a-z0-9](?: -{1,2}[A-Za-z0-9][A-Za-z0-9\-]*)* ?命令|命令 ?[a-z][a-z0-9_.+\-]*[a-z0-9](?![A-Za-z0-9_+\-])"
                            r"|\b[Tt]he [a-z][a-z0-9_.+\-]*[a-z0-9] (?:command|tool|utility)\b")
_NAME_IN_MATCH = re.compile(r"[a-z][a-z0-9_.+\-]*[a-z0-9]")
_OPTIONS = re.compile(r"(?: -{1,2}[A-Za-z0-9][A-Za-z0-9\-]*)+")
_NOT_A_NAME = {"following", "same", "above", "below", "new", "next", "previous", "first", "last", "other", "whole",
               "main", "actual", "original", "right", "correct", "proper", "corresponding", "appropriate",
               "relevant", "specific", "given", "said", "entire", "old", "latest", "usual", "standard", "one",
               "this", "that", "each", "every", "any", "some", "such", "full", "final", "second", "third"}
# What answers "which menu": a menu path (:data:`_PATH`, Format - Conditional - Condition)
# or a menu named (在「工具」菜单中).
_MENU_PATH = re.compile(rf"{_PATH}|\b[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)? - [A-Z]|菜单|\bmenu\b")
_SENTENCE_PATTERNS = {Cue.MENU: _MENU_PATH, Cue.KEY: _KEY, Cue.LIMIT: _LIMIT, Cue.VERSION: _VERSION, Cue.YEAR: _YEAR,
                      Cue.TIME: _TIME, Cue.NUMBER: _NUMBER, Cue.MODEL: _MODEL, Cue.MONEY: _MONEY,
                      Cue.DEFINITION: _DEFINITION, Cue.LIST: _LIST}


def named_commands(text: str) -> list[tuple[int, int]]:
    """(start, end) of each command ``text`` names in prose (saslpasswd2 in 这通过 saslpasswd2
    命令完成, vgextend in "the vgextend command"): the name alone."""
    spans = []
    for m in _NAMED_COMMAND.finditer(text):
        skip = 4 if m.group()[:4] in ("the ", "The ") else 0
        name = _NAME_IN_MATCH.search(m.group(), skip)
        if name and name.group() not in _NOT_A_NAME:
            # With the options written before 命令 (lspci -nn 命令): they are part of it.
            opts = _OPTIONS.match(m.group(), name.end())
            spans.append((m.start() + name.start(), m.start() + (opts.end() if opts else name.end())))
    return spans


def commands(text: str) -> list[re.Match]:
    """The command lines written in ``text`` (see :data:`_COMMAND`)."""
    # A full stop after the last word ends the sentence; it is no mark of a command line.
    return [m for m in _COMMAND.finditer(text) if _COMMAND_MARK.search(m.group().rstrip("."))]


def sentence_has(cue: Cue, sentence: str, question: str = "", language: str = "zh") -> bool:
    """Whether a sentence can answer a question with this cue (:data:`Cue.UNIT` needs the
    (Simplified) ``question`` and its language, for the unit it names)."""
    if cue is Cue.UNIT:
        family = asked_unit(question, language)
        return family is None or states_unit(family, sentence)
    if cue is Cue.PERSON:
        return _has_person(sentence)
    if cue is Cue.NAME:
        # A sentence that ends in a colon introduces the list that names them (以下特定文件
        # 扩展名的文件：), which the answer quotes after it.
        return has_name(sentence, question) or bool(_BRACKETED.search(sentence)) \
            or sentence.rstrip().endswith(("：", ":"))
    if cue is Cue.STEPS:
        return bool(_INSTRUCTION.search(sentence)) or bool(commands(sentence)) or bool(named_commands(sentence))
    pattern = _SENTENCE_PATTERNS.get(cue)
    if cue is Cue.NUMBER:
        # 参阅第 3.4 节, 第 7 章, a footnote mark ［22］: numbers that point elsewhere, no quantity.
        sentence = mask_references(sentence)
        if language == "zh" and counted_in_words(sentence, question):
            return True
    if cue is Cue.DEFINITION and _DEFINED_AS.search(sentence):
        return True
    return bool(pattern.search(sentence)) if pattern else True


# A cross-reference or footnote mark: 第 7 章, 第 3.4 节, 5.1.5 节, ［22］, [4].
# Not 20.5 节 (knots), 2.6 节省 or 保留 [10] 个副本.
_REFERENCE = re.compile(r"第\s*\d+(?:\.\d+)*\s*[章节条篇卷部]|\d+(?:\.\d+)+\s*(?:章|节(?![省点约日电]))"
                        r"|(?<![A-Za-z0-9])[［\[]\d{1,3}[］\]](?!\s*[个次条项份台倍])")


def mask_references(text: str) -> str:
    """``text`` with its cross-references and footnote marks (:data:`_REFERENCE`) blanked
    out, offsets kept (参阅第 3.4 节 is no quantity, nor the phrase of a count)."""
    return _REFERENCE.sub(lambda m: " " * len(m.group()), text)


# 几份 / 几条: how many of a specific measure word.
_HOW_MANY_OF = re.compile(rf"(?<![{_NOT_HOW_MANY}])几([{_MEASURE_WORDS}])")


def counted_in_words(sentence: str, question: str) -> list[re.Match]:
    """The counts ``sentence`` writes in Chinese numerals of the measure word the question
    asks 几 of (几份 -> 一份副本, 几条 -> 两条规则, 几行 -> 四行), in order: 一 is a count
    there, not the article "a"."""
    # 第一步, 进一步, 同一行 are no counts.
    return sorted((m for clf in _HOW_MANY_OF.findall(question)
                   for m in re.finditer(rf"(?<![第进同统唯逐{_CN_NUM}])[{_CN_NUM}]+{clf}", sentence)),
                  key=lambda m: m.start())


# Question words whose neighbours name the thing asked about (the "focus").
_QWORDS_ZH = {"哪一年", "哪年", "多少", "几", "什么", "谁", "哪家", "哪个", "哪座", "哪所", "哪", "哪些", "哪位",
              "何时", "什么时候", "怎么", "如何", "为什么", "哪里", "哪儿", "哪种", "哪类", "哪款", "哪部", "哪国"}
# Tokens skipped when looking for the focus next to a question word.
_FOCUS_SKIP = {"是", "的", "了", "在", "由", "为", "个", "所", "些", "种", "位", "一", "两个", "几个", "都", "又", "还",
               "被", "把", "将", "要", "会", "有", "叫", "叫做", "称为", "属于", "到", "从", "?", "？", "，", ",", "。"}


# jieba POS flags skipped too: measure words (座), particles, prepositions, numerals, adverbs.
_SKIP_FLAGS = {"q", "u", "uj", "ul", "uz", "uv", "p", "m", "c", "d", "x", "y", "e"}


def question_focus(question: str) -> list[tuple[str, bool]]:
    """The content words next to the question word: 售价 in 售价是多少, 城市 in 建在哪座城市.

    An answer sentence that lacks the focus rarely answers the question: the article says
    百度……向华为下了大额的昇腾芯片订单 but not 订购了多少片. Returns (word, is_noun) pairs.
    """
    return list(_question_focus(question))


@lru_cache(maxsize=1024)
def _question_focus(question: str) -> tuple[tuple[str, bool], ...]:
    # Cached: POS tagging is the slow part, and one answer reads the focus several times.
    import jieba.posseg as pseg

    from .text import _FRAMING, _STOPWORDS

    pairs = [(w, f) for w, f in pseg.lcut(question) if w.strip()]
    toks = [w for w, _ in pairs]
    focus: list[tuple[str, bool]] = []
    for i, tok in enumerate(toks):
        if tok not in _QWORDS_ZH:
            continue
        for step in (1, -1):
            j = i + step
            while 0 <= j < len(toks) and toks[j] not in _CLAUSE_ENDS and (
                    toks[j] in _FOCUS_SKIP or toks[j] in _QWORDS_ZH or pairs[j][1] in _SKIP_FLAGS):
                j += step
            if 0 <= j < len(toks) and toks[j] not in _CLAUSE_ENDS:  # 是谁，应该…: 应该 is another clause
                t = toks[j].lower()
                if step == 1 and j == i + 1 and tok in _COUNT_WORDS and len(t) == 2 and t[0] in _MEASURES:
                    # 多少天才会…: a count asks for the unit (天); jieba may glue it to the
                    # next character (天才, 年后), which names nothing the text must contain.
                    continue
                if tok in _MANNER_WORDS and not pairs[j][1].startswith("n"):
                    # 怎么确认 / 如何解决 / 为什么没法: the verb names the task, not what the
                    # answer says (use lsb_release, replace it with foo2).
                    continue
                if t in _LIGHT_NOUNS or (tok in _WHAT and t in _FRAMING):
                    # 缩水版产品是哪两款: the answer names the thing (A800), not 产品; 叫什么名字
                    # asks for a name, which the answer gives rather than says.
                    continue
                if t not in _STOPWORDS and len(t) >= 2 and any(ch.isalnum() for ch in t):
                    # 加什么配置: 什么 asks for the word after it, and the word before it is
                    # the verb, however jieba tags it (文件里加 -> 里加, "Riga").
                    verb_slot = step == -1 and tok in _WHAT and i + 1 < len(toks) and _content(pairs[i + 1])
                    focus.append((t, not verb_slot and _is_noun(t, pairs[j][1])))
    return tuple(dict.fromkeys(focus))


def _content(pair: tuple[str, str]) -> bool:
    """Whether a (token, POS flag) pair is a content word: not punctuation, a question word
    or a word the focus search skips."""
    tok, flag = pair
    return tok not in _CLAUSE_ENDS and tok not in _FOCUS_SKIP and tok not in _QWORDS_ZH and flag not in _SKIP_FLAGS


def _is_noun(word: str, flag: str) -> bool:
    """Whether a focus word names a thing. jieba's tag says so, unless CC-CEDICT reads the
    word only as a verb (问世, 指向, 自带 are tagged nouns), or the word is two characters that
    neither jieba's dictionary nor CC-CEDICT knows: jieba's HMM glued them (我用 = 我 + 用)."""
    import jieba

    from .crosslingual import is_dictionary_word, is_verb
    from .text import is_cjk

    if not flag.startswith("n") or is_verb(word):
        return False
    return not (len(word) == 2 and all(map(is_cjk, word)) and word not in jieba.dt.FREQ
                and not is_dictionary_word(word))


# Nouns that only stand for the thing asked about (产品, 东西, 方法, 原因): an answer names
# the thing itself, so it rarely repeats them.
_LIGHT_NOUNS = {"产品", "东西", "事情", "事物", "情况", "问题", "方面", "方式", "方法", "办法", "途径", "手段", "内容",
                "地方", "部分", "因素", "原因", "结果", "目的", "作用", "类型", "种类", "东东"}
# Punctuation that ends a clause: the focus is looked for within the question word's clause.
_CLAUSE_ENDS = {"，", ",", "。", "？", "?", "；", ";", "！", "!"}
# Question words that ask how or why: the words next to them name the task or the event.
_MANNER_WORDS = {"怎么", "如何", "怎样", "为什么", "为何"}
# Question words that ask for the noun after them (叫什么名字).
_WHAT = {"什么", "啥"}
# Question words that ask for a count, and the units a count is given in.
_COUNT_WORDS = {"多少", "几"}
_MEASURES = set("天年月日周个次种位名家台块张件本页层倍分秒")
