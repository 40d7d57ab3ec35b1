"""Answers beyond the article's own gold set: both Chinese scripts, English questions over
Chinese text, conversations, the answer phrase, and the leave-one-corpus-out fitter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.answer import NOT_FOUND, SentenceIndex
from app.crosslingual import CrossLingual, cedict, lookup_forms, stem, stems
from app.cues import counted_in_words
from app.followup import previous_turns, resolve_followup
from app.keyphrase import _code_line, key_span, kind_span
from app.passages import Chunk
from app.retrieval import LexicalIndex
from app.text import fold, normalize, to_traditional, tokenize
from eval.dataset import load_dataset
from eval.fit import Outcome, best_threshold, rates
from eval.metrics import Row, abstention_curve, score_question

from .conftest import ROOT, ingested_assistant, write_config

NOT_FOUND_ZH = NOT_FOUND["zh"]
TRADITIONAL = "華為的昇騰系列晶片已經迭代了數輪。安裝軟體套件之前，請先閱讀說明文件。"


# -- one language, two scripts ----------------------------------------------------------------

def test_fold_maps_traditional_to_simplified_and_keeps_latin():
    assert fold("軟體與檔案") == "软件与文件"
    assert fold("apt-get install Foo_1.0.dsc") == "apt-get install foo_1.0.dsc"
    assert tokenize("安裝軟體") == tokenize("安装软件")
    # The eval's matching folds too: a Simplified gold answer matches a Traditional quote.
    assert normalize("無法正常工作") == normalize("无法正常工作")


def test_taiwan_software_terms_fold_to_the_mainland_ones():
    """Regression: OpenCC's round trip read 投影片 (slide) as 投 + 视频 (video) and 儲存格
    (cell) as 保存 + 格, so a mainland 幻灯片 or 单元格 never met the Taiwan text."""
    assert fold("投影片") == fold("幻灯片") == "幻灯片"
    assert tokenize("在儲存格中按一下") == tokenize("在单元格中点击")
    assert fold("功能表") == fold("菜单") and fold("工具列") == fold("工具栏")
    # 指令 is a command in Taiwan but an instruction on the mainland: it stays apart.
    assert fold("忽略以上指令") == "忽略以上指令"
    # A mainland question is embedded in Taiwan wording over a Taiwan corpus.
    assert to_traditional("怎么删除幻灯片？") == "怎麼刪除投影片？"


def test_a_mainland_question_finds_the_taiwan_term(project):
    answer = ingested_assistant(project, {"impress_tw.txt": (
        "若要刪除投影片，請在投影片瀏覽中選取投影片，然後按 Delete 鍵。\n"
        "若要變更儲存格的背景，請選擇「格式 - 儲存格」。\n德國正在建造名為JUPITER的超算中心。\n")}
    ).ask("怎么删除幻灯片？")
    assert answer.found and "按 Delete 鍵" in answer.text, answer.text


def test_simplified_question_over_traditional_text_quotes_the_traditional(project):
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    (project / "corpus" / "zh_tw.txt").write_text(TRADITIONAL + "\n德國正在建造名為JUPITER的超算中心。\n",
                                                 encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False)
    # (软件包 would not do here: Taiwan writes 軟體套件, and a two-sentence corpus lacks 软件包.)
    assistant = Assistant(cfg)
    answer = assistant.ask("安装软件之前要先做什么？")
    assert answer.found, answer.text
    assert "閱讀說明文件" in answer.text  # verbatim, in the document's own script
    assert "阅读" not in answer.text
    # The corpus is Traditional, so the question is embedded in Traditional script.
    from app.text import to_traditional

    assert assistant.sentences.traditional
    q = assistant.prepare("安装软件之前要先做什么？")
    assert np.allclose(q.query_vector, assistant.embedder.embed_query(to_traditional("安装软件之前要先做什么？")))
    # The retriever embeds that way too when called without a vector (Assistant.retrieve:
    # the LlamaIndex retriever, the baselines).
    assert np.allclose(assistant.retriever.embed_query("安装软件之前要先做什么？"), q.query_vector)


def test_a_simplified_corpus_is_not_read_as_traditional(assistant):
    from app.text import is_traditional

    # The article writes 昇腾 (昇 is a Traditional character too): one character is a name.
    assert not assistant.sentences.traditional
    assert not is_traditional("华为的昇腾910B") and is_traditional("華為的昇騰系列晶片")


# -- English questions over Chinese text ------------------------------------------------------

def _lexical(*texts: str) -> LexicalIndex:
    chunks = [Chunk(id=f"c{i}", source="doc.txt", text=t, char_start=0, char_end=len(t), line_start=1,
                    line_end=1) for i, t in enumerate(texts)]
    return LexicalIndex(chunks)


def test_expansion_uses_the_corpus_glossary_pinyin_and_the_dictionary():
    lex = _lexical("华为的“备胎”——昇腾(Ascend)系列AI芯片已经迭代了数轮。", "百度自研的“昆仑芯”也是一家公司的芯片。")
    x = CrossLingual(lex)
    assert fold("昇腾") in x.glossary()["ascend"]
    terms = x.expand("Which company makes the Kunlun chip? Is it like Ascend?")
    assert "昆仑" in terms            # transliteration
    assert "芯片" in terms and "公司" in terms  # CC-CEDICT glosses
    assert fold("昇腾") in terms       # the corpus's own pair
    # Only terms the corpus has: an expansion never points at text that is not there.
    assert all(lex.in_text(t) or lex.known(t) for t in terms)
    assert stem("companies") == "company" and stem("chips") == "chip"


def test_expansion_finds_the_dictionary_form_and_translates_words_the_corpus_also_writes():
    lex = _lexical("本计划的名字的发音为 Deb'-ee-en。", "以 3.0 (quilt) 格式创建一个源码包。",
                   "Making a Debian Package, the package format manual.")
    x = CrossLingual(lex)
    # pronounced -> pronounce (the crude stem gives pronounc) -> 发音.
    assert stems("pronounced")[:2] == ["pronounc", "pronounce"] and "发音" in x.expand("How is it pronounced?")
    # "format" occurs in the corpus's one English line, but it is a dictionary word: the
    # Chinese text says 格式.
    assert "格式" in x.expand("Which format does it use?")
    # A Latin name the corpus uses, and no dictionary word, stays untranslated.
    assert x.expand("What is Debian?") == []


def test_expansion_looks_up_the_noun_of_an_ize_verb_and_the_verb_of_an_agent_noun():
    lex = _lexical("安装程序支持超过80种语言的本地化安装。")
    x = CrossLingual(lex)
    # localized -> localization -> 本地化 (the dictionary glosses the noun, not the verb).
    assert "本地化" in x.expand("How many languages is the installer localized into?")
    assert lookup_forms("installers")[-1] == "install" and "localization" in lookup_forms("localized")
    assert "compile" in lookup_forms("compiler") and "localisation" in lookup_forms("localised")
    # A short stem is no verb: number, folder and master are no numb, fold, mast.
    assert lookup_forms("number") == ["number"] and lookup_forms("folder") == ["folder"]


def test_expansion_leaves_out_words_that_carry_no_topic():
    lex = _lexical("您应该在安装之中使用这个工具。")
    x = CrossLingual(lex)
    terms = x.expand("Which tool should I use during the installation?")
    assert "工具" in terms and "应该" not in terms and "之中" not in terms
    # Capitalised inside the question, a function word is a name: the month May.
    lex = _lexical("该版本于五月发布。")
    assert "五月" in CrossLingual(lex).expand("What was released in May?")
    assert "五月" not in CrossLingual(lex).expand("May I see what was released?")


def test_latin_names_in_a_chinese_question_are_read_as_the_corpus_writes_them():
    lex = _lexical("华为的“备胎”——昇腾(Ascend)系列AI芯片已经迭代了数轮。", "百度自研的“昆仑芯”也是一家公司的芯片。")
    x = CrossLingual(lex)
    # Pinyin translates a name; one the corpus writes needs no translation, and a
    # dictionary gloss (company -> 公司) is no name.
    assert x.names("Baidu 和 Ascend 的芯片") == {"baidu": ["百度"]}
    assert x.names("Company 的芯片") == {}
    assert x.name_terms("graphcore") == []


def test_a_chinese_question_about_a_latin_name_the_corpus_lacks_abstains(assistant):
    # The corpus never writes Graphcore, in Latin or in Chinese: it does not speak of it.
    assert not assistant.ask("Graphcore 自研的芯片叫什么？").found
    # Baidu it writes as 百度: the question is read as 百度自研的芯片叫什么.
    answer = assistant.ask("Baidu 自研的芯片叫什么？")
    assert answer.found and "昆仑芯" in answer.text, answer.text


def test_a_word_under_a_one_character_modifier_is_known_and_found():
    from app.answer import _has_word

    # 原作者 (original author) is answered by a sentence about the 作者; 作者 is a content
    # word (the article's "author" questions made it a stop word once).
    assert _has_word("它们的作者都记录在文件中", "原作者") and not _has_word("它们的维护者", "原作者")
    assert "作者" in tokenize("软件包的原作者是谁")


def test_a_path_the_corpus_never_writes_counts_against_an_english_question(assistant):
    def unknown_nouns(question: str) -> float:
        q = assistant.prepare(question)
        options = assistant.answerer.candidates(q.resolved, q.query_vector, q.passages, q.language, q.expansion)
        return options[0].features["unknown_nouns"]

    # English words are no names, but a file path or identifier is.
    assert unknown_nouns("Which file configures the chip, /etc/ascend/npu.conf?") == 1.0
    assert unknown_nouns("Which file configures the chip?") == 0.0


def test_a_word_that_is_neither_english_nor_pinyin_names_something_the_corpus_lacks(assistant):
    from app.crosslingual import is_english_word, is_pinyin

    assert is_english_word("newer") and is_english_word("supercomputing") and is_english_word("recognition")
    assert not is_english_word("uupdate") and not is_english_word("sbuild")
    # A common prefix on an English word is English (redistributing); de- is not taken, as
    # tool names start so (debuild).
    assert is_english_word("redistributing") and is_english_word("preinstalled")
    assert not is_english_word("debuild") and not is_english_word("reportbug")
    assert not any(is_english_word(w) for w in ("renice", "prelink", "unshare"))  # tool names from short words
    assert is_pinyin("pingtouge") and not is_pinyin("sbuild")
    x = assistant.answerer.crosslingual
    # Groq is no English word, no pinyin and not in the article; Nvidia and CUDA the article
    # writes; Pingtouge is the pinyin of its 平头哥; image-recognition is two words. (A name
    # made of English words, Graphcore, passes for English: a known limit.)
    assert x.unknown_name("Groq")
    assert not any(x.unknown_name(w) for w in ("Nvidia", "CUDA", "Pingtouge", "image-recognition", "chip"))
    assert not assistant.ask("Which chips does Groq sell in China?").found


def test_an_acronym_of_words_the_corpus_writes_is_a_known_name(project, assistant):
    """A licence the text names in full (GNU Free Documentation License) is asked about as
    GFDL: that is no name the corpus lacks. Letters that only begin lower-case or
    far-apart words spell nothing."""
    from app import Assistant
    from app.config import AnswerMode, load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "licence.txt").write_text(
        "本手册依照 GNU Free Documentation License 1.2 发布。\n\n"
        "组合作品只需包含本授权的一份副本。\n\ngood fine day, and a great rest.\n", encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    answerer = Assistant(cfg, embedder=assistant.embedder)._answerers[AnswerMode.EXTRACTIVE]
    assert answerer.lexical.spells_out("GFDL") == "GNU Free Documentation License"
    assert answerer.lexical.spells_out("fdl") == "Free Documentation License"
    assert answerer.lexical.spells_out("GFD") == "GNU Free Documentation"
    assert answerer.lexical.spells_out("GFDA") is None and answerer.lexical.spells_out("GFR") is None
    assert answerer.lexical.spells_out("GF") is None  # too short to spell anything
    assert not answerer.crosslingual.unknown_name("GFDL")
    assert answerer._unknown_names("把几个 GFDL 文件组合时要附几份？", "zh", set()) == 0
    assert answerer._unknown_names("把几个 GPLV 文件组合时要附几份？", "zh", set()) == 1


def test_a_part_of_a_question_inherits_what_the_whole_question_names(assistant):
    # The second part (什么时候推出的？) names nothing the article lacks; the whole question
    # asks about Graphcore, which it never mentions, so no part may be answered, and 它 is
    # not bound to whatever the unanswered first part's best sentence names.
    question = "Graphcore 的芯片叫什么，它是什么时候推出的？"
    q = assistant.prepare(question)
    assert len(q.subquestions) == 2
    sub = "它是什么时候推出的？"
    vec = assistant.embedder.embed_query(sub)
    alone = assistant.answerer.candidates(sub, vec, q.passages, q.language, q.expansion)
    inside = assistant.answerer.candidates(sub, vec, q.passages, q.language, q.expansion, whole=question)
    assert alone[0].features["unknown_nouns"] == 0.0 and inside[0].features["unknown_nouns"] == 1.0
    assert not assistant.ask(question).found


def test_a_number_of_the_question_that_the_text_lacks_counts_against_the_answer(assistant):
    def numbers_missing(question: str) -> float:
        q = assistant.prepare(question)
        options = assistant.answerer.candidates(q.resolved, q.query_vector, q.passages, q.language, q.expansion)
        cuda = [o for o in options if "CUDA" in assistant.answerer.sentences.records[o.sentence].text]
        return min(o.features["numbers_missing"] for o in cuda)

    # The article launches CUDA in 2006; a question about 2031 asks about something else.
    # A number the passage writes counts as present (it may sit in the sentence before).
    assert numbers_missing("英伟达在2006年推出了什么软件平台？") == 0.0
    assert numbers_missing("英伟达在2031年推出了什么软件平台？") == 1.0


def test_a_number_in_the_passage_heading_is_the_passage_s(project, assistant):
    """What's-new pages put the release in the heading (## 2.4 版) and never repeat it in
    the sentences under it: a question about that release is not missing its number."""
    from app import Assistant
    from app.config import AnswerMode, load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "news.md").write_text(
        "# 新功能\n\n## 2.4 版\n\n如果选中了一个文本图层，点击就可以打开编辑器，然后就可以修改文本了。\n\n"
        "## 3.0 版\n\n画笔的大小现在可以用滚轮调节。\n", encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    mine = Assistant(cfg, embedder=assistant.embedder)
    answerer = mine._answerers[AnswerMode.EXTRACTIVE]

    def numbers_missing(question: str) -> float:
        q = mine.prepare(question)
        options = answerer.candidates(q.resolved, q.query_vector, q.passages, q.language, q.expansion)
        edit = [o for o in options if "编辑器" in answerer.sentences.records[o.sentence].text]
        return min(o.features["numbers_missing"] for o in edit)

    assert numbers_missing("2.4 版里怎样修改文本图层上的文字？") == 0.0
    assert numbers_missing("2.8 版里怎样修改文本图层上的文字？") == 1.0


def test_cedict_is_bundled():
    by_gloss, by_pinyin = cedict()
    assert "芯片" in by_gloss["chip"] and "昆仑" in by_pinyin["kunlun"]


def test_english_question_gets_a_chinese_quote_with_an_english_lead_in(assistant):
    answer = assistant.ask("What is Huawei's AI chip series called?")
    assert answer.found, answer.text
    assert answer.text.startswith("The documents answer this in Chinese; the cited sentence [1] is from")
    assert "昇腾" in answer.text and "华为" in answer.expansion
    quote = answer.text.split(": ", 1)[1]
    cited = "".join(c.text for c in answer.citations)
    first = quote.split("[1]")[0]
    assert first in cited  # the evidence is verbatim


# -- conversations ----------------------------------------------------------------------------

def test_what_about_x_asks_about_x_when_there_is_nothing_to_swap():
    resolved = resolve_followup("那H20呢？", ["英伟达在2022年底推出了哪些特供版芯片？"])
    assert resolved.startswith("关于H20") and "2022" not in resolved


def test_pronoun_resolves_to_the_entity_of_the_previous_answer():
    prev = ("英伟达在2006年推出了什么软件平台？", "那一年,黄仁勋……推出CUDA(统一计算设备架构)。[1]后来A800…[2]")
    assert resolve_followup("它是哪一年推出的？", [prev]) == "CUDA是哪一年推出的？"
    # A question about a value of a topic: the pronoun is the topic, not the answer's words.
    prev = ("CUDA是哪一年推出的？", "2006年,英伟达推出CUDA。[1]")
    assert resolve_followup("它的中文全称是什么？", [prev]) == "CUDA的中文全称是什么？"


def test_standalone_questions_are_never_rewritten():
    history = [("英伟达在2006年推出了什么软件平台？", "推出CUDA。[1]")]
    for q in ["华为的异构计算架构叫什么？", "2024年有哪些公司向华为下了大额的昇腾芯片订单？",
              "Which company makes the Kunlun chip?"]:
        assert resolve_followup(q, history) == q


def test_a_question_of_a_conversation_is_also_searched_with_the_previous_question():
    from app.followup import search_context

    history = [("电脑挂起后按键没反应怎么办？", "如果计算机没反应，尝试按一下电源键。[1]")]
    assert search_context("这样会丢东西吗？", history) == "电脑挂起后按键没反应怎么办？ 这样会丢东西吗？"
    assert search_context("Will DRC catch that?", ["What if two zones have the same priority?"]) \
        == "What if two zones have the same priority? Will DRC catch that?"
    # Whether or not it points back (Is there somewhere … instead?): a wider search, kept
    # only when it answers the question better; nothing came before: searched as asked.
    assert search_context("Is there somewhere I can chat in real time instead?", ["Is there a mailing list?"]) \
        == "Is there a mailing list? Is there somewhere I can chat in real time instead?"
    assert search_context("这样会丢东西吗？", []) is None


def test_the_wider_search_still_answers_the_question_as_asked(assistant):
    history = [("英伟达在2022年底推出了哪些特供版芯片？", "A800和H800[1]")]
    question = "这些芯片后来也被禁止出口了吗？"
    prepared = assistant.prepare(question, history)
    assert prepared.resolved == question  # never rewritten
    # Its passages (from either search) are weighed by their similarity to the question itself.
    vectors = {c.id: v for c, v in zip(assistant.retriever.dense.chunks, assistant.retriever.dense.vectors)}
    assert np.allclose([p.dense_score for p in prepared.passages],
                       [float(vectors[p.id] @ prepared.query_vector) for p in prepared.passages], atol=1e-5)


def test_chat_messages_pair_questions_with_answers():
    msgs = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"}]
    assert previous_turns(msgs) == [("q1", "a1"), ("q2", None)]


def test_h20_follow_up_finds_the_h20_sentence(assistant):
    first = assistant.ask("英伟达在2022年底推出了哪些特供版芯片？")
    assert "A800" in first.text and "H800" in first.text
    follow = assistant.ask("那H20呢？", history=[(first.question, first.text)])
    assert follow.resolved_question and "H20" in follow.resolved_question
    assert follow.found and "H20" in follow.text


@pytest.mark.parametrize("path", ["conversations.jsonl", "debian_faq/conversations.jsonl"])
def test_conversation_gold_files(path):
    data = load_dataset(ROOT / "eval" / "datasets" / path)
    assert data.warnings == []
    convs: dict[str, list] = {}
    for q in data.questions:
        convs.setdefault(q.id.split("t")[0], []).append(q)
    assert len(convs) >= (16 if "/" not in path else 6)
    for turns in convs.values():
        assert 2 <= len(turns) <= 4
        for i, q in enumerate(turns):
            assert q.history == [t.question for t in turns[:i]]


# -- answer phrase ----------------------------------------------------------------------------

def test_key_span_picks_what_the_question_asks_for():
    s = "真正的转折点,发生在2006年。"
    a, b = key_span(s, "转折点发生在哪一年？", "zh")
    assert s[a:b] == "2006年"
    s = "奥特曼为筹集7万亿美元四处奔走,最终只筹到了5000亿美元。"
    a, b = key_span(s, "奥特曼的7万亿美元计划实际筹到了多少钱？", "zh")
    assert s[a:b] == "5000亿美元"  # never a value the question states
    s = "参赛者有阿里、百度、腾讯和字节跳动,各有各的打法。"
    a, b = key_span(s, "有哪些公司参赛？", "zh")
    assert "阿里" in s[a:b] and "字节跳动" in s[a:b]


def test_key_span_without_a_cue_is_what_the_sentence_says_about_the_question_words():
    def span(sentence, question):
        a, b = key_span(sentence, question, "zh")
        return sentence[a:b]

    # The clause of the question's words ends on them: the answer is the clause after it.
    s = "如果「位数」为负数，则舍入到小数点左边的十位、百位或千位。"
    assert span(s, "ROUND 的位数参数填负数会怎样？") == "则舍入到小数点左边的十位、百位或千位"
    s = "若是将不符合规则的值复制贴上到储存格中，有效性规则就不会起作用。"
    assert span(s, "把不符合规则的值复制贴上到储存格中会怎样？") == "有效性规则就不会起作用"
    # The clause goes on past them (…所有的黄金): the answer is in it.
    s = "这个数字,足以买下全世界所有的黄金,或者重建十几次二战后的欧洲。"
    assert span(s, "那笔钱足以买下全世界所有的什么？") == "足以买下全世界所有的黄金"


def test_key_span_takes_the_whole_value_and_the_name_asked_for():
    def span(sentence, question, language="zh"):
        a, b = key_span(sentence, question, language)
        return sentence[a:b]

    # A whole date, a whole fraction, a model name with its letters.
    assert span("在2022年底推出了A800。", "英伟达是什么时候推出A800的？") == "2022年底"
    assert span("2023年10月,美国再次更新了条例。", "美国是什么时候再次更新条例的？") == "2023年10月"
    assert span("中国市场贡献了英伟达四分之一的收入。", "中国市场贡献了多少比例的收入？") == "四分之一"
    # A decimal with its unit, not the 0 of 0.005; a number with its magnitude (23 万 is 230,000).
    assert span("将其设置为比默认值 0.005mm 更小的数字。", "默认允许的最大误差是多少？") == "0.005mm"
    assert span("GIMP 大约有 23 万行 C 代码。", "GIMP 大约有多少行 C 代码？") == "23 万"
    # A model is a name with digits; a quoted phrase before it is not the model asked for.
    assert span("英伟达推出了“特供版”A800芯片。", "英伟达推出了什么芯片？") == "A800"
    # Two values asked for (从多少降到了多少): the span runs over both, within their clause.
    assert span("错误率从26%降到了15%,用了两块显卡。", "错误率从多少降到了多少？") == "26%降到了15%"
    assert span("错误率降到了15%,用了两块显卡。", "错误率降到了多少？") == "15%"
    # An English question asks for one value, unless it asks by how much something changed.
    assert span("错误率从26%降到了15%。", "How much was the error rate before AlexNet?", "en") == "26%"
    assert span("错误率从26%降到了15%。", "By how much did AlexNet cut the error rate?", "en") == "26%降到了15%"
    # A count with what it counts.
    assert span("它在 5 天后也不会进入 testing。", "要等多少天才会进入 testing？") == "5 天"
    assert span("性能每18个月翻一番。", "性能多久翻一番？") == "18个月"
    assert span("其是昇腾910B,可以对标A100。", "华为的哪款芯片可以对标A100？") == "910B"
    # A person's name jieba cuts short (马克 + 龙).
    assert span("法国总统马克龙号召打造“欧洲的AI”。", "是哪位法国领导人号召打造欧洲的AI？") == "马克龙"
    # What a thing is called: the quoted or Latin term nearest the question's words.
    assert span("腾讯自研的芯片叫“紫霄”,百度的叫“昆仑芯”。", "腾讯自研的芯片叫什么？") == "“紫霄”"
    assert span("新的 debmake 可以作为标准 dh-make 的代替品。", "Which newer tool can replace dh-make?", "en") == "debmake"
    # Nearest by the gap between the name and the question's words, one-character words
    # (用) placing nothing; a Chinese model name counts; on a tie, the name after them.
    assert span("博士生亚历克斯(Alex Krizhevsky),用两块英伟达的GeForce游戏显卡,训练出了AlexNet。",
                "AlexNet是用英伟达哪个系列的显卡训练出来的？") == "GeForce"
    assert span("阿里“平头哥”的含光800,百度自研的“昆仑芯”,腾讯的“紫霄”项目。", "百度自研的AI芯片叫什么？") == "“昆仑芯”"
    assert span("阿里“平头哥”的含光800,百度自研的“昆仑芯”。", "阿里平头哥的AI芯片叫什么？") == "含光800"
    assert span("德国则斥巨资建造名为“JUPITER”的顶级超算中心,法国要打造“欧洲的AI”。",
                "德国斥巨资建造的超算中心叫什么？") == "“JUPITER”"
    # A name in brackets after the question's words glosses them: not the answer.
    assert span("当OpenAI的创始人山姆·奥特曼(Sam Altman)开始四处奔走时。", "山姆·奥特曼是哪家公司的创始人？") == "OpenAI"
    # A tool asked for (有没有工具), an option with its dashes, C++.
    assert span("可使用 Alien 软件包在不同的软件包格式之间进行转换。", "有没有工具可以转换软件包格式？") == "Alien"
    assert span("重新打包时别忘了 --exclude-vcs 选项。", "重新打包时要记得加上哪个选项？") == "--exclude-vcs"
    # A how-to question: the command line.
    assert span("卸载一个软件包（包括配置文件）：dpkg --purge foo。", "用什么命令把软件包连同配置一起卸载？") == "dpkg --purge foo"
    # A key to press: the whole combination, or the key a Chinese text names.
    assert span("您可以通过按下 左 Alt+F4 访问该控制台。", "按什么键能看到日志？") == "Alt+F4"
    assert span("按 Ctrl + Shift + T 可以恢复关闭的标签页。", "恢复标签页的快捷键是什么？") == "Ctrl + Shift + T"
    assert span("选中文件后按 F2 键即可改名。", "改名按哪个键？") == "F2 键"
    assert span("Press Delete on your keyboard.", "删除文件按哪个键？") == "Delete"


def _phrase(sentence, question, language="zh"):
    """The answer phrase :func:`key_span` marks in ``sentence``, as text (None: none)."""
    sp = key_span(sentence, question, language)
    return sentence[sp[0]:sp[1]] if sp else None


def test_key_span_name_in_english_prose_is_a_word_written_as_a_name():
    # Every word of English prose is Latin: the name is one written as a name (capitals inside
    # or throughout, or a capital mid-sentence), never a plain word near the question's words.
    assert _phrase("LibreOffice uses only the RGB color model for printing in color.",
                   "Which colour model does LibreOffice use when printing in colour?", "en") == "RGB"
    assert _phrase("You may need to install a firewall manager yourself if you can’t find one (for example, GUFW).",
                   "系统里找不到防火墙管理程序的话，可以自己安装哪个？") == "GUFW"
    assert _phrase("2. Save the file with the template content in the Templates folder in your Home folder.",
                   "自己做的文档模板要保存到哪个文件夹？") == "Templates"
    # A run of capitalised words is one name; one that writes the question's own words
    # (Compose Key) restates the question.
    assert _phrase("4. In the Type Special Characters section, click Compose Key.",
                   "想把某个键设为 Compose 键，要在键盘设置的哪个部分里找？") == "Type Special Characters"
    # A question word is matched whole: "init system does" does not write systemd.
    assert _phrase("和大多数 Linux 发行版一样，Debian 系统默认使用 systemd 作为 init 的实现。",
                   "What init system does Debian use by default?", "en") == "systemd"
    # Of the commands the prose names, the one among the question's words, with its options.
    assert _phrase("可以使用 lsusb 命令读取 USB 设备上的值，lspci -nn 命令用于 PCI 设备。",
                   "用什么命令查看 PCI 网卡的 ID？") == "lspci -nn"
    # An unquoted name after 称作/名为; X的Y names Y.
    assert _phrase("这个特性称作 鼠标键。", "能用小键盘来移动指针吗？这个功能叫什么？") == "鼠标键"
    assert _phrase("阿里“平头哥”的含光800是一款AI芯片。", "阿里的AI芯片叫什么？") == "含光800"


def test_asked_which_command_the_phrase_is_the_one_the_prose_names():
    # The command lines after 调用 dh_make 命令： are the worked example; asked how to do it,
    # a command line is the phrase.
    text = "这只需要调用 dh_make 命令： $ cd ~/gentoo $ tar -xvzf gentoo-0.9.12.tar.gz"
    a, b = key_span(text, "用什么命令生成 debian 目录？", "zh")
    assert text[a:b] == "dh_make"
    a, b = key_span(text, "怎么创建 debian 目录？", "zh")
    assert text[a:b] == "tar -xvzf gentoo-0.9.12.tar.gz"


def test_asked_how_a_line_that_is_a_command_or_formula_is_the_phrase():
    # No cue asks for a command here (怎么把…写进, 怎么写, 怎样把…设为), but asked how, a quoted
    # line that is a command after a prompt, a formula or a bare command line is what to type;
    # before, the phrase was None for these and the prose sentence before them was marked.
    assert _phrase("$ dquilt refresh", "用 dquilt 把 Makefile 改好以后，怎么把改动写进补丁文件？") == "dquilt refresh"
    assert _phrase("# apt clean", "用 debootstrap 装好系统以后，怎样清掉下载的大量软件包？") == "apt clean"
    assert _phrase("「=VLOOKUP(A1;D1:E100;2)」", "VLOOKUP 的例子里，B1 里的公式是怎么写的？") == "=VLOOKUP(A1;D1:E100;2)"
    assert _phrase("apt-mark hold package_name", "用 apt 怎样把软件包设为“保留”？") == "apt-mark hold package_name"
    # A Markdown heading is no prompt, a formula's worked result is no formula line, and a
    # why-question asks for a reason, not a command.
    assert _code_line("# 安装") is None
    assert _code_line("=FV(4%;2;750;2500) = -4234.00 个货币单位。") is None
    assert _phrase("$ dquilt refresh", "为什么要 refresh 补丁？") != "dquilt refresh"


def test_key_span_without_a_clause_to_single_out_is_a_name_the_question_lacks():
    # One clause, or clauses without the question's words: before, no phrase at all.
    assert _phrase("这种情况请使用 apt-get。", "做 Debian 大版本升级时应该用 aptitude 还是别的工具？") == "apt-get"
    assert _phrase("需要完全禁用固件查找的用户可以设置 firmware=never 引导参数来禁用。",
                   "不想让安装程序去查找固件，怎样完全禁用固件查找？") == "firmware=never"
    assert _phrase("负数的阶乘将返回「无效参数」错误信息。", "用 FACT 求负数的阶乘会得到什么结果？") == "「无效参数」"
    # A sentence that names nothing the question does not has no phrase.
    assert _phrase("这种情况请使用 apt-get。", "大版本升级时应该用 apt-get 吗？") is None


def test_asked_which_kind_the_phrase_is_the_name_written_beside_that_word(project):
    # Asked 装哪个包, the package the text names as one (build-essential 软件包) is the phrase,
    # in whichever quoted sentence it stands; before, the scored sentence's C/C++ was marked.
    answer = ingested_assistant(project, {"faq.txt": (
        "Debian 软件开发\n\n"
        "在 Debian 上编译 C/C++ 程序，需要一个基本的编译环境。要安装该环境，您只需要安装 build-essential 软件包。\n\n"
        "Debian 的软件包由维护者上传到档案库，每个软件包都有自己的维护者。\n")}).ask(
        "想在 Debian 上编译软件，装哪个包就能得到基本的编译环境？")
    assert answer.found and answer.key_phrases == ["build-essential"]
    # Of several commands named beside 命令, the one among the question's words; in English,
    # a name in plain lower case beside the word asked for.
    text = "可以使用 lsusb 命令读取 USB 设备上的值，lspci -nn 命令用于 PCI 设备。"
    a, b = kind_span(text, "用什么命令查看 PCI 网卡的 ID？", "zh")
    assert text[a:b] == "lspci -nn"
    text = "Use the debmake package instead of dh-make."
    a, b = kind_span(text, "Which package replaces dh-make?", "en")
    assert text[a:b] == "debmake"
    assert kind_span("Use the following command.", "Which command do I run?", "en") is None
    assert kind_span("build-essential 包含编译器。", "装哪个包？", "zh") is None


def test_asked_how_many_a_count_in_chinese_numerals_is_the_phrase():
    # 几份 / 几行: the count written in words with that measure word, before any other number;
    # before, the phrase was the clause that carries the question's words.
    assert _phrase("组合作品只需包含本授权的一份副本，并且重复的恒常章节可以仅以单一个拷贝来取代。",
                   "把几个 GFDL 文件组合成一个作品时，需要附几份授权副本？") == "一份"
    assert _phrase("要转置它，必须选择四行 x 两列，2 列的表就有 2 行。", "转置以后目标区域要选几行？") == "四行"
    # An ordinal is no count: 第十二行 does not answer 几行.
    assert not counted_in_words("请参见第十二行。", "有几行？")


def test_key_span_takes_every_list_item():
    def span(sentence, question):
        a, b = key_span(sentence, question, "zh")
        return sentence[a:b]

    # The last item after a spaced 和, and two items joined by 和/与 alone.
    assert span("此软件包提供了一些工具，如 lsdiff、interdiff 和 filterdiff 命令。", "它带了哪些命令？").endswith("filterdiff")
    got = span("其核心条款,通过限制芯片的“算力”与“带宽”两项关键指标,瞄准了高端GPU。", "新规限制了哪两项指标？")
    assert "“算力”" in got and "“带宽”" in got
    # 从A到B,再到C runs from the first item to the last.
    got = span("从AlphaGo到Transformer,再到引爆全球的ChatGPT,几乎所有里程碑背后都有GPU。", "有哪些里程碑？")
    assert got.startswith("从AlphaGo") and got.endswith("ChatGPT")
    # An English question asking which things, in the plural, asks for the list too.
    s = "参赛者有阿里、百度、腾讯和字节跳动,各有各的打法。"
    a, b = key_span(s, "Which companies took part?", "en")
    assert "阿里" in s[a:b] and "字节跳动" in s[a:b]
    # Short items after a colon, separated by commas, to the sentence's end.
    assert span("而且现在路径工具有了三种工作模式：设计，编辑，移动。", "路径工具有哪几种工作模式？") == "设计，编辑，移动"
    # Three clauses built alike list their items, even without 、.
    s = "编译之后，将二进制文件放入 /usr/local/bin/，库文件放入 /usr/local/lib/，配置文件放入 /usr/local/etc/。"
    got = span(s, "二进制文件、库文件和配置文件分别放到哪些目录？")
    assert "/usr/local/bin/" in got and "/usr/local/etc/" in got and "编译" not in got
    # Two clauses sharing a word by chance are no list: the items joined by 和 are.
    s = "他们疯狂采购着英伟达H100和Blackwell芯片,在全球范围内大举投资AI公司,并试图吸引全球人才。"
    assert "Blackwell" in span(s, "他们在采购哪些芯片？")


def test_each_part_of_a_two_part_question_gets_its_phrase(assistant):
    answer = assistant.ask("CUDA是哪一年推出的？是谁做出的这个决定？")
    phrases = "".join(answer.key_phrases)
    assert answer.found and "2006" in phrases and "黄仁勋" in phrases


def test_answers_carry_their_key_phrase(assistant):
    answer = assistant.ask("英伟达是哪一年推出CUDA的？")
    assert answer.found and "2006" in "".join(answer.key_phrases)
    cit = next(c for c in answer.citations if c.key_spans)
    start, end = cit.key_spans[0]
    assert "2006" in cit.text[start:end]


def test_the_list_asked_for_is_the_phrase_even_in_the_context_sentence(assistant):
    # The matching sentence names the rush (囤粮竞赛); the next one lists who took part.
    answer = assistant.ask("禁令生效前疯狂囤货的中国互联网巨头有哪些？")
    assert answer.found
    phrase = "".join(answer.key_phrases)
    assert "字节跳动" in phrase and "百度" in phrase


LISTS = """检查备份是否完整，有几种办法可供选择：
校验和命令
备份软件自带的验证功能
手动抽查若干文件
如果这几种办法都通过，备份就可以放心使用。
打印机用久了难免出问题。
有时候，打印机可能无法连接到无线网络。
有时候，打印机可以连接，但打印出来的是空白页。
有时候，打印机会卡纸并停止工作。
当这些情况发生时，我们就说打印机罢工了。
换墨盒之前请先关闭电源。
搬家之前，有三个步骤要提前做好。
第一步，列出要带走的物品清单。
清单越详细，搬家那天越不容易遗漏。
第二步，联系搬家公司并约定时间。
旺季最好提前两周预约。
第三步，打包易碎物品并贴上标签。
这台咖啡机有三种冲煮模式：
最简单的是单杯模式；按一下按钮就出一杯咖啡。
然后是双杯模式，它一次冲煮两杯。
最后，在蒸汽模式中，咖啡机只打发牛奶，不出咖啡。
仓库的货架管理涉及三个概念。
首先，货位是最接近地面的单元，每个货位放一箱货。
许多货位合起来组成货架，货架不会单独出现在账目里。
第三种对象是库区，由若干货架划成，账目按库区记录。
"""


def test_a_list_question_gets_every_item_of_the_list_the_document_sets_out(project):
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    (project / "corpus" / "manual.txt").write_text(LISTS, encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False)
    assistant = Assistant(cfg)
    # Item lines without end punctuation, after a line that announces them.
    answer = assistant.ask("检查备份是否完整有哪几种办法？")
    assert answer.found, answer.text
    for item in ("校验和命令", "备份软件自带的验证功能", "手动抽查若干文件"):
        assert item in answer.text and item in answer.key_phrases
    # Parallel sentences (有时候，…) summed up by the sentence after them (当这些…).
    answer = assistant.ask("打印机罢工具体指哪几种情况？")
    assert answer.found, answer.text
    for item in ("无法连接到无线网络", "空白页", "卡纸"):
        assert item in answer.text and item in "".join(answer.key_phrases)
    # A question that does not ask for a list gets no list.
    answer = assistant.ask("换墨盒之前要先做什么？")
    assert answer.found and "关闭电源" in answer.text
    assert "卡纸" not in answer.text and "校验和" not in answer.text
    # Numbered items (第一步… 第二步… 第三步…) after the sentence that announces them, each
    # with a paragraph of its own.
    answer = assistant.ask("搬家之前要提前做好哪几个步骤？")
    assert answer.found, answer.text
    for item in ("列出要带走的物品清单", "联系搬家公司", "打包易碎物品"):
        assert item in answer.text and item in "".join(answer.key_phrases)
    # Items announced by a colon and told in order (…；然后…最后…), however the first is cut.
    answer = assistant.ask("这台咖啡机有哪几种冲煮模式？")
    assert answer.found, answer.text
    for item in ("单杯模式", "双杯模式", "蒸汽模式"):
        assert item in answer.text
    # …as one run of the document, not as separate candidates that happened to score close.
    assert "冲煮两杯。最后，在蒸汽模式中" in answer.text
    # Things announced by a count and then told in order (首先… …第三种…), not numbered.
    answer = assistant.ask("仓库的货架管理涉及哪三个概念？")
    assert answer.found, answer.text
    for item in ("货位", "货架", "库区"):
        assert item in answer.text
    assert "首先，货位是最接近地面的单元" in answer.text and "第三种对象是库区" in answer.text


# -- confidence and the fitter ----------------------------------------------------------------

def test_background_is_deterministic_and_sampled():
    from app.store import SentenceRecord

    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(3000, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    recs = [SentenceRecord(id=str(i), text="x", source="d", char_start=i, char_end=i + 1) for i in range(3000)]
    a, b = SentenceIndex(recs, vecs), SentenceIndex(recs, vecs)
    q = vecs[0]
    assert a.background(q) == b.background(q)
    assert len(a._sample) == 1024
    assert SentenceIndex([], np.zeros((0, 8), np.float32)).background(q) is None


def test_latin_script_sentences_are_measured_against_their_own_background(assistant):
    """An English question is similar to any English sentence (a copyright line, a command
    description): Latin-script sentences are centred on a background of their own, once a
    corpus has enough of them to sample."""
    from app.answer import LATIN_SAMPLE_MIN
    from app.store import SentenceRecord
    from app.text import is_latin_script

    assert is_latin_script("Making a Debian Package, copyright 1997 Jaldhar Vyas.")
    assert is_latin_script("$ dquilt refresh")
    assert not is_latin_script("使用 dquilt 创建 debian/patches/install.patch 补丁文件。")
    assert not is_latin_script("2006")
    rng = np.random.default_rng(2)
    vecs = rng.normal(size=(400, 8)).astype(np.float32)
    vecs[:200, 0] += 3.0  # the "English" sentences share a direction
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)

    def index(n_latin):
        texts = ["It is the GNU hello program."] * n_latin + ["这是一个中文句子。"] * (400 - n_latin)
        recs = [SentenceRecord(id=str(i), text=t, source="d", char_start=i, char_end=i + 1)
                for i, t in enumerate(texts)]
        return SentenceIndex(recs, vecs)

    q = np.zeros(8, np.float32)
    q[0] = 1.0  # an "English" question
    rich = index(200)
    assert rich.latin[:200].all() and not rich.latin[200:].any()
    assert rich.latin_background(q) > rich.background(q) + 0.2
    assert index(LATIN_SAMPLE_MIN - 1).latin_background(q) is None
    # The article is Chinese prose: its few Latin lines share the one background.
    assert assistant.sentences.latin_background(q) is None or assistant.sentences.latin.sum() >= LATIN_SAMPLE_MIN


class _Case:
    def __init__(self, answerable, language="zh"):
        from eval.dataset import Question

        self.question = Question(id="x", question="q", answers=[], evidence=[], answerable=answerable, lang=language)
        self.language = language


def test_rates_and_threshold_choice():
    outs = [Outcome(_Case(True), 0.8, True), Outcome(_Case(True), 0.65, True),
            Outcome(_Case(False), 0.55, False), Outcome(_Case(False), 0.62, False)]
    r = rates(outs, 0.6, 0.0)
    assert r["answer_accuracy"] == 1.0 and r["abstention_accuracy"] == 0.5 and r["false_abstention_rate"] == 0.0
    score, threshold, shift = best_threshold({"a": outs})
    assert score == 1.0 and 0.62 < threshold <= 0.65


def test_abstention_curve_from_recorded_confidences():
    def row(answerable, conf):
        return score_question(qid="q", question="q", qtype="t", lang="zh", answerable=answerable, answers=[],
                              evidence=[], k=5, answer_text="x", found=conf >= 0.6, passages=[], cited=[],
                              confidence=conf)

    rows = [row(True, 0.7), row(True, 0.58), row(False, 0.5), row(False, 0.65)]
    lo, hi = abstention_curve(rows, [0.55, 0.66])
    assert lo == {"min_score": 0.55, "abstention_accuracy": 0.5, "false_abstention_rate": 0.0}
    assert hi == {"min_score": 0.66, "abstention_accuracy": 1.0, "false_abstention_rate": 0.5}
    assert isinstance(Row(**json.loads(json.dumps(rows[0].to_dict()))), Row)


def test_ui_marks_the_answer_phrase_and_escapes_it():
    from app.ui_html import highlight, render_answer

    html = render_answer("发生在2006年<b>。[1]", key_phrases=["2006年<b>"])
    assert '<strong class="rag-key">2006年&lt;b&gt;</strong>' in html and "<b>" not in html
    card = highlight("真正的转折点,发生在2006年。", [(0, 15)], [(10, 15)])
    assert card == '<mark>真正的转折点,发生在</mark><mark><strong class="rag-key">2006年</strong></mark>。'


def test_follow_up_rules_for_pronouns_inside_abstentions_and_continuations():
    # A pronoun inside a question that names nothing of its own.
    q = resolve_followup("发布它的是哪个机构？", [("美国商务部的出口管制新规是哪天发布的？", "2022年10月7日……[1]")])
    assert "它" not in q and "美国商务部" in q
    # An abstention names nothing: 他们 goes back to the previous question's subject.
    q = resolve_followup("他们在采购哪些芯片？", [("哪些中东国家在大举投资AI算力？", NOT_FOUND_ZH)])
    assert q.startswith("中东")
    # Our English lead-in is not part of what the answer named.
    lead = "The documents answer this in Chinese; the cited sentence [1] is from a.txt: 那一年推出CUDA。[1]"
    assert resolve_followup("Who decided to launch it?", [("What platform did Nvidia launch in 2006?", lead)]) \
        == "Who decided to launch CUDA?"
    # 后来呢 continues the topic; 为什么这么叫 points back: both are searched with it.
    assert resolve_followup("后来呢？", ["CUDA最初几年受欢迎吗？"]) == "CUDA最初几年受欢迎吗？ 后来呢？"
    assert resolve_followup("为什么这么叫？", ["黄仁勋被戏称为什么？"]).startswith("黄仁勋被戏称为什么？")


def test_a_continuation_quotes_what_the_document_says_next(assistant):
    """后来呢？ after an answer quotes the sentences that follow its quote in the document,
    not the same sentence again (which searching with the previous question finds)."""
    from app.followup import is_continuation, quoted_runs

    assert all(map(is_continuation, ["后来呢？", "然后呢", "下一步呢？", "接下来要做什么？", "And then?", "What happened next?"]))
    assert not any(map(is_continuation, ["后来怎么又被禁了？", "然后他去了哪家公司？", "What is next to CUDA?"]))
    lead = "The documents answer this in Chinese; the cited sentence [1] is from a.txt: 甲句。乙句。[1] 丙句。[2]"
    assert quoted_runs(lead) == ["甲句。乙句。", "丙句。"] and quoted_runs(NOT_FOUND_ZH) == []
    # A section title with a colon in it is still all lead-in; a < or > of the text is text.
    lead = ("The documents answer this in Chinese; the cited sentence [1] is from faq.html, section "
            "“5.6. 为什么会出现“ld: cannot find -lfoo”错误？” (and 1 more source): 甲句。[1]")
    assert quoted_runs(lead) == ["甲句。"]
    assert quoted_runs("0.0 < 0.5 < 1.0[1]$ cat > hello <<EOF[2]") == ["0.0 < 0.5 < 1.0", "$ cat > hello <<EOF"]

    first = assistant.ask("CUDA最初几年受欢迎吗？")
    assert first.found and "硬是扛了下来" in first.text
    history = [("CUDA最初几年受欢迎吗？", first.text)]
    then = assistant.ask("后来呢？", history=history)
    assert then.found and then.confidence == 1.0
    assert then.text.startswith("他为大学和研究机构提供免费的GPU和课程") and "生态护城河" in then.text
    assert "硬是扛了下来" not in then.text
    assert all(c.highlights for c in then.citations)  # cited like any answer
    # And on from there.
    history.append(("后来呢？", then.text))
    assert "2012年秋天" in assistant.ask("然后呢？", history=history).text
    # A quote with a sentence left out (……) goes on after its first unbroken stretch, and
    # what it quoted later is not quoted again.
    skipped = ("在最初的几年里,CUDA几乎无人问津,华尔街的分析师们不断质疑这项“不务正业”的投资。然而,黄仁勋用他标志性的偏执,"
               "硬是扛了下来。……这个看似笨拙的功夫,却在不知不觉中,为英伟达挖下了一条深不见底的“生态护城河”。[1]")
    then = assistant.ask("后来呢？", history=[("CUDA最初几年受欢迎吗？", skipped)])
    assert then.text.startswith("他为大学和研究机构提供免费的GPU和课程") and "这个看似笨拙的功夫" not in then.text
    assert "2012年秋天" in then.text
    # A search restricted to other files does not continue into the previous quote's file.
    assert assistant.ask("后来呢？", history=history[:1], sources=["ai_compute_war.txt"]).confidence == 1.0
    # Without the previous answer (questions only, or an abstention) it is searched as before.
    for earlier in (["CUDA最初几年受欢迎吗？"], [("CUDA最初几年受欢迎吗？", NOT_FOUND_ZH)]):
        answer = assistant.ask("后来呢？", history=earlier)
        assert answer.resolved_question == "CUDA最初几年受欢迎吗？ 后来呢？" and answer.confidence < 1.0


# -- reference manuals --------------------------------------------------------------------

REFERENCE = """# 财务函数

## PMT

返回利率固定情况下年金的定期支付金额。

### 语法

PMT(Rate; NPer; PV [; FV [; Type]])

### 示例

=PMT(1.99%/12;36;25000) = -715.96 个货币单位。

## SLN

返回一个周期内资产的直线折旧额。整个折旧期间内的折旧总额是恒定的。
"""


def test_a_function_reference_answers_with_the_heading_that_names_the_function(project):
    """The description under a heading names nothing; asked which function does it, the
    answer quotes the heading too, and that is the answer phrase. A formula's semicolons
    separate its arguments, not sentences."""
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    (project / "corpus" / "functions.md").write_text(REFERENCE, encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False)
    assistant = Assistant(cfg)
    texts = [r.text for r in assistant.sentences.records]
    assert "PMT(Rate; NPer; PV [; FV [; Type]])" in texts
    assert "=PMT(1.99%/12;36;25000) = -715.96 个货币单位。" in texts
    answer = assistant.ask("利率固定的年金，定期支付金额用哪个函数计算？")
    assert answer.found, answer.text
    assert answer.text.startswith("PMT"), answer.text
    assert "返回利率固定情况下年金的定期支付金额。" in answer.text and "PMT" in answer.key_phrases
    # A question that asks no name is answered without the heading.
    plain = assistant.ask("利率固定的年金，定期支付金额怎么计算？")
    assert not plain.text.startswith("PMT") and "PMT" not in plain.key_phrases, plain.text
    # A heading that repeats the name the question states is no answer to it.
    assert not assistant.ask("PMT 函数用哪个参数指定利率？").text.startswith("PMT 返回")


def test_a_pronoun_refers_to_what_the_previous_answer_gave_as_its_answer():
    """它 after a "which command" answer is the command the answer phrase names, not a file
    name the quote mentions first; after a list or a value the old rules hold."""
    history = [("外来软件包初始化要用哪个命令？",
                "若你想要用上游源代码 gentoo-0.9.12.tar.gz 创建一个外来 Debian 软件包，这只需要调用 dh_make 命令。[1]")]
    assert resolve_followup("它跑完之后会多出什么文件？", history) == "dh_make跑完之后会多出什么文件？"
    # A question asking for a version: 它 stays the topic, not the release the answer named.
    history = [("Debian 从哪个版本开始默认使用 systemd？", "2015 年 4 月发布的 Debian 8 “jessie” 是首个将 systemd 作为默认 init 的版本。[1]")]
    assert resolve_followup("它有什么好处？", history) in ("Debian有什么好处？", "systemd有什么好处？")


def test_an_english_pronoun_refers_to_a_name_not_to_a_word_that_starts_a_sentence():
    """In English text a word is capitalised because it starts a sentence (If…, You…): it is
    no name a pronoun can refer to, and neither is an ordinary word of an English answer
    (on and, double-click). A name is KiCad, PCB, s390, Slow Keys, Impress Remote."""
    from app.followup import _english_names, followup_candidates

    assert _english_names("If the second press is too long, you get two clicks.") == []
    assert _english_names("You can turn slow keys on and off by selecting Slow Keys.") == ["Slow Keys"]
    assert _english_names("Impress Remote is useful. Press Delete on your keyboard.") == ["Impress Remote", "Delete"]
    assert _english_names("In the KiCad PCB editor the s390 port") == ["KiCad PCB", "s390"]
    # Nothing to refer to: the question is left as asked (and searched with the one before).
    history = [("How do I delete a file?", "If the second press is too long after the first, you get two clicks.[1]")]
    assert followup_candidates("How do I empty it?", history) == ["How do I empty it?"]
    history = [("What are slow keys?", "You can also turn slow keys on and off by clicking the accessibility icon.[1]")]
    assert followup_candidates("How do I turn them on?", history) == ["How do I turn slow keys on?"]
    # After a how-to question, "it" is what was asked about, not a label the steps name: with
    # no name in the question, it is left as asked (and searched with the question before).
    history = [("How do I make a 3D object from a flat shape?",
                "You can convert two-dimensional objects in LibreOffice. Click Extrusion On/Off.[1]")]
    assert followup_candidates("Can I rotate it afterwards?", history) == ["Can I rotate it afterwards?"]
    # Asked what a named thing is, "it" is that thing, not a name its description mentions.
    history = [("What is Impress Remote, and which phones does it run on?",
                "Impress Remote is a very useful application. Get it from the Google Play Store.[1]")]
    assert followup_candidates("How does it connect to the computer?", history) == [
        "How does Impress Remote connect to the computer?"]


def test_an_english_follow_up_to_a_chinese_question_takes_no_chinese_word_and_no_label():
    """An English follow-up to a Chinese question: "it" is not a Chinese word put into the
    English sentence (Can I undo 文件…), nor, after a how-to question, a label the steps name
    (remove View, from Choose View - Animation); and "what about X" does not put an English
    phrase into the Chinese question. Left as asked, each is searched with the question before."""
    from app.followup import followup_candidates

    history = [("怎么给文件或文件夹改名？", "1. 右击文件或文件夹，然后选择重命名，或选择文件，然后按 F2 键。[1]")]
    assert followup_candidates("Can I undo it if I get it wrong?", history) == ["Can I undo it if I get it wrong?"]
    history = [("怎么给幻灯片里的对象加动画效果？",
                "1. 選取您要對之採用動畫效果的物件。 2. Choose View - Animation, to open the Custom Animation pane.[1]")]
    assert followup_candidates("And how do I remove it?", history) == ["And how do I remove it?"]
    # A Chinese follow-up still takes the answer's name (measured: no better without it).
    assert followup_candidates("它在哪个菜单里？", history)[0] != "它在哪个菜单里？"
    history = [("安装时配置加密分区，默认用的加密算法是什么？", "debian-installer 当前支持以下 block ciphers：aes、serpent。[1]")]
    assert followup_candidates("And the default key size?", history) == [
        "What about the default key size? (安装时配置加密分区，默认用的加密算法是什么？)"]


def test_a_bare_signature_line_answers_only_a_question_about_the_syntax(project):
    """A function's signature (ADDRESS(Row; Column [; Abs…])) names the function and the
    parameter a question asks about, so it looks like an answer to every question about
    them; it only says how the call is written."""
    from app.answer import _SYNTAX_LINE

    assert _SYNTAX_LINE.match("ADDRESS(Row; Column [; Abs [; A1]])")
    assert _SYNTAX_LINE.match("ls [选项]... [文件]...")
    assert not _SYNTAX_LINE.match("ls -l") and not _SYNTAX_LINE.match("dpkg --purge foo")
    assistant = ingested_assistant(project, {"address.md": (
        "# ADDRESS\n\n根据指定的行号和列号返回单元格地址 (引用) 的文本。\n\n## 语法\n\n"
        "ADDRESS(Row; Column [; Abs])\n\n「Abs」(可选) 确定引用类型：\n\n1: 绝对引用 ($A$1)\n\n"
        "2: 行号采用绝对引用；列号采用相对引用 (A$1)\n\n4: 相对引用 (A1)\n\n"
        "## 示例\n\n「=ADDRESS(1;1;2)」返回 A$1。\n")})
    from app.config import AnswerMode

    extractive = assistant._answerers[AnswerMode.EXTRACTIVE]

    def best(question):
        p = assistant.prepare(question)
        top = extractive.score_sentences(p.resolved, p.query_vector, p.passages, p.language)[0]
        return extractive.sentences.records[top.sentence].text

    assert best("ADDRESS 函数的 Abs 参数填 4，得到的是什么引用？") != "ADDRESS(Row; Column [; Abs])"
    assert best("ADDRESS 函数的语法怎么写？") == "ADDRESS(Row; Column [; Abs])"


def test_a_list_answer_that_points_back_quotes_the_sentence_it_points_to(project):
    """Asked for a list, a sentence that names none but says 这些文件 brings the sentence
    before it, which names them."""
    answer = ingested_assistant(project, {"project.md": (
        "# 工程文件\n\n工程文件保存原理图和电路板共享的设置，发送设计时请一并发送。"
        "某些文件 (如本地设置文件 .kicad_prl 和 fp-info-cache 文件) 不需要随工程一起发送。"
        "如果您使用 Git 之类的版本控制系统，则可能需要将这些文件添加到忽略的文件列表中，这样就不会跟踪它们。\n")}
    ).ask("用 Git 管理工程时，哪些文件可以加进忽略列表？")
    assert answer.found, answer.text
    assert "fp-info-cache" in answer.text and "忽略的文件列表" in answer.text, answer.text


def test_what_about_x_with_a_locative_swaps_the_entity_before_the_same_locative():
    history = [("KiCad 的设置文件在 Linux 上存放在哪个目录？", "Linux | ~/.config/kicad[1]")]
    assert resolve_followup("Windows 上呢？", history) == "KiCad 的设置文件在 Windows 上存放在哪个目录？"
    assert resolve_followup("表格里呢？", [("文本框中怎么插入图片？", None)]) == "表格中怎么插入图片？"


def test_a_chinese_question_is_answered_from_an_untranslated_english_sentence(project, assistant):
    """Help pages are often left partly in English: a Chinese question's words count as
    found in an English sentence that says them in English (防火墙 … 端口 -> firewall … port),
    every word of a two-word gloss (负数 = negative number) needed, so the English sentence
    that answers is quoted rather than a Chinese one that merely shares the topic."""
    from app import Assistant
    from app.config import AnswerMode, load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "firewall.html").write_text(
        "<html><body><h1>防火墙</h1><p>许多应用程序可以使用网络连接，您可能需要调整防火墙来实现预期的网络服务。</p>"
        "<p>开启或禁用网络服务端口，取决于您是否想让其他人访问。</p>"
        "<p>Remote desktop sharing needs the firewall to allow port 5900.</p>"
        "<p>Any number you type is rounded.</p></body></html>", encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    mine = Assistant(cfg, embedder=assistant.embedder)
    x = mine._answerers[AnswerMode.EXTRACTIVE].crosslingual
    assert x.english_of("端口") == (("port",),)  # its other gloss, interface, is not in the corpus
    assert x.english_of("防火墙") == (("firewall",),)
    assert x.english_of("负数") == ()  # "negative" is not in the corpus
    from app.crosslingual import CrossLingual, word_forms
    # Every word of a two-word gloss, in any form (settings / setting), or none.
    assert CrossLingual.says_in_english(word_forms("Any negative number is rounded."), (("negative", "number"),))
    assert not CrossLingual.says_in_english(word_forms("Any number you type is rounded."), (("negative", "number"),))
    assert CrossLingual.says_in_english(word_forms("Open the Settings panel."), (("setting",),))
    answer = mine.ask("远程共享桌面时，防火墙需要开放哪个端口？")
    assert answer.found and "5900" in answer.text


def test_a_chinese_question_finds_an_untranslated_english_passage(project, assistant):
    """The dense leg places a Chinese question far from an English passage and BM25 shares
    no word with it, so a help page left in English was never retrieved. The English glosses
    of the question's terms (列 … 隐藏 -> column, hidden) find it, and it is added after the
    passages the question found itself, without reordering them."""
    chinese = "\n\n".join(f"文件管理器的列表视图可以按第{i}种方式排列文件，也可以隐藏文件的缩略图。" * 3 for i in range(1, 13))
    # Enough untranslated English for the corpus to count as partly English (50 sentences).
    battery = [f"Battery setting number {i} changes how long the laptop waits before it sleeps." for i in range(60)]
    english = battery[:30] + ["There are several columns of information that you can display in the list view.",
                              "The Name column cannot be hidden."] + battery[30:]
    mine = ingested_assistant(project, {"files.txt": chinese, "columns.txt": "\n".join(english)},
                              embedder=assistant.embedder, retrieval={"top_k": 2})
    question = "文件管理器的列表视图里，哪一列是不能隐藏的？"
    assert {"list", "view", "hidden"} <= set(mine.crosslingual.english_words(question))
    passages = mine.prepare(question).passages
    assert "Name column" not in "".join(p.text for p in passages[:2])  # not found by the question itself
    assert len(passages) == 3 and "Name column" in passages[-1].text and passages[-1].rank == 3
    answer = mine.ask(question)
    assert answer.found and "The Name column cannot be hidden." in answer.text, answer.text
    # An English question is searched in English already: nothing is added.
    assert len(mine.prepare("Which column cannot be hidden?").passages) <= 2


def test_a_question_asking_for_the_menu_is_answered_with_the_menu_path(project):
    """The sentence naming the command's menu path answers "which menu", not the one about
    the dialog it opens: LibreOffice's Taiwan help writes paths as [工具] - [目標搜尋]."""
    from app.cues import Cue, question_cues, sentence_has

    assert Cue.MENU in question_cues("单变量求解在哪个菜单下？", "zh")
    assert Cue.MENU in question_cues("Where in the menus do I go to write a macro?", "en")
    assert sentence_has(Cue.MENU, "將游標放在儲存格中，並選擇 [工具] - [目標搜尋]。")
    assert sentence_has(Cue.MENU, "Choose Format - Conditional - Condition.")
    assert not sentence_has(Cue.MENU, "按一下 [是] 在儲存格中輸入帶變數值的結果。")
    answer = ingested_assistant(project, {"goalseek.txt": (
        "套用目標搜尋\n\n藉助目標搜尋，您可以計算一個值，此值作為公式的一部分，可以得到您所指定的公式結果。\n\n"
        "1. 將游標放在包含利息 I 的儲存格中，並選擇 [工具] - [目標搜尋]。螢幕上會顯示 [目標搜尋] 對話方塊。\n"
        "2. 在 [目標值] 文字方塊中輸入公式的預期結果。\n"
        "螢幕上會顯示一個對話方塊通知您「目標搜尋」成功。按一下 [是] 在儲存格中輸入帶變數值的結果。\n"
        "德國正在建造名為JUPITER的超算中心。\n")}).ask("Which menu is Goal Seek in?")
    assert answer.found and "[工具] - [目標搜尋]" in answer.text, answer.text


def test_a_british_spelling_finds_the_american_one(project):
    """Which colour model… over a manual that writes "color": the question's spelling is not
    a name the corpus lacks, and the text's own spelling is searched and matched."""
    from app.crosslingual import is_english_word, spelling_variants

    assert spelling_variants("colour") == ["color"] and spelling_variants("color") == ["colour"]
    assert spelling_variants("cancelled") == ["canceled"] and spelling_variants("canceled") == ["cancelled"]
    assert spelling_variants("customise") == ["customize"] and spelling_variants("pattern") == []
    assert is_english_word("colour") and is_english_word("licence")
    answer = ingested_assistant(project, {"print.txt": (
        "Printing slides\n\nTo print a presentation, choose File - Print. "
        "LibreOffice uses only the RGB color model for printing in color. "
        "The RGB values of the selected color are shown in the dialog.\n\n"
        "Handouts\n\nHandouts show several slides on one page, with room for notes.\n")}
    ).ask("Which colour model does LibreOffice use when printing in colour?")
    assert answer.found and "RGB" in answer.text, answer.text
