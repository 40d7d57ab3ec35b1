"""Chinese-aware text helpers shared by ingestion, retrieval and answering.

Sentence splitting keeps character spans so every piece maps back to its source text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# A sentence ends at one of these (a run of them, e.g. "？！" or "……"), optionally followed by
# closing quotes/brackets that belong to the same sentence: 他说：“走吧。”
_SENT_END = r"[。！？!?；;…]+[”’」』）)》\"']*"
# An ASCII period ends a sentence only when followed by whitespace, CJK or the line end, so
# "3.5" and "GPT-3.5" are not cut (an abbreviation such as "e.g. " still is); or between a
# word and a capitalised one, where extraction glued two sentences ("is used.We recommend").
_ASCII_PERIOD = r"(?:\.(?=\s|$|[\u4e00-\u9fff])|(?<=[a-z]{2})\.(?=[A-Z][a-z]+\s))[”’」』）)\"']*"
_SENT_RE = re.compile(rf"(?:{_SENT_END}|{_ASCII_PERIOD})")
# Clause boundaries used only when one sentence alone exceeds the chunk size.
_CLAUSE_RE = re.compile(r"[，,、：:]+")


@dataclass(frozen=True)
class Span:
    """A piece of text with its [start, end) character offsets in the source."""

    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Span]:
    """Split text into sentences on sentence-final punctuation and newlines; a semicolon or
    ellipsis inside a pair of brackets separates or elides the arguments of a formula or
    call and ends nothing (a full stop there still ends a sentence in parentheses).

    Whitespace between sentences is not part of any span; spans never overlap and each
    ``text`` equals ``source[start:end]``.
    """
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        base = line.start()
        line_text = line.group()
        pos = 0
        inside: list[bool] | None = None  # per character: within a pair of brackets
        for m in _SENT_RE.finditer(line_text):
            if m.group()[0] in ";；…":
                inside = inside if inside is not None else _bracketed(line_text)
                if inside[m.start()]:
                    continue  # an argument separator or elision: =DDB(75000;1;60;12;2), NPV(Rate; Number 1 [; …])
            elif m.group()[0] == "." and m.end() < len(line_text) and line_text[m.end()].isupper() \
                    and not _GLUED_WORD.search(line_text, 0, m.start()):
                continue  # a dotted name (Edge.Cuts, oCell.String, com.sun.star.Text), not two sentences
            elif m.group()[0] == "." and m.end() < len(line_text) and _LIST_NUMBER.fullmatch(line_text[pos:m.start()]):
                continue  # the number of a step (1. 选取位图。 2. Click Apply.) opens its sentence
            _append_trimmed(spans, line_text, base, pos, m.end())
            pos = m.end()
        _append_trimmed(spans, line_text, base, pos, len(line_text))
    return spans


_OPENERS, _CLOSERS = "(（[【{", ")）]】}"
# A numbered list item's number before its full stop: 1. / 12.
_LIST_NUMBER = re.compile(r"\s*\d{1,3}")
# A whole lower-case word just before a full stop glued to a capitalised word: "is used.We".
_GLUED_WORD = re.compile(r"(?:^|[^A-Za-z0-9_.\-])[a-z]+$")


def _bracketed(line: str) -> list[bool]:
    """For each position of ``line``: whether it lies inside a pair of brackets that closes
    on the line (an opener left unclosed, as in a ":-(" smiley, covers nothing), in a pair of
    up to 400 characters."""
    inside = [False] * (len(line) + 1)
    stack: list[int] = []
    for k, ch in enumerate(line):
        if ch in _OPENERS:
            stack.append(k)
        elif ch in _CLOSERS and stack:
            start = stack.pop()
            if k - start <= 400:
                inside[start + 1:k] = [True] * (k - start - 1)
    return inside


def _append_trimmed(out: list[Span], line: str, base: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    s = base + start + lead
    out.append(Span(s, s + len(stripped), stripped))


def split_long(span: Span, limit: int) -> list[Span]:
    """Split an over-long sentence on clause marks (，、：), then hard-wrap if still too long."""
    if len(span.text) <= limit:
        return [span]
    cuts = [m.end() for m in _CLAUSE_RE.finditer(span.text)]
    if not cuts or cuts[-1] != len(span.text):
        cuts.append(len(span.text))
    pieces: list[Span] = []
    start = prev = 0
    for cut in cuts:
        if cut - start > limit and prev > start:
            pieces.append(_sub(span, start, prev))
            start = prev
        # A single clause longer than the limit is hard-wrapped.
        while cut - start > limit:
            pieces.append(_sub(span, start, start + limit))
            start += limit
        prev = cut
    if start < len(span.text):
        pieces.append(_sub(span, start, len(span.text)))
    return pieces


def _sub(span: Span, a: int, b: int) -> Span:
    return Span(span.start + a, span.start + b, span.text[a:b])


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    # To Taiwan Traditional with Taiwan phrasing, then back to Simplified with mainland
    # phrasing: both scripts meet in one form. Back-conversion alone (tw2sp) reads Simplified
    # text as if it were Taiwanese (文件 -> 文档, 程序 -> 进程), so a Simplified 文件 and
    # the Traditional 檔案 that translates it would fold apart (文档 / 文件); the round trip
    # folds both to 文件.
    return opencc.OpenCC("s2twp"), opencc.OpenCC("tw2sp")


#: Taiwan software terms that OpenCC's round trip leaves apart from the mainland term for
#: the same thing, or garbles (投影片 -> 投视频, 儲存格 -> 保存格: its segmentation finds
#: 影片 "video" and 儲存 "save" inside them). Each Taiwan term is written here as its
#: mainland counterpart, in Traditional characters, before the conversion back to
#: Simplified. Drawn from the Taiwan and mainland editions of LibreOffice's Calc, Writer,
#: Math, Basic and common menu help (752 parallel pages; each pair is a word one edition
#: uses where the other uses the other, counted in both), kept to terms with one meaning
#: (not 欄/列, which swap "column" and "row"; not 文件, "document" in Taiwan but "file" on
#: the mainland; not 指令, "command" in Taiwan but "instruction" on the mainland, where
#: 忽略以上指令 must not read as a question about commands). Both sides of a comparison
#: are folded, so a question in either wording meets the text in either.
_TW_TERMS = {
    "投影片": "幻燈片", "儲存格": "單元格", "試算表": "電子表格", "樞紐分析表": "數據透視表",
    "樞紐分析圖": "數據透視圖", "功能表": "菜單", "工具列": "工具欄", "索引標籤": "選項卡", "頁籤": "選項卡", "文字方塊": "文本框",
    "清單方塊": "列表框", "清單": "列表", "文字": "文本", "游標": "光標", "精靈": "嚮導", "註腳": "腳注",
    "連按兩下": "雙擊", "按兩下": "雙擊", "按一下": "點擊", "單擊": "點擊", "選取": "選擇",
    "目前": "當前", "變更": "更改", "套用": "應用", "透過": "通過", "參照": "引用", "移除": "刪除",
    "自訂": "自定義", "喜好設定": "偏好設置", "範例": "示例", "拖曳": "拖動", "鍵入": "輸入",
    "傳回": "返回", "尋找": "查找", "取代": "替換", "群組": "組合", "重設": "重置", "捲動": "滾動",
    "另存新檔": "另存為", "漸層": "漸變",
}
_TW_TERM = re.compile("|".join(sorted(map(re.escape, _TW_TERMS), key=len, reverse=True)))
#: The other way, for the question embedded against a Taiwan corpus (:func:`to_traditional`):
#: only the names of a program's parts, which Taiwan always writes its own way. Everyday
#: words that both regions use (替换 and 取代, 查找 and 尋找, 列表 and 清單) stay as asked.
_MAINLAND_TERMS = {cn: tw for tw, cn in _TW_TERMS.items()
                   if tw in ("投影片", "儲存格", "試算表", "樞紐分析表", "樞紐分析圖", "功能表", "工具列", "文字方塊",
                             "清單方塊", "游標", "精靈", "喜好設定", "另存新檔", "自訂")}
_MAINLAND_TERM = re.compile("|".join(sorted(map(re.escape, _MAINLAND_TERMS), key=len, reverse=True)))

_HAS_CJK = re.compile(r"[\u3400-\u9fff]")


def simplified(text: str) -> str:
    """``text`` in Simplified script (case and width kept), for pattern matching."""
    return _simplified(text) if _HAS_CJK.search(text) else text


@lru_cache(maxsize=16384)
def _simplified(text: str) -> str:
    # Cached: every answer folds the sentences of its passages again, and the corpus's
    # sentences recur from question to question (the conversion is most of that time).
    # 16k entries: a few MB of sentences, more only for long texts such as whole passages.
    to_tw, to_cn = _t2s()
    return to_cn.convert(_TW_TERM.sub(lambda m: _TW_TERMS[m.group()], to_tw.convert(text)))


def is_traditional(text: str) -> bool:
    """Whether ``text`` is written in Traditional characters: two or more of them change in
    Simplified (one may be a name: 昇 in 昇腾)."""
    if not _HAS_CJK.search(text):
        return False
    chars = _t2s_chars().convert(text)
    return sum(a != b for a, b in zip(text, chars)) >= 2


def to_traditional(text: str) -> str:
    """``text`` in Taiwan Traditional script and phrasing (OpenCC ``s2twp``)."""
    if not _HAS_CJK.search(text):
        return text
    return _MAINLAND_TERM.sub(lambda m: _MAINLAND_TERMS[m.group()], _t2s()[0].convert(text))


@lru_cache(maxsize=1)
def _t2s_chars():
    import opencc

    return opencc.OpenCC("t2s")


def simplified_chars(text: str) -> str:
    """``text`` with Traditional characters written in Simplified, character for character
    and without phrase changes (文件 stays 文件): for text that is shown or searched again,
    such as a rewritten follow-up question."""
    return _t2s_chars().convert(text) if _HAS_CJK.search(text) else text


def fold(text: str) -> str:
    """The form used for every lexical comparison: NFKC, lower-case, Simplified script.

    Simplified and Traditional Chinese are one language to the user: a question in either
    script must match text in the other. Quotes are never taken from folded text.
    """
    return simplified(unicodedata.normalize("NFKC", text).lower())


def normalize(text: str) -> str:
    """Folded (:func:`fold`), keeping only letters and digits (the eval's matching rule)."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


# --- tokenisation for BM25 and lexical overlap -------------------------------------------

# Function words and question words that carry no topic; kept small and generic.
_STOPWORDS = set(
    """
    的 了 是 在 和 与 及 或 也 都 就 而 又 被 把 将 对 于 从 向 以 为 其 之 这 那 这个 那个 这些 那些
    一个 一种 一场 什么 哪 哪个 哪些 哪里 哪儿 哪家 哪年 哪一年 谁 多少 几 怎么 怎样 如何 为什么 是否 吗 呢 吧 啊 呀
    有 没有 会 能 可以 要 让 给 着 过 中 上 下 里 时 后 前 所 等 个 它 他 她 它们 他们 我们 你 我
    请问 请 告诉 文章 文中 本文 提到 提及 说 讲 关于 还是 分别 哪位 哪国 哪些人 叫 叫做 称为 名为
    文中说 所说 具体 大约 大概 一共 总共 主要 哪款 哪所 哪部 哪种 哪类 哪座 哪家 哪句 哪天 哪次
    那款 那次 那套 这件 这次 时候 全称 中文 中文名 中文名称 英文 英文名 简称 比作 比喻 打比方
    结尾 开头 一句 句话 引用 列举 哪两 哪三 哪几 几家 几倍 多长 多长时间 多久 怎么样 如何 为何
    a an the of to in on at for by with from as is are was were be been being do does did
    what which who whom whose when where why how many much that this these those it its
    and or not no than then there their they them he she his her we you i me my our your
    according article text mentioned mention say says said about into
    你好 您好 谢谢 多谢 感谢 再见 麻烦 帮我 hello hi hey thanks thank please
    """.split()
)
#: Words that frame a question when they are what 什么 asks for (叫什么名字, 名称是什么) but
#: are its topic otherwise (这个名字是怎么来的): dropped only within two tokens of 什么/啥.
_FRAMING = {"名字", "名称"}
_FRAMING_NEAR = {"什么", "啥"}
_LATIN_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    return jieba


@lru_cache(maxsize=1)
def tokenizer_fingerprint() -> str:
    """A short hash of what :func:`tokenize` depends on (stop words, the jieba and OpenCC
    versions): saved indexes built with other tokens are rebuilt (:mod:`app.snapshot`)."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    parts = [" ".join(sorted(_STOPWORDS)), " ".join(sorted(_FRAMING | _FRAMING_NEAR)), _LATIN_TOKEN.pattern,
             "opencc s2twp+tw2sp", " ".join(f"{k}={v}" for k, v in sorted(_TW_TERMS.items()))]
    for package in ("jieba", "opencc"):
        try:
            parts.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package}=?")
    return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()[:8]


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens, lower-cased, without stop words, punctuation or spaces.

    Latin runs ("H800", "Blackwell") stay whole; "GPT-3.5" becomes "gpt" + "3.5". Traditional
    characters are folded to Simplified first (:func:`fold`).
    """
    text = fold(text)
    raw = [t for t in (tok.strip() for tok in _jieba().lcut_for_search(text)) if t]
    tokens = []
    for i, tok in enumerate(raw):
        if tok in _STOPWORDS or not any(ch.isalnum() for ch in tok):
            continue
        if tok in _FRAMING and _FRAMING_NEAR.intersection(raw[max(0, i - 2): i + 3]):
            continue
        tokens.append(tok)
    return tokens


def content_terms(text: str) -> list[str]:
    """Distinct query terms (order kept) for overlap scoring."""
    seen: dict[str, None] = {}
    for tok in tokenize(text):
        seen.setdefault(tok, None)
    return list(seen)


def has_words(text: str, phrase: str) -> bool:
    """Whether lower-case ``text`` holds ``phrase`` as whole words: not inside a longer word
    or number (*init system does* does not hold systemd, *aim* does not hold ai)."""
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def is_latin_script(text: str, chinese_below: float = 0.2) -> bool:
    """Whether ``text`` is written in Latin script: it has letters, and Chinese characters
    are under ``chinese_below`` of them (a sentence: a fifth; a passage that mixes a Chinese
    heading into English text: a half)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(1 for ch in letters if is_cjk(ch)) < chinese_below * len(letters)


def detect_language(text: str) -> str:
    """'zh' when the text has any meaningful share of CJK characters, else 'en'."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "zh"
    cjk = sum(1 for ch in letters if is_cjk(ch))
    return "zh" if cjk / len(letters) >= 0.2 or cjk >= 4 else "en"
