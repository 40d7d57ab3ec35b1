"""Resolve short or elliptical follow-up questions against the previous question and answer.

``那H20呢？`` after ``A800是哪一年推出的？`` becomes ``H20是哪一年推出的？``; after
``英伟达在2022年底推出了哪些特供版芯片？`` (nothing of H20's kind to swap) it asks what the
text says about H20 in that topic: ``关于H20：伟达、推出、特供、芯片`` (the previous
question's content words, without its year).
``它是哪一年推出的？`` after ``英伟达在2006年推出了什么软件平台？`` (answered CUDA) resolves
它 to the entity of the previous *answer*: ``CUDA是哪一年推出的？``.
When no rule applies, a short follow-up is searched together with the previous question.
"""

from __future__ import annotations

import html
import re
from typing import Any, Sequence

from .answer import ASKS_HOW, LEAD_IN, NOT_FOUND
from .cues import Cue, question_cues
from .text import _STOPWORDS, detect_language, is_cjk, simplified_chars

# 那H20呢？ / 还有百度呢 / 反过来从左往右拖呢: a bare entity followed by 呢. The entity must be
# short and must not itself ask something (这场芯片战争的起因是什么呢 is a question of its own).
_WHAT_ABOUT_ZH = re.compile(r"^\s*(?:那么?|还有|另外)?\s*(?:反过来|反之|如果是|要是|换成)?\s*([^，,。？?！!呢]{1,12}?)\s*呢\s*[？?]?\s*$")
_WHAT_ABOUT_EN = re.compile(r"^\s*(?:and|what about|how about)\s+(?:for\s+)?([^?,.]{1,60}?)\s*\??\s*$", re.I)
# 反过来呢 alone names nothing: it is searched with the previous question.
_SIDE_WORDS = {"反过来", "反之", "如果是", "要是", "换成"}
# "And how do I…?" asks a question of its own, not "what about how".
_QUESTION_START_EN = re.compile(r"^(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could"
                                r"|should|will|would|has|have|had|may|might|must|shall)\b", re.I)
# A subject pronoun opening the question (whole jieba token: 这场/那些/其中 are not pronouns).
_PRONOUNS_ZH = {"它", "他", "她", "它们", "他们", "她们", "其"}
_PRONOUN_EN = re.compile(r"\b(it|its|they|their|them|he|his|she|her)\b", re.I)
# An entity with a locative after it (Windows 上, 表格中, 目录里).
_LOCATED = re.compile(r"(.+?)\s*([上中里内下])")
_QUESTION_WORD_ZH = re.compile(r"什么|哪|谁|几|多少|怎么|如何|为什么|是否|吗")
_LATIN_ENTITY = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*\d[A-Za-z0-9.\-]*|[A-Z][A-Za-z0-9.\-]{1,}")


def previous_turns(history: Sequence[Any] | None) -> list[tuple[str, str | None]]:
    """(question, answer or None) pairs from a history in any common shape.

    Accepts a list of strings (previous questions), of ``(question, answer)`` pairs, or of
    ``{"role": ..., "content": ...}`` messages (Gradio's and OpenAI's chat format; an
    assistant message answers the user message before it).
    """
    out: list[tuple[str, str | None]] = []
    for turn in history or []:
        if isinstance(turn, str):
            out.append((turn, None))
        elif isinstance(turn, dict):
            content = turn.get("content")
            if not isinstance(content, str):
                continue
            if turn.get("role") == "user":
                out.append((content, None))
            elif turn.get("role") == "assistant" and out and out[-1][1] is None:
                out[-1] = (out[-1][0], content)
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            answer = turn[1] if len(turn) > 1 and isinstance(turn[1], str) else None
            out.append((turn[0], answer))
    return [(q, a) for q, a in out if q.strip()]


def previous_questions(history: Sequence[Any] | None) -> list[str]:
    """The user turns of a history (see :func:`previous_turns`)."""
    return [q for q, _ in previous_turns(history)]


# Inline HTML a client may send back with an answer (rendered chat), not a < or > of the
# quoted text itself (0.0 < 0.5, cat > hello <<EOF, dpkg -S <file>).
_TAG = re.compile(r"</?(?:p|br|strong|b|em|i|mark|span|sup|sub|div|a|small)(?:\s[^<>]*)?/?>", re.I)


_EN_QUESTION_WORDS = {"what", "which", "who", "when", "where", "why", "how", "and", "is", "are", "was", "were",
                      "did", "does", "do", "in", "the", "a", "an", "of"}


# Any Latin run: inside Chinese text even a lower-case one is a name (apt, dpkg, testing).
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9.\-+_]*[A-Za-z0-9+]")
_NAME_FLAGS = {"nr", "ns", "nt", "nz", "nrt"}


def _is_latin(entity: str) -> bool:
    """Whether an entity is written in Latin letters (H20, apt, Blackwell)."""
    return bool(_LATIN_RUN.fullmatch(entity) or _LATIN_ENTITY.fullmatch(entity))


def _noun_phrases(text: str) -> list[tuple[str, bool]]:
    """Chinese noun phrases as (phrase, is_name): adjacent nouns (and verbal nouns between
    them) joined, since jieba splits compounds (网页浏览器 -> 网页 + 浏览器, 邮件传输代理 ->
    邮件 + 传输 + 代理) and a follow-up swaps or refers to the whole compound."""
    import jieba.posseg as pseg

    out: list[tuple[str, bool]] = []
    run: list[tuple[str, str]] = []

    def flush():
        if any(f.startswith("n") for _, f in run):
            while run and not run[-1][1].startswith("n"):  # a compound ends on a noun
                run.pop()
            out.append(("".join(w for w, _ in run), any(f in _NAME_FLAGS for _, f in run)))
        run.clear()

    for w, f in pseg.lcut(text):
        if len(w) >= 2 and (f.startswith("n") or (f == "vn" and run)):
            run.append((w, f))
        else:
            flush()
    flush()
    return out


# An English word that starts a sentence is capitalised whatever it is (If the second press…,
# You can also…): a name there needs another mark (KiCad, PCB, s390, X.Org).
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*|\]\s*)$")
_NAME_MARK = re.compile(r"\d|[A-Z].*[A-Z]|[a-z][._+/][a-z]", re.S)


# Verbs a help page's step starts with: Press Delete names the key, not "Press Delete".
_IMPERATIVES = {"press", "click", "select", "choose", "switch", "toggle", "go", "drag", "tap", "uncheck", "enable",
                "disable", "hold", "open", "check", "type", "enter", "use", "see", "set", "run", "install", "edit",
                "add", "remove", "insert", "save", "close", "start", "stop", "find", "read", "make"}


def _english_names(text: str) -> list[str]:
    """The names an English text writes (KiCad, PCB, s390, Debian, Slow Keys), in order: a
    word with a digit, a second capital or a dot, or one capitalised inside a sentence; not
    a function word, and not an ordinary word capitalised because it starts a sentence."""
    out: list[str] = []
    end, held = -1, None  # held: a capitalised first word of a sentence, kept if a name follows it
    for m in _LATIN_ENTITY.finditer(text):
        e = m.group().rstrip(".-")
        if len(e) < 2 or e.lower() in _EN_QUESTION_WORDS or e.lower() in _STOPWORDS:
            held = None
            continue
        if _NAME_MARK.search(e) or not _SENTENCE_START.search(text[:m.start()]):
            if out and text[end:m.start()] == " " and e[0].isupper() and out[-1][-1].isalpha():
                out[-1] += " " + e  # one name in several words (Slow Keys, Print Range)
            elif held is not None and text[held[1]:m.start()] == " " and e[0].isupper():
                out.append(held[0] + " " + e)  # Impress Remote is…: the first word is part of it
            else:
                out.append(e)
            end, held = m.start() + len(e), None
        else:
            held = None if e.lower() in _IMPERATIVES else (e, m.start() + len(e))
    return out


# Where an answer's sentences end (Chinese or English): each kind of text writes names its own way.
_ANSWER_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=[.;:])\s+|\n")


def _entities(text: str, latin: bool) -> list[str]:
    """Likely topic entities of one kind: Latin names/models, or Chinese nouns (names first)."""
    if latin:
        if detect_language(text) == "zh":
            # In Chinese text any Latin run is a name (apt, dpkg, testing), except in the
            # English sentences an answer may quote from a partly translated page.
            found = []
            for sentence in _ANSWER_SENTENCE_END.split(text):
                found += _english_names(sentence) if detect_language(sentence) == "en" else \
                    [e for e in _LATIN_RUN.findall(sentence) if len(e) >= 2]
            return found
        found = _english_names(text)
        with_digits = [e for e in found if any(ch.isdigit() for ch in e)]
        return with_digits or found
    nouns = _noun_phrases(text)
    names = [w for w, is_name in nouns if is_name]
    return names or [w for w, _ in nouns]


def _topic(text: str) -> list[str]:
    """Entities of either kind, Latin first (model names are the usual topic of a follow-up)."""
    return _entities(text, latin=True) or _entities(text, latin=False)


def _names_own_entity(question: str, lang: str) -> bool:
    """Whether the question names a topic of its own (then it is not a follow-up)."""
    if lang == "en":
        words = question.split()
        return any(_LATIN_ENTITY.fullmatch(w.strip("?,.!'\"")) for w in words[1:]) or any(
            ch.isdigit() for ch in question)
    return bool(_entities(question, latin=True) or _entities(question, latin=False))


# Words that continue the previous topic rather than name a new one (后来呢？, and then?).
_CONTINUATIONS = {"后来", "然后", "接着", "之后", "结果", "最后", "最终", "再后来", "再然后", "下一步", "接下来", "随后",
                  "then", "after that", "next"}
_POINTING_BACK = re.compile(r"这么|这样|那样|这个|那个|这些|那些|此事|这件事")
# A comparison with what was just said (有没有更快的方法？ is there an easier way?) or a
# request for another one (还有别的办法吗？) is about the previous question's topic.
_COMPARED_BACK = re.compile(
    r"更(?:快|好|简单|方便|容易|省事|稳妥|安全|高效|直接)|别的|其他|其它|另一种|另外的?(?:方法|办法|工具|方式)"
    r"|还有什么|还有哪些"
    r"|\b(?:an?|any|some) (?:faster|easier|simpler|better|quicker|safer) (?:way|method|option|tool|command)s?\b"
    r"|\banother (?:way|method|option|tool|command)\b|\bother (?:ways|options|tools|methods|commands)\b", re.I)
# What a comparison asks for is another means, not a topic of its own (更快的方法).
_MEANS = re.compile(r"方法|办法|工具|方式|命令|途径|手段|方案|选项|做法|选择")
_FILLER_EN = {"is", "are", "there", "a", "an", "any", "some", "to", "do", "does", "i", "can", "could", "we", "you",
              "it", "this", "that", "the", "of", "for", "what", "which", "how", "use", "get", "other", "else", "me"}


def _asks_more(question: str, lang: str) -> bool:
    """Whether a question that asks for another means also says what for, on its own terms
    (is there a better way *to remove a package*: a new question); 有没有更快的方法 does not."""
    if lang == "zh":
        # From the clause that asks on (…手动改太累了，有没有更简单的办法？): the clauses
        # before it say why; those after it may say what for (…，可以批量删除 Pod？).
        m = _COMPARED_BACK.search(question)
        start = max((question.rfind(c, 0, m.start()) for c in "，,；;"), default=-1) + 1 if m else 0
        return _names_own_entity(_MEANS.sub("", _COMPARED_BACK.sub(" ", question[start:])), lang)
    rest = _COMPARED_BACK.sub(" ", question)
    return any(len(w) >= 3 and w.lower() not in _FILLER_EN for w in re.findall(r"[A-Za-z][\w-]*", rest)) \
        or _names_own_entity(rest, lang)


_PRO_VERB = re.compile(r"这么做|这样做|这么办|这样办|这么干|这样干|这么操作|这样操作|这么处理|这样处理|这么弄|这样弄|照做"
                       r"|\b(?:do|doing|done) (?:this|that|so)\b", re.I)


# A bare request to go on (后来呢？ 然后呢？ 下一步呢？ and then? what happened next?): the
# answer is what the document says after the previous answer's quote.
_CONTINUE_ZH = re.compile(
    r"^(?:那|那么)?(?:后来|然后|接着|接下来|之后|再后来|再然后|下一步|随后|结果|最后)"
    r"(?:呢|又?怎么样了?|又?怎样了?|又?发生了什么|要做什么|该做什么|做什么|该?怎么做|是什么|怎么办)?"
    r"呢?[？?。!！…\s]*$")
_CONTINUE_EN = re.compile(
    r"^(?:and )?(?:then(?: what(?: happened)?)?|what happened (?:next|then|after that)|what(?:'s| is| comes)? next"
    r"|after that|what is the next step|(?:the )?next step|next)\s*[?.!]*$", re.I)


def is_continuation(question: str) -> bool:
    """Whether a turn only asks to go on from the previous answer (后来呢？ what next?)."""
    q = simplified_chars(question.strip())
    return bool(_CONTINUE_ZH.match(q) or _CONTINUE_EN.match(q))


def quoted_runs(answer: str | None) -> list[str]:
    """The quoted runs of an earlier answer, in its order (the text before each citation
    marker, and any after the last; our lead-in and markup removed); [] for an abstention
    or no answer."""
    if not answer or any(answer.startswith(text[:12]) for text in NOT_FOUND.values()):
        return []
    text = LEAD_IN.sub("", html.unescape(_TAG.sub(" ", answer)).lstrip())
    return [run.strip() for run in re.split(r"\[\d+\]", text) if run.strip()]


def _answer_text(answer: str | None) -> str | None:
    """The quoted part of an earlier answer (:func:`quoted_runs`, joined); None for an
    abstention (it names nothing the next question can refer to)."""
    return " ".join(quoted_runs(answer)) or None


def _names_named_entity(question: str) -> bool:
    """Whether a Chinese question names a person, place, organisation or Latin term."""
    import jieba.posseg as pseg

    return bool(_entities(question, latin=True)) or any(
        f in _NAME_FLAGS and len(w) >= 2 for w, f in pseg.lcut(question))


def _referents(last: str, last_answer: str | None, person: bool = False, asked: str | None = None) -> list[str]:
    """What a pronoun in the next question may refer to, the likeliest first (the
    assistant keeps the rewrite its corpus answers best: :meth:`app.Assistant.prepare`).

    When the previous question asked for a thing (什么软件平台, 哪家公司, which chip) the
    likeliest referent is the new entity its answer named (CUDA, 华为); when it asked for a
    year, a number or an amount about a topic, the referent is that topic. The previous
    question's topic is always a candidate. ``asked`` is the language of the question with
    the pronoun (default: that of ``last``).
    """
    lang = detect_language(last)
    cues = question_cues(last, lang)
    asks_value = cues & {Cue.YEAR, Cue.TIME, Cue.NUMBER, Cue.MONEY, Cue.VERSION, Cue.UNIT, Cue.LIMIT}
    answer = _answer_text(last_answer)
    # 他们 refers to people, countries or companies (Chinese names), not to a Latin term.
    ents = (_entities(last, latin=False) or _entities(last, latin=True)) if person else _topic(last)
    defined = _DEFINES.match(last)
    if defined:
        # What is Impress Remote? / What is the presenter console? describes a thing: "it"
        # next is that thing, not a name the description happens to mention (the Google
        # Play Store it is sold in).
        return ents[:1] or [defined.group(1)]
    out: list[str] = []
    # After How do I make a 3D object…?, "it" is what the question was about: the answer is
    # an instruction, and the names it gives are the labels to click (LibreOffice, Delete).
    # So too for an English question after a Chinese how-to (怎么给对象加动画效果？ then How do I
    # preview it?: not "View" of Choose View - Animation). A Chinese follow-up keeps the
    # answer's names: measured, the rule changed as many of those turns for the worse as
    # for the better.
    asked = asked or lang
    how_to = bool(_HOW_TO_EN.match(last)) if lang == "en" else asked == "en" and bool(ASKS_HOW.search(last))
    if answer and not asks_value and not how_to:
        # What the answer gave as the answer, else the first new entity in the answer's own
        # order (its first sentence is the best match); 它们 after a list is the list's topic.
        out += _answer_names(answer, last, lang, cues)[:1]
    out += ents[:1]
    if asked == "en":
        # An English question does not take a Chinese word for its pronoun (Can I hide 标签…,
        # Can I undo 文件… after a Chinese question): with no Latin referent it is searched
        # with the previous question instead.
        out = [r for r in out if not any(map(is_cjk, r))]
    return list(dict.fromkeys(out))


# A question asking how to do something (How do I…?): its answer is an instruction.
_HOW_TO_EN = re.compile(r"\s*how\s+(?:do|can|should|would)\s+(?:i|you|we|one)\b", re.I)
# A question asking what a named thing is (What is Impress Remote?), and the thing; not what
# it / this is, nor the name, default or purpose of something.
_DEFINES = re.compile(r"\s*what\s+(?:is|are)\s+(?!the\s+(?:name|default|difference|purpose|command|option)\b)"
                      r"(?!(?:it|this|that|these|those|they)\b)"
                      r"(?:(?:the|a|an)\s+)?([A-Za-z][\w.+\-]*(?:\s+[A-Za-z][\w.+\-]*){0,3}?)"
                      r"(?=\s*(?:[?,;]|$|\s+(?:and|in|on|for|of|used|called)\b))", re.I)


def _answer_phrase(answer: str, question: str, lang: str) -> str | None:
    """The answer phrase of an earlier answer (:func:`app.keyphrase.key_span`) when it is a
    short name or term the question did not state, else None."""
    from .keyphrase import key_span

    span = key_span(answer, question, lang, clause=False)
    if span is None:
        return None
    phrase = answer[span[0]:span[1]].strip(" \t\"'“”「」")
    if not 2 <= len(phrase) <= 30 or phrase.lower() in question.lower() or phrase.replace(".", "").isdigit() \
            or re.search(r"[、，,；;：:。]", phrase):
        return None
    return phrase


_TIME_WORD = re.compile(r"\d|^(年[初底中末]|[上下]半年|今年|去年|明年|当年|那年|当时)$")


def _topic_terms(question: str, drop: str) -> list[str]:
    """The content words of a question that say what it is about, without times, numbers
    and question words (英伟达在2022年底推出了哪些特供版芯片 -> 伟达, 推出, 特供, 芯片: jieba's
    own split of 英伟达)."""
    import jieba

    from .text import _STOPWORDS

    out = [w for w in jieba.lcut(question) if len(w) >= 2 and w not in _STOPWORDS and w not in drop
           and any(ch.isalnum() for ch in w) and not _TIME_WORD.search(w) and not _QUESTION_WORD_ZH.search(w)]
    return list(dict.fromkeys(out))


_DIGITS = re.compile(r"\d+(?:\.\d+)?")
# A span that opens or closes on a particle or a demonstrative is no phrase of its own
# (了文心一言, 上海的).
_LOOSE_ENDS = "的了地得在这那"


def _word_bounds(text: str) -> set[int]:
    """Where words start and end in ``text``: jieba's cuts, and every change between
    digits, Latin letters and Chinese (jieba cuts 2022年英伟达 as 2022|年英|伟达)."""
    import jieba

    bounds, at = {0, len(text)}, 0
    for tok in jieba.lcut(text):
        at += len(tok)
        bounds.add(at)
    bounds.update(i for i in range(1, len(text)) if _char_kind(text[i - 1]) != _char_kind(text[i]))
    return bounds


def _noun_ends(text: str) -> set[int]:
    """Where jieba's nouns end in ``text``."""
    import jieba.posseg as pseg

    ends, at = set(), 0
    for word, flag in pseg.lcut(text):
        at += len(word)
        if flag.startswith("n"):
            ends.add(at)
    return ends


# A condition, not a thing: 如果每年的利率都不一样, 要是不关文件直接强制弹出, if I only want….
_CONDITION_START = re.compile(r"^(?:如果|假如|假设|要是|万一|若|一旦|当)|^(?:if|when|once|after|before|i|we|you|my)\b",
                              re.I)


def _is_condition(phrase: str) -> bool:
    """Whether an ``X呢`` / ``and X?`` phrase states a situation for the previous question
    (it opens with 如果/要是/if, or negates: 还是没反应呢) rather than naming a thing."""
    return bool(_CONDITION_START.match(phrase)) or "不" in phrase or "没" in phrase


def _is_action(phrase: str) -> bool:
    """Whether a Chinese ``X呢`` phrase is an action (取消保留, 打开之后, 要高画质列印它): it
    has a verb and does not end on a noun (回弹键 ends on its noun 键), so it cannot stand
    in for a noun of the previous question."""
    import jieba.posseg as pseg

    words = pseg.lcut(phrase)
    if not words:
        return False
    head = words[-1]
    # A one-character head after a noun is a noun's head that jieba may tag otherwise (内核模块包).
    noun_end = head.flag.startswith("n") or len(head.word) == 1 and len(words) > 1 and words[-2].flag.startswith("n")
    return not noun_end and any(w.flag == "v" for w in words)


def _char_kind(ch: str) -> str:
    """d(igit), l(atin letter), c(hinese) or o(ther)."""
    return "d" if ch.isdigit() else "l" if ch.isascii() and ch.isalpha() else "c" if is_cjk(ch) else "o"


def _parallel_span(phrase: str, last: str) -> tuple[int, int] | None:
    """Where the previous question writes a variant of ``phrase``: a span on word
    boundaries of about the same length, not containing or contained in the phrase, that
    shares its first or last character and at least half of its characters (numbers count
    as alike: 填 2 ~ 填 4; 从左往右拖 ~ 从右向左拖), or a Chinese compound of the same length
    and head (its last character: 回弹键 ~ 慢速键). None when the phrase is there already, when
    no span qualifies, or when two different spans are equally good."""
    compact = phrase.replace(" ", "")
    key = _DIGITS.sub("0", compact)
    if not 2 <= len(key) <= 8 or not any(is_cjk(ch) for ch in key) or compact in last.replace(" ", ""):
        return None
    last = last[:300]  # a long earlier turn: its opening is what a variant refers to
    bounds = sorted(_word_bounds(last))
    noun_ends = _noun_ends(last)
    best: list[tuple[float, int, int, int]] = []
    for a, start in enumerate(bounds):
        for end in bounds[a + 1:]:
            span = last[start:end]
            other = _DIGITS.sub("0", span.replace(" ", ""))
            if len(other) > len(key) + 1:
                break
            if len(other) < max(2, len(key) - 1) or span.strip() != span or span[0] in _LOOSE_ENDS \
                    or span[-1] in _LOOSE_ENDS or _QUESTION_WORD_ZH.search(span) \
                    or any(c in span for c in "，,。？?！!；;：:“”\"'「」（）()") \
                    or span.replace(" ", "") in compact or not (other[0] == key[0] or other[-1] == key[-1]):
                continue
            shared = sum(min(other.count(ch), key.count(ch)) for ch in set(key))
            # A Chinese compound ends on its head noun: 回弹键 is a variant of 慢速键 (another
            # key); 第一次打包 ends on a verb.
            same_head = len(other) == len(key) >= 3 and other[-1] == key[-1] and is_cjk(key[-1]) \
                and all(map(is_cjk, other)) and end in noun_ends
            if shared * 2 >= max(len(key), len(other)) or same_head:
                best.append((shared / max(len(key), len(other)), abs(len(other) - len(key)), start, end))
    if not best:
        return None
    # The most alike, then the closest in length (左对齐 over 对齐 for 右对齐).
    best.sort(key=lambda b: (-b[0], b[1]))
    if len(best) > 1 and best[1][:2] == best[0][:2]:
        return None
    return best[0][2], best[0][3]


# 什么别名 / 哪个命令 / 哪种格式: the kind of thing a question asks for.
_ASKED_KIND = re.compile(r"(?:什么|哪一?[个种款类条项本份部家位])\s*([\u4e00-\u9fff]{2,4})")
# 这个/那个/该/此 before the kind (not the 该 of 应该, the 此 of 因此).
_DEMONSTRATIVE = r"(?:这个|那个|这种|那种|这一|(?<![应活])该|(?<![因由从彼如])此)\s*"


# Kinds a Chinese name answers (公司 -> 华为), whatever Latin terms the answer also writes.
_NAMED_KINDS = {"公司", "企业", "厂商", "机构", "组织", "国家", "人物", "城市", "大学"}


def _answer_names(answer: str, last: str, lang: str, cues: set) -> list[str]:
    """What an earlier answer named that its question did not: its answer phrase (dh_make
    for "which command"), else its first new Latin name, else its first new Chinese noun.
    A list's phrase is a clause of items, so a list answer gives no phrase."""
    in_question = last.lower()
    phrase = _answer_phrase(answer, last, lang) if Cue.LIST not in cues else None
    if phrase and (detect_language(answer) == "en" or " " in phrase and not any(map(is_cjk, phrase))) \
            and not _english_names(phrase):
        phrase = None  # English words that are no name (double-click, can convert two-dimensional)
    latin = [e for e in _entities(answer, latin=True)
             if e.lower() not in in_question and e.lower() not in _EN_QUESTION_WORDS and not e.isdigit()]
    return [phrase] if phrase else latin or [e for e in _entities(answer, False) if e.lower() not in in_question]


def _named_by_answer(question: str, last: str, last_answer: str | None, lang: str) -> str | None:
    """``question`` with 这个/那个/该 + a kind the previous question asked for (什么别名 ->
    这个别名) replaced by what the previous answer named (dquilt别名); None when the question
    has no such phrase or the answer names nothing."""
    if lang != "zh" or detect_language(last) != "zh":
        return None
    answer = _answer_text(last_answer)
    if not answer:
        return None
    import jieba

    cues = question_cues(last, lang)
    if cues & {Cue.YEAR, Cue.TIME, Cue.NUMBER, Cue.MONEY, Cue.UNIT, Cue.LIMIT}:
        return None  # 什么时候 asks for a time: 那个时候 is that time, not a thing the answer named
    for m in _ASKED_KIND.finditer(last):
        # The kind is the first word after the question word (什么别名 -> 别名, 哪个目录下 -> 目录).
        kind = jieba.lcut(m.group(1))[0]
        if len(kind) < 2:
            continue
        d = re.search(_DEMONSTRATIVE + re.escape(kind), question)
        if not d:
            continue
        names = _answer_names(answer, last, lang, cues)
        if kind in _NAMED_KINDS:  # 这个公司 is a company the answer names (华为), not its Latin term
            names = [e for e in _entities(answer, False) if e not in last] or names
        if not names:
            return None
        name = names[0]
        joined = name + kind if is_cjk(name[-1]) else f"{name} {kind}"
        return question[:d.start()] + joined + question[d.end():]
    return None


def resolve_followup(question: str, history: Sequence[Any] | None) -> str:
    """Rewrite a follow-up into a standalone question (or return it unchanged): the
    likeliest of :func:`followup_candidates`."""
    return followup_candidates(question, history)[0]


def followup_candidates(question: str, history: Sequence[Any] | None) -> list[str]:
    """Standalone rewrites of a follow-up, the likeliest first (``[question]`` when it is
    not one).

    Five rules, each narrow on purpose (a standalone question must never be rewritten):
    a bare ``X呢`` / ``what about X`` (also 反过来X呢, 如果是X呢) puts X in place of the
    previous question's variant of it (填 2 呢 after …填 4…: :func:`_parallel_span`) or its
    entity of X's kind, or, when it has neither or X is an action (打开之后), asks about X in
    the previous question's topic, and a situation (如果…呢, 还是没反应呢, and if I…?) is
    searched with the previous question; 这个/那个 + the kind the previous question asked for (这个别名 after 什么别名) is
    what the previous answer named (:func:`_named_by_answer`); a leading subject
    pronoun (它/他/其, it/they) is replaced by its referent (:func:`_referents`: the entity the
    previous answer named, or the previous question's topic; one rewrite per candidate); a
    very short question without any entity of its own (为什么？), or one that asks for another
    means and names nothing else (有没有更快的方法？ is there an easier way?), is searched with
    the previous one; 这么做 / do this is searched with the previous question, or the one
    before it (one candidate each). A continuation (后来呢？) is searched like a short
    question; :meth:`app.Assistant.prepare` answers it with what follows the previous quote.
    """
    turns = previous_turns(history)
    if not turns:
        return [question]
    last, last_answer = turns[-1]
    # The previous turn may itself have been a follow-up: resolve it first, against the few
    # turns before it (a bounded window: a long chat does not recurse through every turn).
    if len(turns) >= 2:
        resolved_last = resolve_followup(last, turns[-4:-1])
        if resolved_last != last and len(resolved_last) <= 200:
            last = resolved_last
    # The rules are written in Simplified script; a conversation in Traditional (這個, 為什麼,
    # 誰) is read in Simplified, and a rewrite comes out in Simplified (retrieval folds the
    # script anyway). A question that is not rewritten is returned as asked.
    q = simplified_chars(question.strip())
    last = simplified_chars(last)
    last_answer = simplified_chars(last_answer) if isinstance(last_answer, str) else last_answer
    lang = detect_language(q)
    m = (_WHAT_ABOUT_ZH if lang == "zh" else _WHAT_ABOUT_EN).match(q)
    if m and not (lang == "zh" and _QUESTION_WORD_ZH.search(m.group(1))) \
            and not (lang == "en" and _QUESTION_START_EN.match(m.group(1).strip())) \
            and m.group(1).strip().lower() not in _CONTINUATIONS and m.group(1).strip() not in _SIDE_WORDS:
        new_entity = m.group(1).strip()
        # Windows 上呢 after …在 Linux 上存放在哪个目录: the entity that stands before the same
        # locative in the previous question is the one swapped.
        located = _LOCATED.fullmatch(new_entity)
        if located:
            base, where = located.group(1), located.group(2)
            before = re.search(rf"([A-Za-z][\w.+\-]*|[\u4e00-\u9fff]{{2,6}})(\s*){where}", last)
            if before and before.group(1) != base and _is_latin(base) == _is_latin(before.group(1)):
                return [last[:before.start(1)] + base + last[before.end(1):]]
            new_entity = base
        # A variant of a phrase the previous question wrote (填 2 呢 after …Abs 参数填 4…,
        # 从左往右拖呢 after …从右向左拖…): the variant takes its place.
        variant = _parallel_span(new_entity, last)
        if variant:
            return [last[:variant[0]] + new_entity + last[variant[1]:]]
        if _is_condition(new_entity):
            # A new situation for the previous question (还是没反应呢？): searched together.
            return [f"{last} {q}"]
        # Swap the previous question's entity of the same kind for the new one (not for an
        # action: 打开之后呢):
        # 那H20呢 after A800是哪家公司推出的 -> H20是哪家公司推出的.
        old = _entities(last, latin=_is_latin(new_entity))
        # An English phrase does not replace a Chinese word (安装时配置the default key size…).
        if old and old[0] != new_entity and old[0] in last and not (lang == "zh" and _is_action(new_entity)) \
                and not (lang == "en" and any(map(is_cjk, old[0]))):
            return [last.replace(old[0], new_entity, 1)]
        # Nothing to swap: what the text says about the new entity, in the same topic
        # (not the old question again, which would find the old answer).
        if lang == "zh":
            topic = _topic_terms(last, new_entity)
            return [f"关于{new_entity}：{'、'.join(topic)}" if topic else f"关于{new_entity}"]
        return [f"What about {new_entity}? ({last})"]
    # 这个别名 after 手册建议给它设一个什么别名？ is the alias the answer gave (dquilt).
    named = _named_by_answer(q, last, last_answer, lang)
    if named:
        return [named]
    # A subject pronoun (它的中文全称是什么, it), or one anywhere in a question that names
    # nothing of its own (发布它的是哪个机构).
    ref = back_reference(q)
    if ref and ((lang == "zh" and ref[0] == 0) or not (
            _names_named_entity(q) if lang == "zh" else _names_own_entity(q, lang))):
        at, end, person = ref
        refs = _referents(last, last_answer, person=person, asked=lang)
        if refs:
            return [q[:at] + r + q[end:] for r in refs]
    # Short, or pointing back (为什么这么叫？), and naming nothing of its own: search it with
    # the previous question.
    short = (len(q) <= 8 or bool(_POINTING_BACK.search(q))) if lang == "zh" else len(q.split()) <= 3
    if short and not _names_own_entity(q, lang) or _COMPARED_BACK.search(q) and not _asks_more(q, lang):
        return [f"{last} {q}"]
    # 这么做 / do this stands for the previous question's action, whatever else the question
    # names (testing 系统上适合这么做吗？ after 怎样让 Debian 系统自动升级？). The action may be
    # a turn or two back (a question about it came in between): each is a candidate.
    if _PRO_VERB.search(q):
        earlier = [simplified_chars(t[0]) for t in reversed(turns[-3:-1])]
        return list(dict.fromkeys(f"{t} {q}" for t in [last, *earlier]))
    return [question]


def search_context(question: str, history: Sequence[Any] | None) -> str | None:
    """What to search with, besides the question itself, for a question in a conversation
    that the rules leave as asked (这样会丢东西吗？ DNS 那一栏要怎么弄？ Is there somewhere I
    can chat instead?): the previous question (itself resolved) and this one. The question is
    still answered on its own words (:meth:`app.Assistant.prepare` keeps whichever search
    answers it better), so the earlier turn widens the search without its words favouring
    the earlier answer, and a question that is standalone keeps its own passages unless the
    wider search answers it better. None when there is no earlier turn.

    Every such question, not only one that points back with 这/那/this/that: held out, the
    unread conversations gained 5 turns and lost 1 (README "Held out", fifteenth session).
    """
    turns = previous_turns(history)
    if not turns:
        return None
    q = simplified_chars(question.strip())
    last = turns[-1][0]
    if len(turns) >= 2:
        resolved_last = resolve_followup(last, turns[-4:-1])
        if len(resolved_last) <= 200:
            last = resolved_last
    return f"{simplified_chars(last)} {q}"


_SUBQUESTION_END = re.compile(r"(?<=[？?])\s*|,\s+and\s+(?=(?:what|which|when|who|where|how|why)\b)", re.I)


def back_reference(part: str) -> tuple[int, int, bool] | None:
    """Where a part of a question points back with a pronoun: (start, end, refers to a
    person) of its first 它/其/他们 or it/its/they; None when it has none."""
    if detect_language(part) == "zh":
        import jieba

        at = 0
        for tok in jieba.lcut(part):
            if tok in _PRONOUNS_ZH:
                return at, at + len(tok), tok[0] in "他她"
            at += len(tok)
        return None
    m = _PRONOUN_EN.search(part)
    return (m.start(), m.end(), False) if m else None


def part_rewrites(part: str, earlier: str, earlier_answer: str | None) -> list[str]:
    """Rewrites of a later part of one question whose pronoun points back at an earlier
    part, the likeliest referent first (:func:`_referents`: what the earlier part's answer
    names, then its topic); [] when the part has no pronoun or nothing to point at.

    Within one question a pronoun always points back, so unlike a follow-up turn a part
    that names something of its own (its HTML documentation) is rewritten too.
    """
    ref = back_reference(part)
    if ref is None:
        return []
    at, end, person = ref
    return [part[:at] + r + part[end:]
            for r in _referents(earlier, earlier_answer, person=person, asked=detect_language(part))]


# A question comparing two things: A 和 B（在…上）有什么区别 / A与B的不同是什么 /
# what is the difference between A and B (in …) / how does A differ from B. The Chinese
# pattern is what follows the joining word (和/与/跟/同), tried at each place jieba cuts one
# out as a word of its own (not the 与 of 参与, the 同 of 不同).
_COMPARE_REST_ZH = re.compile(
    r"\s*(?P<b>[^，,。；;？?、]+?)\s*(?:相比较?|比较|比起来)?\s*(?P<topic>(?:在[^，,。；;？?]+?(?:上|方面))?)\s*"
    r"(?:之间|两者)?的?\s*(?:有|存在)?\s*(?:什么|哪些|何|啥)?(?:样的)?\s*(?:区别|不同|差别|差异|异同)"
    r"(?:是什么|在哪里?|有哪些)?\s*[？?]?\s*$")
_COMPARE_PREFIX_ZH = re.compile(r"^(?:请问|我想知道)?")
_DIFFERENCE_ZH = re.compile(r"区别|不同|差别|差异|异同")
_JOINING = {"和", "与", "跟", "同"}
_NO_SIDE = re.compile(r"^(?:那|这|它|它们|他们|她们|两者|二者|前者|后者)$|、|为什么|" + _QUESTION_WORD_ZH.pattern)
_COMPARE_EN = re.compile(
    r"^(?:what(?:'s| is| are) the )?(?:main |key )?differences? between (?P<a>.+?) and (?P<b>.+?)"
    r"(?P<topic>\s+(?:in|for|when it comes to|regarding|as to) .+?)?\s*\??\s*$"
    r"|^how (?:does|do|is|are) (?P<a2>.+?) (?:differ|different) from (?P<b2>.+?)"
    r"(?P<topic2>\s+(?:in|for|when it comes to|regarding|as to) .+?)?\s*\??\s*$", re.I)


def _comparison_zh(question: str) -> tuple[str, str, str] | None:
    """(side A, side B, what they are compared on) of a Chinese comparison, or None. Read
    in Simplified characters (one for one, so the spans are the question's own)."""
    import jieba

    text = simplified_chars(question)
    if not _DIFFERENCE_ZH.search(text):
        return None  # most questions: no need to cut words
    start = _COMPARE_PREFIX_ZH.match(text).end()
    at = 0
    for tok in jieba.lcut(text):
        if tok in _JOINING and at > start:
            m = _COMPARE_REST_ZH.match(text, at + len(tok))
            if m:
                a = question[start:at].strip()
                b = question[m.start("b"):m.end("b")].strip()
                if min(len(a), len(b)) >= 2 and not any(_NO_SIDE.search(simplified_chars(x)) for x in (a, b)):
                    return a, b, question[m.start("topic"):m.end("topic")].strip()
                return None
        at += len(tok)
    return None


def comparison_parts(question: str) -> list[str]:
    """The two sides of a question that compares two things, each with what they are
    compared on: ``DD 和 DM 在上传权限上有什么区别？`` -> [``DD 在上传权限上``, ``DM 在上传权限上``];
    [] for any other question. Each side is searched for and answered on its own, so the
    answer quotes both (the difference is what the two sentences say side by side)."""
    q = question.strip()
    if detect_language(q) == "zh":
        found = _comparison_zh(q)
        if found is None:
            return []
        a, b, topic = found
    else:
        m = _COMPARE_EN.match(q)
        if not m:
            return []
        groups = m.groupdict()
        a = (groups.get("a") or groups.get("a2") or "").strip()
        b = (groups.get("b") or groups.get("b2") or "").strip()
        topic = (groups.get("topic") or groups.get("topic2") or "").strip()
    if not a or not b or a == b:
        return []
    if "的" in b and "的" not in a:  # 英伟达和AMD的芯片: 英伟达的芯片, AMD的芯片
        at = b.index("的")
        a += (" " if b[at - 1:at].isspace() else "") + b[at:]
    join = " " if topic and not (is_cjk(a[-1]) and is_cjk(topic[0])) else ""
    return [f"{a}{join}{topic}", f"{b}{join}{topic}"]


def subquestion_parts(question: str, limit: int = 3) -> list[str]:
    """The parts of a question that asks several things, as written (a later part may
    still say 它 / its); the two sides of a comparison (:func:`comparison_parts`); one
    part: [question]."""
    sides = comparison_parts(question)
    if sides:
        return sides
    parts = [p.strip() for p in _SUBQUESTION_END.split(question) if p and len(p.strip()) >= 4]
    # Two Chinese questions joined by a comma, each with its own question word
    # (给 quilt 设置一个什么别名，这个别名使用哪个配置文件？).
    parts = [c for p in parts for c in _comma_questions(p)]
    return parts[:limit] if len(parts) >= 2 else [question]


def split_subquestions(question: str, limit: int = 3) -> list[str]:
    """Split a question that asks several things (…哪一年?它…又是在哪一年?) into standalone
    parts; later parts are resolved against earlier ones (它 -> CUDA). One part: [question].

    This resolves against the earlier parts' words only; :meth:`app.Assistant.prepare` also
    tries the entity the earlier part's answer names (which tool…, and which package
    provides its documentation? -> debmake)."""
    parts = subquestion_parts(question, limit)
    if len(parts) < 2 or comparison_parts(question):
        return parts  # the sides of a comparison stand alone (stable / testing)
    resolved: list[str] = []
    for part in parts:
        resolved.append(resolve_followup(part, resolved) if resolved else part)
    return resolved


def _comma_questions(part: str) -> list[str]:
    """A Chinese question split at its commas when every piece asks something of its own
    (a question word in each, and at least four characters); else [part]."""
    pieces = [p.strip() for p in re.split(r"[，,]", part)]
    if len(pieces) < 2 or detect_language(part) != "zh" or any(
            len(p) < 4 or not _QUESTION_WORD_ZH.search(simplified_chars(p)) for p in pieces):
        return [part]
    if any(_EMBEDDING.match(simplified_chars(p)) for p in pieces[:-1]):
        return [part]  # 想知道…是谁，应该看哪个文件: the first piece says why, the last asks
    return pieces


# A clause that embeds its question word in a purpose or condition (想知道谁…, 如果…哪个):
# it is not a question of its own.
_EMBEDDING = re.compile(r"^(我|您|你)?(想|要|需要|不)(知道|了解|确认|弄清|搞清)|^(如果|假如|假设|为了|若|要是)")

_DEICTIC_ZH = re.compile(r"[它他她其该此这那]")


def may_depend_on_history(question: str, history: Sequence[Any] | None) -> bool:
    """Whether a question could need the conversation to be understood (so an LLM may
    rewrite it): the offline rules rewrite it, or it has a pronoun or demonstrative, or it
    is short. A question naming its own entity without any of these is standalone and is
    never sent for rewriting."""
    if not previous_turns(history):
        return False
    if resolve_followup(question, history) != question:
        return True
    q = question.strip()
    if detect_language(q) == "zh":
        return bool(_DEICTIC_ZH.search(simplified_chars(q))) or len(q) <= 8
    return bool(_PRONOUN_EN.search(q) or re.search(r"\b(this|that|these|those)\b", q, re.I)) or len(q.split()) <= 3
