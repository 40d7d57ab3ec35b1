"""Cited extractive answers, abstention, follow-ups and errors, through the public API."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from app.answer import NOT_FOUND
from app.cues import Cue, alternatives, asks_for_name, has_name, question_cues, question_focus, sentence_has, strip_question_values
from app.errors import EmptyQuestionError
from app.followup import previous_questions, resolve_followup
from app.keyphrase import key_span
from app.text import simplified

from .conftest import ROOT, ingested_assistant

MARKER = re.compile(r"\[(\d+)\]")


def _sentences_with_markers(text: str) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in re.finditer(r"(.+?)\[(\d+)\]\s*", text)]


@pytest.mark.parametrize("question,expected", [
    ("华为的异构计算架构叫什么？", "CANN"),
    ("英伟达在2022年底推出了哪些特供版芯片？", "A800"),
    ("CUDA是哪一年推出的？", "2006"),
    ("昇腾910B可以对标英伟达的哪款芯片？", "A100"),
    ("Which Nvidia chip is Huawei's Ascend 910B considered comparable to?", "A100"),
])
def test_answers_state_the_fact_verbatim_with_markers(assistant, question, expected):
    answer = assistant.ask(question)
    assert answer.found, answer.text
    assert expected in answer.text
    assert MARKER.search(answer.text)
    assert len(MARKER.sub("", answer.text)) < 300


def test_every_marker_maps_to_a_citation_that_contains_its_sentence(assistant):
    answer = assistant.ask("英伟达在2022年底推出了哪些特供版芯片？")
    numbers = {c.number: c for c in answer.citations}
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    pairs = _sentences_with_markers(answer.text)
    assert pairs
    for sentence, n in pairs:
        assert n in numbers
        assert sentence.strip() in numbers[n].text  # verbatim from the cited passage
    # Highlights point at exactly those sentences.
    for c in answer.citations:
        for start, end in c.highlights:
            assert c.text[start:end] in answer.text
    # Citations are passages that were retrieved.
    assert {c.id for c in answer.citations} <= {p.id for p in answer.passages}


def test_list_question_collects_the_enumeration(assistant):
    answer = assistant.ask("禁令生效前疯狂囤货的中国互联网巨头有哪些?")
    assert answer.found
    for company in ("字节跳动", "阿里巴巴", "腾讯", "百度"):
        assert company in answer.text


def test_context_sentence_is_added_for_a_year_question(assistant):
    # The year is in the sentence before the one that names CUDA (真正的转折点,发生在2006年。那一年……).
    answer = assistant.ask("英伟达是在哪一年推出CUDA的?")
    assert "2006" in answer.text and "CUDA" in answer.text


@pytest.mark.parametrize("question", [
    "红烧肉的家常做法是什么？",             # off-topic
    "马克龙属于法国哪个政党？",            # entity present, attribute never stated
    "昇腾910B采用的是多少纳米的制程工艺？",   # asks for a number the text does not give
    "奥特曼的7万亿美元计划最后实际筹到了多少钱？",  # the only number is the one in the question
])
def test_abstains_in_chinese_with_the_closest_passages(assistant, question):
    answer = assistant.ask(question)
    assert not answer.found
    assert answer.text == NOT_FOUND["zh"]
    assert answer.citations == []
    assert len(answer.passages) == assistant.config.retrieval.top_k


def test_abstains_in_english_for_english_questions(assistant):
    answer = assistant.ask("How many transistors does the Nvidia H100 contain?")
    assert not answer.found
    assert answer.text == NOT_FOUND["en"]
    assert answer.language == "en" and answer.passages


def test_followup_what_about_swaps_the_entity(assistant):
    history = [{"role": "user", "content": "A800是哪家公司推出的？"}, {"role": "assistant", "content": "……"}]
    answer = assistant.ask("那H20呢？", history=history)
    assert answer.resolved_question == "H20是哪家公司推出的？"
    assert answer.found and "H20" in answer.text and "英伟达" in answer.text


def test_followup_pronoun_is_resolved(assistant):
    answer = assistant.ask("它是哪一年推出的？", history=["英伟达的CUDA是什么？"])
    assert answer.resolved_question is not None and "CUDA" in answer.resolved_question
    assert "2006" in answer.text


def test_no_history_means_no_rewrite(assistant):
    assert assistant.ask("华为的异构计算架构叫什么？", history=[]).resolved_question is None


def test_resolve_followup_rules():
    assert resolve_followup("那H20呢？", ["A800是哪一年推出的？"]) == "H20是哪一年推出的？"
    assert resolve_followup("What about H20?", ["When was the A800 released?"]) == "When was the H20 released?"
    assert resolve_followup("它的中文全称是什么？", ["CUDA是哪年推出的？"]) == "CUDA的中文全称是什么？"
    assert resolve_followup("为什么？", ["美国为什么限制芯片出口？"]) == "美国为什么限制芯片出口？ 为什么？"
    assert resolve_followup("那百度呢？", ["阿里自研的AI芯片叫什么？"]) == "百度自研的AI芯片叫什么？"
    standalone = "华为的异构计算架构叫什么？"
    assert resolve_followup(standalone, ["A800是哪一年推出的？"]) == standalone


def test_followup_entities_of_technical_text():
    """Compounds jieba splits are swapped whole; lower-case Latin names (apt, dpkg) inside
    Chinese text are entities too."""
    prev = "什么是虚拟软件包？以网页浏览器为例，它叫什么？"
    assert resolve_followup("那邮件传输代理呢？", [prev]) == "什么是虚拟软件包？以邮件传输代理为例，它叫什么？"
    assert resolve_followup("那 apt 呢？", ["aptitude 这样的高层软件包管理工具依赖什么？"]) \
        == "apt 这样的高层软件包管理工具依赖什么？"
    assert resolve_followup("用它怎么查出一个文件属于哪个软件包？",
                            [("apt 依赖什么？", "apt 依赖 dpkg 来完成底层操作。[1]")]) \
        == "用dpkg怎么查出一个文件属于哪个软件包？"


def test_a_comparison_with_the_last_answer_or_a_pro_verb_points_back():
    """有没有更快的方法？ asks for another means to the previous question's end; 这么做 stands
    for the previous question's action even when the question names a topic of its own."""
    from app.followup import followup_candidates

    last = "用 dpkg 怎么查出一个文件属于哪个软件包？"
    for q in ["有没有更快的方法？", "还有别的办法吗？", "Is there a faster way?"]:
        assert resolve_followup(q, [last]) == f"{last} {q}"
    assert resolve_followup("testing 系统上适合这么做吗？", [last]) == f"{last} testing 系统上适合这么做吗？"
    # The action may be two turns back: both turns are candidates, the latest first.
    history = ["怎样让 Debian 系统自动升级？", "它默认会安装新的软件包吗？"]
    assert followup_candidates("testing 系统上适合这么做吗？", history)[1:] == [
        "怎样让 Debian 系统自动升级？ testing 系统上适合这么做吗？"]
    # A comparison that names a topic of its own, or says what for, is a new question.
    for q in ["还有哪些公司在做AI芯片？", "更新源在哪里配置？", "Is there a better way to remove a package?",
              "How do I install another kernel?", "How can I get better performance from my disk?"]:
        assert resolve_followup(q, [last]) == q
    # Without the previous answer a continuation is searched with the previous question.
    assert resolve_followup("下一步呢？", ["怎样让 Debian 系统自动升级？"]) == "怎样让 Debian 系统自动升级？ 下一步呢？"
    # The clause that asks is what counts: the clauses before it say why (…太累了，).
    q = "找到了，可是一处一处手动改太累了，有没有更简单的办法？"
    assert resolve_followup(q, [last]) == f"{last} {q}"
    # …but a clause after it that says what for makes a question of its own.
    q = "有没有更简单的办法，可以批量删除 Kubernetes 的 Pod？"
    assert resolve_followup(q, [last]) == q
    # 这样处理 is a pro-verb too.
    q = "要是给的是 .zip 压缩包，也可以这样处理吗？"
    assert resolve_followup(q, [last]) == f"{last} {q}"
    # "And for X?" asks about X in the last question's topic; "And how…?" is a question.
    english = "After building my package, which tool can I run to catch common packaging mistakes?"
    assert resolve_followup("And for checking that my build dependencies are right?", [english]) == (
        f"What about checking that my build dependencies are right? ({english})")
    assert resolve_followup("And how do I install it?", [english]) != (
        f"What about how do I install it? ({english})")


def test_a_variant_of_a_phrase_of_the_previous_question_takes_its_place():
    """填 2 呢 after …填 4… asks the same of 2; 反过来从左往右拖呢 after …从右向左拖… the same of
    the other direction; spans start where words do (其中美元… is no 中美元)."""
    assert resolve_followup("填 2 呢？", ["ADDRESS 函数的 Abs 参数填 4，得到的是什么引用？"]) == (
        "ADDRESS 函数的 Abs 参数填 2，得到的是什么引用？")
    assert resolve_followup("反过来从左往右拖呢？", ["在编辑器里从右向左拖出选择框，会选中哪些对象？"]) == (
        "在编辑器里从左往右拖出选择框，会选中哪些对象？")
    assert resolve_followup("那中国科技体系呢？", ["其中美元科技体系以什么为核心？"]) == "其中中国科技体系以什么为核心？"
    # The closest in length of equally alike spans (左对齐, not 对齐), never a question word
    # (哪一年), a span on a particle (了文心一言, 上海的) or a phrase the question has already.
    assert resolve_followup("换成右对齐呢？", ["怎么设置左对齐？"]) == "怎么设置右对齐？"
    assert resolve_followup("那上海交大呢？", ["上海的人口是多少？"]) == "上海交大的人口是多少？"
    assert resolve_followup("那华为公司呢？", ["华为的芯片叫什么？"]) == "华为公司的芯片叫什么？"
    assert "哪一年" in resolve_followup("那一年呢？", ["百度在哪一年推出了文心一言？"])
    assert resolve_followup("反过来呢？", ["在编辑器里从右向左拖出选择框，会选中哪些对象？"]) == (
        "在编辑器里从右向左拖出选择框，会选中哪些对象？ 反过来呢？")
    # A Chinese compound with the same head noun is another thing of its kind (回弹键 ~ 慢速键),
    # not a phrase that ends on a verb of the same character (第一次打包).
    assert resolve_followup("那回弹键呢？", ["慢速键在哪里打开？"]) == "回弹键在哪里打开？"
    assert resolve_followup("那内核模块包呢？", ["新手第一次打包，手册认为哪类软件算是简单的？"]) != (
        "新手内核模块包，手册认为哪类软件算是简单的？")
    # Nothing alike in the previous question: the rules before this one apply.
    assert resolve_followup("那H20呢？", ["A800是哪一年推出的？"]) == "H20是哪一年推出的？"
    # A situation is no thing to swap in (如果利率每年都不同 is no other 贷款): the previous
    # question is searched with it.
    assert resolve_followup("如果利率每年都不同呢？", ["这笔贷款十年后的终值是多少？"]) == (
        "这笔贷款十年后的终值是多少？ 如果利率每年都不同呢？")
    assert resolve_followup("还是打不开呢？", ["笔记本合上盖子以后唤不醒，怎么办？"]) == (
        "笔记本合上盖子以后唤不醒，怎么办？ 还是打不开呢？")
    from app.followup import _is_action, _is_condition

    assert [_is_condition(p) for p in ("要是不保存直接关闭", "还是没反应", "if I only print the selection", "打开之后",
                                       "回弹键")] == [True, True, True, False, False]
    # An action is no thing either: it is asked about in the previous question's topic.
    assert [_is_action(p) for p in ("打开之后", "取消保留", "内核模块包", "回弹键", "百度")] == [
        True, True, False, False, False]
    assert resolve_followup("那取消保留呢？", ["用 apt 怎样把软件包设为“保留”？"]).startswith("关于取消保留")


def test_this_kind_is_what_the_previous_answer_named():
    """这个别名 after 手册建议给它设一个什么别名？ is the alias the answer gave."""
    history = [("Debian 打包时一般用什么工具来管理补丁？", "quilt 程序是 Debian 打包过程中采用的补丁管理工具。[1]"),
               ("手册建议给它设一个什么别名？", "首先我们来创建一个别名 dquilt，用于 Debian 打包。[1]")]
    assert resolve_followup("用这个别名的时候，补丁默认会放到哪个目录下？", history) == (
        "用dquilt 别名的时候，补丁默认会放到哪个目录下？")
    # An abstention names nothing; a kind the previous question did not ask for is left alone.
    assert resolve_followup("用这个别名的时候，补丁放在哪？", [("它叫什么别名？", "抱歉，文档中没有找到能回答这个问题的内容。")]) \
        == "用这个别名的时候，补丁放在哪？"
    assert "dquilt" not in resolve_followup("这个目录在哪里？", history)
    # A one-character kind (用) or the 该 of 应该 is no such phrase; 那个时候 after 什么时候 is
    # that time; 这个公司 is the company the answer names, not its Latin term.
    assert resolve_followup("这个用法在哪里有说明？", [("quilt 是做什么用的？", "quilt 是补丁工具。[1]")]) == (
        "这个用法在哪里有说明？")
    assert resolve_followup("我应该工具箱放哪？", [("用什么工具？", "调用 dh_make 命令：[1]")]) == "我应该工具箱放哪？"
    assert resolve_followup("那个时候还有别的芯片吗？", [("CUDA是什么时候推出的？", "2006 年推出 CUDA。[1]")]) == (
        "那个时候还有别的芯片吗？")
    assert resolve_followup("这个公司的总部在哪？", [("昇腾是哪家公司推出的？", "华为推出了昇腾系列 AI 芯片。[1]")]) == (
        "华为公司的总部在哪？")


def test_a_pronoun_with_several_referents_keeps_the_rewrite_the_corpus_answers_best(assistant):
    """它 may be the previous answer's new entity or the previous question's topic; the
    assistant scores each rewrite on the corpus and keeps the best one."""
    from app.config import AnswerMode
    from app.followup import followup_candidates

    history = [("华为推出了什么计算架构？", "华为推出了CANN(异构计算架构)。[1]")]
    candidates = followup_candidates("它是哪一年推出的？", history)
    assert candidates == ["CANN是哪一年推出的？", "华为是哪一年推出的？"]
    prepared = assistant.prepare("它是哪一年推出的？", history)
    extractive = assistant._answerers[AnswerMode.EXTRACTIVE]

    def best(q):
        p = assistant.prepare(q)
        return extractive.score_sentences(p.resolved, p.query_vector, p.passages, p.language)[0].score

    assert prepared.resolved == max(candidates, key=best)
    assert followup_candidates("华为的异构计算架构叫什么？", history) == ["华为的异构计算架构叫什么？"]


def test_history_shapes():
    assert previous_questions(["a", ("b", "ans"), {"role": "user", "content": "c"},
                               {"role": "assistant", "content": "x"}, None]) == ["a", "b", "c"]


@pytest.mark.parametrize("bad", ["", "   ", "\n\t"])
def test_empty_question_is_refused_with_a_clear_message(assistant, bad):
    with pytest.raises(EmptyQuestionError, match="the question is empty"):
        assistant.ask(bad)


def test_very_long_question_is_handled(assistant):
    answer = assistant.ask("华为的异构计算架构叫什么？" + "请详细说明。" * 2000)
    assert isinstance(answer.found, bool) and answer.passages


def test_junk_question_does_not_crash(assistant):
    answer = assistant.ask("\x00\x01 ☃☃☃ ###")
    assert not answer.found


def test_cues():
    assert question_cues("黄仁勋是哪一年出生的？", "zh") == {Cue.YEAR}
    assert Cue.MONEY in question_cues("H20的售价是多少？", "zh")
    assert Cue.PERSON in question_cues("Who founded Nvidia?", "en")
    assert Cue.PERSON in question_cues("这个决定是谁做出的？", "zh")
    # 谁新谁旧 compares two things: which one, not who.
    assert Cue.PERSON not in question_cues("有没有命令可以比较两个版本号谁新谁旧？", "zh")
    assert Cue.PERSON in question_cues("谁和谁创立了这家公司？", "zh")
    assert sentence_has(Cue.NUMBER, "炒到了原价的两三倍")
    assert not sentence_has(Cue.NUMBER, "推出了H20芯片")  # a model name is not a quantity
    assert not sentence_has(Cue.NUMBER, "一个标志性的时刻")  # 一个 is an article
    assert sentence_has(Cue.DEFINITION, "推出CUDA(统一计算设备架构)")
    # A gloss spaced off its name, or the words 全称/stands for, define it too.
    assert sentence_has(Cue.DEFINITION, "新的工具箱 GTK (全称是 GIMP Toolkit)")
    assert sentence_has(Cue.DEFINITION, "DFSG 是 Debian 自由软件指导方针的缩写")
    assert not sentence_has(Cue.DEFINITION, "GTK 是一个非常优秀的工具箱")
    assert not sentence_has(Cue.DEFINITION, "Run the command (as root) to install it.")  # no gloss
    from app.keyphrase import key_span
    text = "DFSG 是 Debian 自由软件指导方针的缩写"
    span = key_span(text, "DFSG 的全称是什么？", "zh")
    assert span is None or text[span[0]:span[1]] != "缩写"  # the marker word is never the phrase
    assert strip_question_values("筹集7万亿美元的计划", "7万亿美元计划筹到多少") == "筹集 的计划"
    assert ("城市", True) in question_focus("德国的JUPITER超算中心建在哪座城市？")
    # The focus is looked for within the question word's clause (应该 asks nothing of 谁).
    assert question_focus("某个软件包的原作者是谁，应该看哪个文件？") == [("原作者", True), ("文件", True)]


def test_a_quantity_may_be_in_a_latin_unit_and_a_cross_reference_is_none():
    """810MB answers 多少内存; 参阅第 3.4 节, 第 7 章 and a footnote mark ［22］ point elsewhere."""
    assert sentence_has(Cue.NUMBER, "图形安装程序需要更多的内存才能运行：810MB")
    assert sentence_has(Cue.NUMBER, "60fps 的视频") and sentence_has(Cue.NUMBER, "7200rpm 的硬盘")
    assert not sentence_has(Cue.NUMBER, "注意这是最小的数字，要了解实际的情况，参阅第 3.4 节 “满足最低的硬件要求”。")
    assert not sentence_has(Cue.NUMBER, "检查并口的 BIOS 设置（参阅 第 7 章 引导进入新的 Debian 系统）")
    assert not sentence_has(Cue.NUMBER, "选择该菜单项重新配置。［22］ 参阅 5.1.5 节")
    assert not sentence_has(Cue.NUMBER, "推出了H20芯片") and not sentence_has(Cue.NUMBER, "5G 网络")
    assert sentence_has(Cue.NUMBER, "常用的值为 io=0x378，irq=7。")
    # A bracketed count or a section's 节 that is no section stays a quantity.
    assert sentence_has(Cue.NUMBER, "保留 [10] 个副本") and sentence_has(Cue.NUMBER, "用 1.5 节电池")
    # The answer phrase of a count is the quantity, not the cross-reference before it.
    from app.keyphrase import key_span
    text = "参阅第 3.4 节，至少需要 128MB 内存。"
    span = key_span(text, "安装至少需要多少内存？", "zh")
    assert text[span[0]:span[1]] == "128MB"


def test_a_quantity_asked_in_a_unit_needs_a_number_in_that_unit():
    q = "自动保存默认每隔几分钟保存一次？"
    assert Cue.UNIT in question_cues(q, "zh") and Cue.UNIT in question_cues("How many minutes between saves?", "en")
    assert not sentence_has(Cue.UNIT, "会定期自动保存您的工作。设置为 0 将禁用此功能。", q, "zh")
    assert sentence_has(Cue.UNIT, "每 10 分钟保存一次", q, "zh")
    assert sentence_has(Cue.UNIT, "5 天后进入 testing", q, "zh")  # one family: days answer minutes
    assert sentence_has(Cue.UNIT, "它支持多达 32 个铜层的 PCB", "最多能支持多少层铜？", "zh")
    assert sentence_has(Cue.UNIT, "定义设置为 300PPI", "默认是多少 PPI？", "zh")
    assert not sentence_has(Cue.UNIT, "今天发布", "要等多少天？", "zh")  # 天 without a numeral
    assert not sentence_has(Cue.UNIT, "版权 © 2021 年由贡献者拥有", "多久发布一次？", "zh")  # a date
    assert sentence_has(Cue.UNIT, "长达十五年", "多久？", "zh")
    assert Cue.UNIT in question_cues("主要版本通常多久发布一次？", "zh")  # 多久 asks for a time
    # Counters are no units: 几家/几位 are answered by a list as well as by a count.
    assert Cue.UNIT not in question_cues("有几家公司参与？", "zh")
    assert Cue.UNIT not in question_cues("图标文件应该是多大尺寸？", "zh")
    # A one-character unit must be a word: 日志, 周期, 层级, 字符串 are none.
    for q in ("程序会产生多少日志？", "一共有多少周期？", "大纲有几个层级？", "有多少个字符串？"):
        assert Cue.UNIT not in question_cues(q, "zh"), q
    assert Cue.UNIT not in question_cues("How many times does it retry?", "en")  # a count
    # How often is answered by 每天 / daily as well as by a number.
    assert sentence_has(Cue.UNIT, "cron-apt 每天运行一次", "cron-apt 多久运行一次？", "zh")
    assert sentence_has(Cue.UNIT, "It runs daily.", "How often does it run?", "en")


def test_a_choice_question_is_answered_by_naming_a_side():
    assert alternatives("零的格式默认是保留前导零还是保留后导零？", "zh") == ({"前导"}, {"后导"})
    assert alternatives("应该用 aptitude 还是别的工具？", "zh") == ({"aptitude"}, {"别的"})
    # Each side's own word, not the clause around it (安装 is no side of dpkg or apt).
    assert alternatives("应该用 dpkg 还是 apt 安装？", "zh") == ({"dpkg"}, {"apt"})
    assert alternatives("Can I export it as an animation or a video?", "en") == ({"animation"}, {"video"})
    # 还是 as "still", a choice inside a further question, "or not": no choice to name.
    for q, lang in (("我还是想每一处都确认一下，该怎么弄？", "zh"), ("还是用什么工具？", "zh"),
                    ("Is it free or not?", "en"), ("Do I have to subscribe first, or can I post?", "en"),
                    ("无论文本还是图片都能插入吗？", "zh"), ("Does it need Python 3.8 or later?", "en"),
                    ("What happens if I delete one or more rows?", "en")):
        assert alternatives(q, lang) is None, q


def test_a_question_asking_a_bound_needs_a_sentence_stating_one():
    assert Cue.LIMIT in question_cues("NPV 函数最多能带多少个现金流数值参数？", "zh")
    assert Cue.LIMIT in question_cues("What is the maximum number of copper layers?", "en")
    # The bound is context in another clause: the asking clause wants a value, not a bound.
    assert Cue.LIMIT not in question_cues("约束里的最小间距是 0.2 mm，最终这类网络按多大间距算？", "zh")
    assert sentence_has(Cue.LIMIT, "它支持多达 32 个铜层的 PCB") and sentence_has(Cue.LIMIT, "最短长度两个字符")
    assert not sentence_has(Cue.LIMIT, "由于使用了迭代方式，IRR 可能失败并返回「错误 523」。")
    # A bound written after the number (the Impress help: 三個或更多資料點).
    assert sentence_has(Cue.LIMIT, simplified("您僅可以分割具有三個或更多資料點的曲線。"))
    assert sentence_has(Cue.LIMIT, "Select three or more objects to distribute.")
    for s in ("请执行以下命令", "以上步骤完成后", "最小化窗口", "It is up to you.", "unlimited"):
        assert not sentence_has(Cue.LIMIT, s), s
    assert sentence_has(Cue.LIMIT, "最好把它的长度控制在 8 字符以内")


def test_a_version_question_needs_a_version():
    assert Cue.VERSION in question_cues("SYD 函数是从 LibreOffice 哪个版本开始提供的？", "zh")
    assert Cue.VERSION in question_cues("Which release was the first to make it the default?", "en")
    # A question about the numbering itself asks for no release.
    assert Cue.VERSION not in question_cues("KiCad 的发布版本号是什么格式？", "zh")
    assert Cue.VERSION not in question_cues("What version numbering scheme does KiCad use?", "en")
    assert sentence_has(Cue.VERSION, "在 Etch（Debian 4.0）版本被放弃") and sentence_has(Cue.VERSION, "需要 Python 3")
    assert not sentence_has(Cue.VERSION, "「50,000 个货币单位」")
    for q in ("页面使用什么版式？", "什么版本号格式？", "什么版权协议？"):
        assert Cue.VERSION not in question_cues(q, "zh"), q
    assert Cue.VERSION not in question_cues("Since which year has it existed?", "en")
    # The version is the answer phrase, not a key name or the word before it.
    assert key_span("按F1查看帮助；该函数自 LibreOffice 4.2 起提供。", "该函数从哪个版本开始提供？", "zh") == (13, 28)


def test_a_name_question_and_what_counts_as_a_name():
    assert asks_for_name("直线法折旧用哪个函数？", "zh") and asks_for_name("Which command shows it?", "en")
    assert not asks_for_name("这个函数返回什么？", "zh") and not asks_for_name("What does it return?", "en")
    assert has_name("PMT") and has_name("使用 dpkg 安装") and has_name("x-window-manager")
    # A capitalised English gloss in a Chinese sentence names nothing.
    assert not has_name("返回一项投资的未来值 (Future Value)。")


def test_cues_that_read_the_question_word_in_context():
    # 哪几个 asks which ones (a list), 几个 how many.
    assert question_cues("一个源码包通常由哪几个文件组成？", "zh") == {Cue.LIST}
    assert Cue.NUMBER in question_cues("英伟达推出了几个版本？", "zh")
    # 几年/几天 ask how long; 最初几年 / 近几天 / 几年前 are "a few", 几月几日 a date.
    assert question_cues("稳定版能获得几年的安全更新？", "zh") == {Cue.NUMBER, Cue.UNIT}
    assert question_cues("要等几天才会进入 testing？", "zh") == {Cue.NUMBER, Cue.UNIT}
    # 几秒 / 几毫秒 ask how long as 多少秒 does: a sentence without a number of seconds is no answer.
    for q in ("幻灯片切换效果默认持续几秒？", "按键要按住几秒钟才算数？", "超时是几毫秒？"):
        assert question_cues(q, "zh") == {Cue.NUMBER, Cue.UNIT}, q
    assert sentence_has(Cue.UNIT, "默认持续 2 秒。", "切换效果默认持续几秒？", "zh")
    assert not sentence_has(Cue.UNIT, "从清单中选取投影片切换。", "切换效果默认持续几秒？", "zh")
    for q in ("它最初几年受欢迎吗？", "近几天发生了什么？", "几年前发生了什么？"):
        assert not {Cue.NUMBER, Cue.UNIT} & question_cues(q, "zh"), q
    assert question_cues("几月几日发布？", "zh") == {Cue.TIME}
    # "when" as a conjunction asks for no time; as a question word it does.
    assert Cue.TIME not in question_cues("When one source package builds several binary packages, "
                                         "which directory is used?", "en")
    assert Cue.TIME in question_cues("When did Debian 11 reach its end of life?", "en")
    # 谁 is answered by an organisation as well as by a person.
    assert sentence_has(Cue.PERSON, "它的维护者被设置为 Debian QA Group。")
    assert sentence_has(Cue.PERSON, "黄仁勋在2006年推出了CUDA。")
    assert not sentence_has(Cue.PERSON, "这个软件包可以直接安装。")


def test_a_how_to_question_asks_for_an_instruction_or_a_command():
    assert Cue.STEPS in question_cues("怎么查看 systemd 开机时使用的默认目标？", "zh")
    assert Cue.STEPS in question_cues("想把软件连同设置一起删掉，用什么命令？", "zh")
    assert Cue.STEPS in question_cues("How do I stop a service from starting at boot?", "en")
    assert Cue.STEPS in question_cues("怎么打开屏幕放大镜？", "zh")
    assert Cue.STEPS not in question_cues("不设置时，默认认为查找数据是怎么排序的？", "zh")  # explained, not done
    assert Cue.STEPS not in question_cues("英伟达如何打开中国市场？", "zh")  # a market, not a window
    assert sentence_has(Cue.STEPS, "Press Delete on your keyboard.")  # an English step of a help page
    assert sentence_has(Cue.STEPS, "4. Switch the Tap to Click switch to on.")
    assert not sentence_has(Cue.STEPS, "The network connection should now have a fixed IP address.")
    # A conditional imperative is an instruction too (the GIMP help, the Calc help once folded).
    assert sentence_has(Cue.STEPS, "要移动的话，在矩形中点住和拖动即可。")
    assert sentence_has(Cue.STEPS, simplified("若要確保一個條目被解譯為文字，請在該條目的開頭加上撇號。"))
    assert not sentence_has(Cue.STEPS, simplified("若要為不同的試算表指定不同的自動篩選，必須先定義每個試算表的資料庫範圍。"))
    # Asking how something came about asks for no instruction; how to check a fact on the
    # system does (the answer is the command or the step that shows it).
    assert Cue.STEPS not in question_cues("英伟达是怎么应对禁令的？", "zh")
    assert Cue.STEPS in question_cues("怎么确认它跟踪的是哪个发布版本？", "zh")
    assert Cue.STEPS in question_cues("写之前怎么确认 U 盘对应的是哪个设备名？", "zh")
    assert Cue.STEPS in question_cues("怎么挂载加密的卷？", "zh")
    assert Cue.STEPS not in question_cues("怎么进入那个修复用的模式？", "zh")  # measured: a mode is described
    assert Cue.STEPS not in question_cues("这个程序怎么运行的？", "zh")  # how it works, explained
    assert Cue.STEPS not in question_cues("怎么登录不了？", "zh")  # a fault, not a task
    assert sentence_has(Cue.STEPS, "要显示系统引导时 systemd 的默认目标，请执行 systemctl get-default")
    assert sentence_has(Cue.STEPS, "卸载一个软件包（包括配置文件）：dpkg --purge foo。")
    assert sentence_has(Cue.STEPS, "您可以使用 cron-apt；这一工具定期升级系统。")
    # A command named in prose tells what to run too, and is the answer phrase.
    assert sentence_has(Cue.STEPS, "这通过 saslpasswd2 命令完成，它使用几个参数。")
    assert sentence_has(Cue.STEPS, "This is the purpose of the vgextend command.")
    from app.keyphrase import key_span
    text = "这通过 saslpasswd2 命令完成，它使用几个参数。"
    a, b = key_span(text, "要在 SASL 数据库里注册密码，用哪个命令？", "zh")
    assert text[a:b] == "saslpasswd2"
    # In a program's manual the instruction is a GUI action: a menu path, a labelled control
    # to click or choose, a key to press.
    assert sentence_has(Cue.STEPS, "选择「插入 - 页眉与页脚 - 页脚」，然后选择页面样式。")
    assert sentence_has(Cue.STEPS, "可以在菜单中选择 图像 → 剪裁。")
    assert sentence_has(Cue.STEPS, "在对话框中单击“确定”即可。")
    assert sentence_has(Cue.STEPS, "当蓝色充满物体内部时，就可以按回车键确认了。")
    assert sentence_has(Cue.STEPS, "按 F5 打开导航器。")
    assert not sentence_has(Cue.STEPS, "选择工具经过了优化，初学者更容易上手。")  # 选择 as a noun
    assert not sentence_has(Cue.STEPS, "版本号由主版本 - 次版本组成。")  # a dash in prose
    for prose in ("按“先到先得”的原则分配。", "字段按空格分隔。", "费用按 Enterprise 版本计算。", "访问 p->next 字段。",
                  "Open source software is free.", "Check out the new release."):
        assert not sentence_has(Cue.STEPS, prose), prose
    assert sentence_has(Cue.STEPS, "Open the Activities overview and start typing Mouse.")
    # Saying what happens is not telling what to do.
    assert not sentence_has(Cue.STEPS, "在引导过程中，systemd 会启动默认的目标文件里列出的服务。")
    assert not sentence_has(Cue.STEPS, "英伟达迅速推出了特供版芯片。")
    assert not sentence_has(Cue.STEPS, "the packages are installed by the system")  # English prose
    assert not sentence_has(Cue.STEPS, "since LVM allows adding physical volumes to existing volume groups.")
    assert not sentence_has(Cue.STEPS, "这个命令会删除旧的配置。")  # a command, unnamed
    assert not sentence_has(Cue.STEPS, "您也可以使用它来管理存储设备上的文件。")  # what it is for
    assert not sentence_has(Cue.STEPS, "Run the following command to install it")  # "following" names nothing
    assert key_span("The vgextend command adds a PV.", "Which command adds a PV?", "en") == (4, 12)


def test_a_count_asks_for_its_unit_not_for_what_jieba_glues_to_it():
    # 多少天才会: jieba reads 天才 (genius); the question names no such thing.
    assert [f for f, _ in question_focus("unstable 里修好的软件包一般要等多少天才会进入 testing？")] == ["一般"]
    assert ("纳米", True) in question_focus("昇腾910B采用的是多少纳米的制程工艺？")
    assert ("员工", True) in question_focus("英伟达一共有多少名员工？")


def test_the_verb_after_how_or_why_is_the_task_not_a_focus_word():
    # 怎么确认 / 怎么解决 name the task; the answer says how (use lsb_release), not "confirm".
    assert "确认" not in [f for f, _ in question_focus("我有一台装好 Debian 的机器，怎么确认它跟踪的是哪个发布版本？")]
    assert "解决" not in [f for f, _ in question_focus("依赖库在 Debian 里找不到同名版本，打包时一般怎么解决？")]
    # The verb of a fact question stays: a year sentence without 出生 does not answer it.
    assert ("出生", False) in question_focus("黄仁勋是哪一年出生的？")


def test_a_focus_word_is_a_noun_only_where_it_names_a_thing():
    def nouns(question):
        return [f for f, noun in question_focus(question) if noun]

    # jieba tags these verbs as nouns; CC-CEDICT reads them only as verbs.
    assert "问世" not in nouns("英伟达那套软件是哪年问世的？")
    assert "指向" not in nouns("debian/control 里的 Vcs-Git 字段应该指向什么地址？")
    # Two characters no dictionary knows: jieba's HMM glued a pronoun to a verb (我用).
    assert "我用" not in nouns("这份手册默认我用的是哪个 Debian 版本？")
    # 加什么配置: the word before 什么 is the verb, however jieba cuts it (文件里加 -> 里加, Riga).
    assert "里加" not in nouns("要在哪个文件里加什么配置？")
    # 叫什么名字 asks for a name; 名字 is not a word the answer must hold.
    assert "名字" not in [f for f, _ in question_focus("华为的AI芯片系列叫什么名字？")]
    # Real nouns stay nouns, known to the corpus or not.
    assert ("售价", True) in question_focus("H20芯片在中国市场的售价是多少？")
    assert ("城市", True) in question_focus("德国的JUPITER超算中心建在哪座城市？")


def test_a_noun_that_only_stands_for_the_thing_asked_is_not_a_focus_word():
    # 缩水版产品是哪两款: the answer names the products (A800 和 H800芯片), not 产品.
    assert "产品" not in [f for f, _ in question_focus("英伟达推出的缩水版产品是哪两款？")]
    assert ("售价", True) in question_focus("H20芯片在中国市场的售价是多少？")


def test_cues_accept_digits_spaced_off_from_their_unit():
    # Documents that space Latin and digits off from Chinese (1993 年, 5 天) still give a
    # year, a date or a quantity; a spaced year is still not a quantity.
    assert sentence_has(Cue.YEAR, "Debian 计划于 1993 年由 Ian Murdock 建立")
    assert sentence_has(Cue.TIME, "在 8 月 16 日发布")
    assert sentence_has(Cue.NUMBER, "它在 5 天后也不会进入 testing")
    assert not sentence_has(Cue.NUMBER, "Debian 计划于 1993 年建立")


def test_a_question_asking_which_key_needs_a_sentence_naming_one():
    for q in ("想跳过回收站直接永久删除一个文件，应该按什么键？", "按什么快捷键打开表情选择框？", "这个操作的快捷键是什么？"):
        assert Cue.KEY in question_cues(q, "zh"), q
    assert Cue.KEY in question_cues("Which key sequence creates a new image?", "en")
    assert Cue.KEY in question_cues("What keyboard shortcut opens the menu?", "en")
    assert Cue.KEY not in question_cues("快捷键在哪里编辑？", "zh")  # where, not which key
    assert Cue.KEY not in question_cues("What key lithography machine does China lack?", "en")  # key = main
    assert Cue.KEY not in question_cues("Which key is used to sign the package?", "en")  # a signing key
    assert Cue.KEY not in question_cues("What key does apt use to verify packages?", "en")
    assert Cue.KEY in question_cues("Which key do I press to undo?", "en")
    assert Cue.KEY in question_cues("哪个键可以撤销操作？", "zh") and Cue.KEY in question_cues("要按哪几个键？", "zh")
    assert Cue.KEY not in question_cues("什么键盘布局最常用？", "zh")
    for t in ("按住 Shift 键，然后按键盘上的 Delete 键", "Press Ctrl+;", "恢复窗口 | Super+↓", "就可以按回车键确认了"):
        assert sentence_has(Cue.KEY, t), t
    for t in ("您可以绕过回收站，直接永久删除文件。", "1+1 等于 2", "用 C++ 写的程序", "Select an emoji to insert."):
        assert not sentence_has(Cue.KEY, t), t


def test_a_count_of_a_measure_word_may_be_written_in_chinese_numerals():
    # 几份 is answered by 一份 (one copy); 几个 is not met by 一个, which is mostly "a"; 好几条
    # is "several", no question of how many.
    assert sentence_has(Cue.NUMBER, "组合作品只需包含本授权的一份副本", "需要附几份授权副本？")
    assert sentence_has(Cue.NUMBER, "每个软件包需要两条规则", "需要写几条规则？")
    assert not sentence_has(Cue.NUMBER, "组合作品是一个新作品", "需要附几个副本？")
    for sentence in ("进一步提高性能。", "第一步，打开设置。"):  # no counts of steps
        assert not sentence_has(Cue.NUMBER, sentence, "安装分为几步？"), sentence
    assert not sentence_has(Cue.NUMBER, "在同一行中输入。", "要填几行？")
    assert Cue.NUMBER not in question_cues("这几条规则分别是什么？", "zh")  # these, not how many
    assert Cue.NUMBER in question_cues("需要附几份授权副本？", "zh")
    assert Cue.NUMBER not in question_cues("如果好几条规则都匹配同一个对象，先检查哪一条？", "zh")
    # Which port / which number asks for a number as much as 多少 does.
    assert Cue.NUMBER in question_cues("防火墙里要开放哪个端口号？", "zh")
    assert Cue.NUMBER in question_cues("这个参数有什么默认值？", "zh")
    assert sentence_has(Cue.NUMBER, "5900/tcp 允许您共享桌面", "要开放哪个端口？")
    assert not sentence_has(Cue.NUMBER, "要让其他计算机访问服务，需要在防火墙上打开它的端口。", "要开放哪个端口？")


def test_a_compound_of_two_corpus_words_is_not_an_unknown_noun(project, assistant):
    """jieba keeps 中东国家 whole; a text that writes 中东 and 国家 apart can still answer
    a question about it, so it does not cost the unknown-noun penalty. 纳米, which the text
    never uses, still does."""
    from app import Assistant
    from app.config import AnswerMode, load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "gulf.txt").write_text(
        "来自中东的沙特和阿联酋等国家，正大举投资建设AI算力中心。\n\n它们的芯片主要从美国采购。\n",
        encoding="utf-8")
    cfg = load_config(write_config(project, answer={"min_score": -1}))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    mine = Assistant(cfg, embedder=assistant.embedder)
    answerer = mine._answerers[AnswerMode.EXTRACTIVE]

    def unknown_nouns(question):
        q = mine.prepare(question)
        return answerer.score_sentences(q.resolved, q.query_vector, q.passages, q.language)[0].parts["unknown_nouns"]

    assert unknown_nouns("哪些中东国家在大举投资AI算力？") == 0.0
    assert unknown_nouns("这些国家采购的芯片是多少纳米的？") == -answerer.weights.focus_unknown


def test_a_thing_a_mixed_corpus_names_only_in_english_is_no_unknown_noun(assistant, project):
    """A help page left partly in English may name a thing only in English (台式机: desktop
    computer). The question is about something the corpus does speak of, so it does not cost
    the unknown-noun penalty; a thing named in neither language still does."""
    from app import Assistant
    from app.config import AnswerMode, load_config
    from ingest import ingest

    from .conftest import write_config

    # Enough untranslated English for the corpus to count as partly English.
    filler = " ".join(f"Step {n}: open the settings panel and check option {n}." for n in range(60))
    (project / "corpus" / "power.txt").write_text(
        "# 电源电压\n\n更改电压时一定要仔细。\n\nIf you have a desktop computer, look at the back of the "
        "power supply. Somewhere nearby, there may be a small switch marked 110V or 230V.\n\n" + filler + "\n",
        encoding="utf-8")
    cfg = load_config(write_config(project, answer={"min_score": -1}))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    mine = Assistant(cfg, embedder=assistant.embedder)
    answerer = mine._answerers[AnswerMode.EXTRACTIVE]
    assert answerer.sentences.has_latin

    def unknown_nouns(question):
        q = mine.prepare(question)
        return answerer.score_sentences(q.resolved, q.query_vector, q.passages, q.language)[0].parts["unknown_nouns"]

    assert unknown_nouns("哪种台式机的电源上有电压开关？") == 0.0
    assert unknown_nouns("哪种笔记本的电源上有电压开关？") == -answerer.weights.focus_unknown


def test_cli_ask_prints_answer_and_json(article_config_path):
    run = subprocess.run([sys.executable, "-m", "app", "--config", str(article_config_path), "ask",
                          "华为的异构计算架构叫什么？"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "CANN" in run.stdout and "Citations:" in run.stdout and "ai_compute_war.txt:" in run.stdout
    js = subprocess.run([sys.executable, "-m", "app", "--config", str(article_config_path), "ask", "--json",
                         "红烧肉的家常做法是什么？"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    data = json.loads(js.stdout)
    assert data["found"] is False and data["passages"] and data["citations"] == []


def test_cli_errors_are_one_line_messages(article_config_path, tmp_path):
    empty = subprocess.run([sys.executable, "-m", "app", "--config", str(article_config_path), "ask", "  "],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert empty.returncode == 1 and "error: the question is empty" in empty.stderr
    assert "Traceback" not in empty.stderr
    (tmp_path / "c.yaml").write_text(f"store:\n  path: {tmp_path / 'nothing'}\n", encoding="utf-8")
    missing = subprocess.run([sys.executable, "-m", "app", "--config", str(tmp_path / "c.yaml"), "ask", "问题"],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert missing.returncode == 1 and "no index found" in missing.stderr and "make ingest" in missing.stderr


def test_a_two_part_question_gets_both_facts(assistant):
    answer = assistant.ask("CUDA是哪一年推出的?它等来AlexNet这个“风口”又是在哪一年?")
    assert answer.found and "2006" in answer.text and "2012" in answer.text
    assert len(_sentences_with_markers(answer.text)) >= 2


def test_announced_list_items_are_quoted_even_past_the_passage(assistant):
    answer = assistant.ask("国产算力面前的三座大山分别是什么?")
    assert answer.found
    for item in ("单卡性能的代差", "软件生态的鸿沟", "先进制程的壁垒"):
        assert item in answer.text
    # Every marker still maps to a citation whose text holds the quoted sentence.
    numbers = {c.number: c for c in answer.citations}
    for sentence, n in _sentences_with_markers(answer.text):
        for piece in sentence.strip().split("……"):  # …… marks sentences skipped in between
            # Adjacent sentences on two lines are quoted without the line break.
            assert re.sub(r"\s+", "", piece) in re.sub(r"\s+", "", numbers[n].text)
    assert {c.id for c in answer.citations} <= {p.id for p in answer.passages}


def test_split_subquestions():
    from app.followup import split_subquestions

    assert split_subquestions("CUDA是哪一年推出的?它又是谁推出的?") == ["CUDA是哪一年推出的?", "CUDA又是谁推出的?"]
    assert split_subquestions("华为的异构计算架构叫什么？") == ["华为的异构计算架构叫什么？"]
    # Two questions joined by a comma, each with its own question word; a condition before a
    # comma is not a question of its own.
    assert split_subquestions("手册建议给 quilt 设置一个什么别名，这个别名使用哪个配置文件？") == [
        "手册建议给 quilt 设置一个什么别名", "这个别名使用哪个配置文件？"]
    assert split_subquestions("如果手册和政策有出入，应该听哪个的？") == ["如果手册和政策有出入，应该听哪个的？"]
    # Nor is a clause that says what the asker wants to know: it embeds its question word.
    assert split_subquestions("想知道某个软件包的原作者是谁，应该看哪个文件？") == [
        "想知道某个软件包的原作者是谁，应该看哪个文件？"]
    assert split_subquestions("Which chips did Nvidia release in 2022, and when were they banned?") == [
        "Which chips did Nvidia release in 2022", "when were Nvidia banned?"]


def test_a_comparison_is_split_into_its_two_sides():
    from app.followup import comparison_parts, split_subquestions, subquestion_parts

    q = "Debian Developer 和 Debian Maintainer 在往官方仓库上传软件包的权限上有什么区别？"
    assert subquestion_parts(q) == ["Debian Developer 在往官方仓库上传软件包的权限上",
                                    "Debian Maintainer 在往官方仓库上传软件包的权限上"]
    assert comparison_parts("stable 与 testing 的区别是什么？") == ["stable", "testing"]
    assert comparison_parts("英伟达和AMD的芯片有什么不同？") == ["英伟达的芯片", "AMD的芯片"]
    assert comparison_parts("How does apt differ from dpkg in dependency handling?") == [
        "apt in dependency handling", "dpkg in dependency handling"]
    assert comparison_parts("What is the difference between stable and testing?") == ["stable", "testing"]
    for other in ["华为和百度哪个更强？", "它们有什么区别？", "文章提到了哪些公司和芯片？", "CUDA是什么？",
                  "不同版本的 Debian 有什么区别？",  # the 同 of 不同 joins nothing
                  "为什么英伟达和华为的芯片性能不同？", "哪些公司和英伟达存在差异？", "那和 testing 有什么区别？",
                  "英伟达、AMD和英特尔有什么区别？"]:
        assert comparison_parts(other) == [], other
    # Joining words inside words (参与者, 合同, 跟踪) are not where a comparison splits.
    assert comparison_parts("参与者和维护者有什么区别？") == ["参与者", "维护者"]
    assert comparison_parts("版本跟踪与问题跟踪有什么区别？") == ["版本跟踪", "问题跟踪"]
    assert comparison_parts("A100与H100相比有什么不同？") == ["A100", "H100"]
    assert comparison_parts("穩定版與測試版有什麼區別？") == ["穩定版", "測試版"]  # Traditional, quoted as asked
    # The sides stand alone: the second is not read as a follow-up of the first.
    assert split_subquestions("apt 与 aptitude 有何不同？") == ["apt", "aptitude"]
    assert split_subquestions("What is the difference between stable and testing?") == ["stable", "testing"]


def test_a_comparison_quotes_each_side(assistant):
    answer = assistant.ask("英伟达和华为的芯片有什么不同？")
    assert answer.found
    quoted = [c.text[a:b] for c in answer.citations for a, b in c.highlights]
    assert any("英伟达" in s and "华为" not in s for s in quoted), quoted
    assert any("华为" in s and "英伟达" not in s for s in quoted), quoted


def test_a_part_searched_on_its_own_keeps_the_rank_its_search_gave(assistant):
    # The second part's passages are listed after the whole question's, but its search put
    # them near the top: the answerer weighs them by that rank, not by their place in the list.
    prepared = assistant.prepare("CUDA是哪一年推出的？日本在半导体的哪些领域拥有隐形冠军的实力？", [], top_k=5)
    later = [p for p in prepared.passages if p.rank > 5]
    assert later and all(1 <= p.best_rank <= 5 for p in later)
    assert all(p.best_rank == 0 or p.best_rank <= p.rank for p in prepared.passages)


@pytest.mark.parametrize("question", [
    "这场芯片战争的起因是什么？",     # 这场 is not a pronoun subject
    "美国的出口管制效果怎么样？",     # asks something itself, not "what about X"
    "CUDA是什么？",                 # short, but names its own topic
    "那些产油国为什么舍得砸钱？",
    "Which company makes the chip that Baidu ordered?",
    "Who founded Nvidia?",
])
def test_standalone_questions_are_never_rewritten_by_history(question):
    """Regression: the first follow-up rules rewrote ordinary second turns (A800场芯片战争…)."""
    history = ["A800是哪家公司推出的？", "When was the A800 released?"]
    assert resolve_followup(question, history) == question


def test_gbk_bytes_from_a_terminal_are_repaired(assistant):
    """Regression: GBK bytes in argv arrive as lone surrogates and crashed the embedder."""
    garbled = "华为的异构计算架构叫什么？".encode("gbk").decode("utf-8", "surrogateescape")
    answer = assistant.ask(garbled)
    assert answer.question == "华为的异构计算架构叫什么？" and "CANN" in answer.text


def test_long_history_is_truncated_too(assistant):
    """Regression: a follow-up resolved against a 39,000-char turn was not truncated (33 s)."""
    answer = assistant.ask("为什么？", history=["美国为什么限制芯片出口" * 4000])
    assert len(answer.resolved_question) == assistant.config.answer.max_question_chars


def test_footnote_marks_in_documents_do_not_look_like_citations(project):
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "wiki.txt").write_text(
        "英伟达在2006年推出了CUDA平台[3]。\nHuawei released the Ascend 910 chip in 2019. It was designed for AI training.\n",
        encoding="utf-8")
    cfg = load_config(write_config(project, answer={"min_score": -1}))
    ingest(cfg, progress=False)
    assistant = Assistant(cfg)
    answer = assistant.ask("英伟达哪一年推出了CUDA平台？")
    assert "CUDA平台［3］。[1]" in answer.text
    assert re.findall(r"\[(\d+)\]", answer.text) == ["1"]
    # Latin-script sentences quoted together keep the space between them.
    english = assistant.ask("What was it designed for?", history=["Huawei Ascend 910"])
    assert "in 2019. It was designed for AI training.[1]" in english.text


def test_cli_rejects_a_bad_port_and_top_k_without_traceback():
    for args in (["serve", "--port", "70000"], ["ask", "--top-k", "0", "问题"]):
        run = subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                             timeout=120)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert "is not a TCP port" in run.stderr or "must be at least 1" in run.stderr


def test_a_lone_sentence_brings_the_next_one_of_its_paragraph(project, assistant):
    """Manuals often answer in the sentence after the one that matches the question:
    ``answer.context_next_chars`` quotes it too when both are short, never across a line
    break (a new paragraph, a command line) and never when set to 0."""
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "faq.txt").write_text(
        "您可以通过电子邮件向单独的软件包的维护者提问。要联系软件包 xyz 的维护者，请发送邮件到 xyz@packages.debian.org。\n"
        "软件包的缺陷应当报告到缺陷跟踪系统。\n"
        "报告时请使用 reportbug 工具。\n", encoding="utf-8")
    question = "怎样通过电子邮件向软件包的维护者提问？"
    cfg = load_config(write_config(project, answer={"min_score": -1}))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    answer = Assistant(cfg, embedder=assistant.embedder).ask(question)
    assert "维护者提问。要联系软件包 xyz 的维护者，请发送邮件到 xyz@packages.debian.org。[1]" in answer.text
    cfg.answer.context_next_chars = 0
    assert "xyz@" not in Assistant(cfg, embedder=assistant.embedder).ask(question).text
    cfg.answer.context_next_chars = 150
    across = Assistant(cfg, embedder=assistant.embedder).ask("软件包的缺陷应当报告到哪里？")
    assert "缺陷跟踪系统。[1]" in across.text and "reportbug" not in across.text


def test_the_next_sentence_that_refers_back_is_quoted_with_the_answer(project, assistant):
    """A sentence that goes on about the one quoted (该控制台, 它, 在本例中, It...) is quoted with
    it, even on the next line: the first says where, the next says how. A next line that
    starts on something else is not."""
    from app.answer import _REFERS_BACK, ScoredSentence
    from app.config import AnswerMode

    for said in ("要查看该控制台，请按下 Alt+F4。", "要转置它，必须选择四行。", "在本例中，该值是 15,000。",
                 "This console shows the log."):
        assert _REFERS_BACK.search(said), said
    for said in ("您应该先备份数据。", "安装程序支持 HTTP 和 FTP。", "此外还有图形界面。", "To start the file manager, open Files."):
        assert not _REFERS_BACK.search(said), said
    mine = ingested_assistant(project, {"install.txt": (
        "安装程序的每个对话框都有简短的说明。\n"
        "错误信息和日志被写到第四个虚拟控制台。\n"
        "要查看该控制台，请按下 Alt+F4，按 Alt+F1 返回安装程序。\n"
        "安装完成后系统会自动重启。\n")}, embedder=assistant.embedder, answer={"min_score": -1})
    answer = mine.ask("安装时错误信息和日志会显示在哪里？")
    assert "第四个虚拟控制台。" in answer.text and "Alt+F4" in answer.text, answer.text
    # The answer phrase is looked for in the sentence scored, then after it, then before it:
    # the key that opens the console, not the F1 of the sentence before.
    keys = ingested_assistant(project, {"install.txt": (
        "每个对话框都有帮助信息，可以通过 F1 键访问这些帮助信息。错误信息和日志被重定向到第四个虚拟控制台。"
        "您可以通过按下 Alt+F4 访问该控制台。\n")}, embedder=assistant.embedder, answer={"min_score": -1})
    answerer = keys._answerers[AnswerMode.EXTRACTIVE]
    said = [r.text for r in answerer.sentences.records]
    first, scored, after = (said.index(t) for t in (
        "每个对话框都有帮助信息，可以通过 F1 键访问这些帮助信息。", "错误信息和日志被重定向到第四个虚拟控制台。",
        "您可以通过按下 Alt+F4 访问该控制台。"))
    cand = ScoredSentence(indices=[first, scored], passage=None, score=0.5, cosine=0.0, coverage=0.0, sentence=scored)
    at, span = answerer._key_phrase([first, scored, after], cand, "按什么键去看日志？", "zh", [])
    assert at == after and said[after][span[0]:span[1]] == "Alt+F4"
    assert "自动重启" not in mine.ask("要查看该控制台按什么？").text


def test_a_sentence_that_only_repeats_the_question_is_not_the_answer(project, assistant):
    """A line that quotes the command asked about says nothing new; the line that maps it to
    the new command does (``Weights.echo``: a cost on the repeating sentence)."""
    from app import Assistant
    from app.answer import _novel_chars
    from app.config import AnswerMode, load_config
    from ingest import ingest

    from .conftest import write_config

    assert _novel_chars("apt-get dist-upgrade", ["upgrade", "apt", "get", "dist"]) == 0
    assert _novel_chars("apt-get dist-upgrade -> apt full-upgrade", ["upgrade", "apt", "get", "dist"]) == 4
    (project / "corpus" / "apt.txt").write_text(
        "apt 是一个较新的命令行工具，适合交互使用。\n\napt-get dist-upgrade\n\n"
        "apt-get dist-upgrade -> apt full-upgrade\napt-get remove -> apt remove\n", encoding="utf-8")
    cfg = load_config(write_config(project, answer={"min_score": -1}))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    mine = Assistant(cfg, embedder=assistant.embedder)
    answerer = mine._answerers[AnswerMode.EXTRACTIVE]
    q = mine.prepare("以前用的 apt-get dist-upgrade，换成新的 apt 命令该怎么写？")
    scored = answerer.score_sentences(q.resolved, q.query_vector, q.passages, q.language, q.expansion)
    echo = {answerer.sentences.records[c.sentence].text: c.parts["echo"] for c in scored}
    assert echo["apt-get dist-upgrade"] == -answerer.weights.echo
    assert echo["apt-get dist-upgrade -> apt full-upgrade"] == 0.0


def test_a_sentence_that_stops_mid_clause_brings_its_next_line(project, assistant):
    """Manuals set the command on a line of its own after a sentence that stops without
    punctuation (…而是可以运行); the answer quotes that line too, and only that one, set
    apart by a space since the two have no punctuation between them."""
    from .conftest import ingested_assistant

    answer = ingested_assistant(project, {"boot.txt": (
        "和大多数 Linux 发行版一样，Debian 系统默认使用 systemd 作为 init 的实现。\n"
        "如果您不希望某个特定的服务在开机时被启动，您不必卸载对应的软件包，而是可以运行\n"
        "systemctl disable service.service\n"
        "这会删除该服务的符号链接。\n")}, assistant.embedder, answer={"min_score": -1}
    ).ask("不想让某个服务开机启动，又不想卸载它，该怎么办？")
    assert "而是可以运行 systemctl disable service.service[1]" in answer.text
    assert "符号链接" not in answer.text


def test_a_greeting_is_not_a_word_to_look_for(project, assistant):
    """你好 is no content: as a substring it matched 祝你好运 and the greeting got that line
    as its answer. Greetings and thanks are stop words, so 你好，你是谁？ abstains."""
    from app import Assistant
    from app.config import load_config
    from app.text import content_terms
    from ingest import ingest

    from .conftest import write_config

    assert content_terms("你好，请问 dpkg 是什么？谢谢") == ["dpkg"]
    (project / "corpus" / "end.txt").write_text(
        "打包完成后，把软件包上传到仓库。\n\n祝你好运！\n", encoding="utf-8")
    ingest(load_config(write_config(project)), progress=False, embedder=assistant.embedder)
    mine = Assistant(load_config(write_config(project)), embedder=assistant.embedder)
    answer = mine.ask("你好，你是谁？")
    assert not answer.found and "祝你好运" not in answer.text


def test_a_later_part_points_back_at_what_the_earlier_part_found(project, assistant):
    """In "which tool replaces oldpack, and which package provides its documentation?"
    *its* is the tool the first part finds, not oldpack: the second part is searched as
    asking about fastpack, named by the first part's answer."""
    from app import Assistant
    from app.config import load_config
    from app.followup import back_reference, part_rewrites
    from ingest import ingest

    from .conftest import write_config

    assert back_reference("它又是谁推出的？") == (0, 1, False)
    assert back_reference("which package provides the documentation?") is None
    assert part_rewrites("which package provides its documentation?", "Which tool replaces oldpack",
                         "新的 fastpack 可以代替 oldpack。") == ["which package provides fastpack documentation?"]
    (project / "corpus" / "tools.txt").write_text(
        "新的 fastpack 工具可以作为旧的 oldpack 工具的代替品。\n\n"
        "fastpack 的 HTML 文档可以通过 fastpack-doc 软件包获取。\n\n"
        "oldpack 的 HTML 文档在 oldpack-doc 软件包里。\n", encoding="utf-8")
    cfg = load_config(write_config(project, answer={"min_score": -1}))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    mine = Assistant(cfg, embedder=assistant.embedder)
    q = "Which newer tool can replace oldpack, and which package provides its HTML documentation?"
    prepared = mine.prepare(q)
    assert [p for p, _ in prepared.subquestions][1] == "which package provides fastpack HTML documentation?"
    answer = mine.ask(q)
    assert "fastpack-doc" in answer.text and "oldpack-doc" not in answer.text


def test_a_quote_that_refers_back_brings_its_antecedent_in_either_script(project, assistant):
    """它… after 這一工具… after 您可以使用 cron-apt: a quote opening with a pronoun or a
    demonstrative brings the sentence it refers to, two steps back if need be, in
    Traditional script as in Simplified."""
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "upgrade.txt").write_text(
        "Debian 系統可以自動升級嗎？\n\n"
        "可以。您可以使用 cron-apt；這一工具使用 cron 任務定期升級系統。它預設只更新軟體包列表並下載新的軟體包，但不安裝它們。\n",
        encoding="utf-8")
    cfg = load_config(write_config(project, answer={"min_score": -1}))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    answer = Assistant(cfg, embedder=assistant.embedder).ask("它默认会安装下载的软件包吗？")
    assert answer.found and "預設只更新" in answer.text and "cron-apt" in answer.text


def test_an_english_quote_that_refers_back_brings_its_antecedent(project, assistant):
    """"…the first time you press this key combination" names no key: the sentence before
    it, which does (F4), comes with it, as for a leading 这/它."""
    from .conftest import ingested_assistant

    answer = ingested_assistant(project, {"references.txt": (
        "Absolute references\n\n"
        "LibreOffice can convert the current reference from relative to absolute by pressing F4. "
        "If you start with a relative address such as A1, the first time you press this key combination, "
        "both row and column are set to absolute references ($A$1).\n")}, assistant.embedder,
        answer={"min_score": -1}).ask("What happens to A1 the first time I press the key combination?")
    assert answer.found and "$A$1" in answer.text and "F4" in answer.text, answer.text


def test_followups_in_traditional_script_are_resolved_too():
    """The follow-up rules read a Traditional conversation as Simplified (這個, 為什麼, 誰):
    a rewrite comes out in Simplified characters (no phrase changes: 文件 stays 文件), a
    standalone question as asked."""
    from app.followup import followup_candidates, may_depend_on_history

    h = [("英偉達在2022年底推出了哪些特供版晶片？", "英偉達在2022年底推出了“特供版”A800和H800晶片。")]
    assert followup_candidates("為什麼？", h) == ["英伟达在2022年底推出了哪些特供版晶片？ 为什么？"]
    assert followup_candidates("它是哪一年推出的？", [("華為的異構計算架構叫什麼？", "遷移到華為的CANN(異構計算架構)之上。")])[0] \
        == "CANN是哪一年推出的？"
    assert followup_candidates("華為的晶片叫什麼？", h) == ["華為的晶片叫什麼？"]
    assert may_depend_on_history("這款晶片是誰造的？", h)
    assert followup_candidates("用它怎么查出一个文件属于哪个软件包？", [("apt 依赖什么？", "apt 依赖 dpkg。")])[0] \
        == "用dpkg怎么查出一个文件属于哪个软件包？"


def test_each_part_of_a_two_part_question_is_searched_for_on_its_own(project, assistant):
    """The whole question's words lean to one part; each part is also retrieved by itself,
    so with one passage per search both facts are still found and cited."""
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "a.txt").write_text("星河造船厂成立于1952年，最初只修理渔船。\n", encoding="utf-8")
    (project / "corpus" / "b.txt").write_text("蓝湾航运公司的总部设在青岛，拥有四十条货轮。\n", encoding="utf-8")
    cfg = load_config(write_config(project, retrieval={"top_k": 1}))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    answer = Assistant(cfg, embedder=assistant.embedder).ask("星河造船厂是哪一年成立的？蓝湾航运公司的总部设在哪座城市？")
    assert answer.found, answer.text
    assert "1952" in answer.text and "青岛" in answer.text
    assert {c.source for c in answer.citations} == {"a.txt", "b.txt"}


def test_a_sentence_that_announces_steps_brings_them_without_a_colon(project, assistant):
    """这分为以下两步。 announces what follows as a colon does: the steps are the answer,
    the announcing sentence alone tells nothing."""
    from app import Assistant
    from app.config import load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "tools.txt").write_text(
        "现在有了前景选择工具，可以很容易选择出单独的物体了。这分为以下两步。"
        "首先，选择一个区域，要包含整个物体。然后，在物体内部涂抹前景。\n\n"
        "剪裁工具也经过了优化，可以在画布上直接调整矩形。\n", encoding="utf-8")
    cfg = load_config(write_config(project))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    answer = Assistant(cfg, embedder=assistant.embedder).ask("前景选择工具怎么用？分为几步？")
    assert answer.found
    assert "这分为以下两步。" in answer.text and "首先，选择一个区域" in answer.text and "然后，在物体内部涂抹前景" in answer.text


def test_only_a_sentence_that_ends_by_announcing_brings_what_follows():
    from app.answer import _ANNOUNCES_END

    for announces in ("这分为以下两步。", "方法如下：", "有以下三种。", "安装分三步："):
        assert _ANNOUNCES_END.search(announces), announces
    for says in ("会议定于下午三点。", "气温降到零度以下。", "年龄在 18 岁以下。", "结果如下图所示。", "然后执行第二步。"):
        assert not _ANNOUNCES_END.search(says), says


def test_a_description_is_quoted_with_the_option_it_describes(project, assistant):
    """A manual's definition list sets the option (``-r, --reverse``, ``bs=bytes``) on a line
    of its own above its description: the description alone does not say which option it
    is, so the answer quotes the key line with it. A command line or a sentence above a
    paragraph is no such key."""
    from app import Assistant
    from app.answer import _KEY_LINE
    from app.config import load_config
    from ingest import ingest

    from .conftest import write_config

    (project / "corpus" / "tool.1.txt").write_text(
        "TOOL(1)\n\n选项\n"
        "       -r, --reverse\n              按相反的顺序输出结果。\n\n"
        "       bs=bytes\n              一次读和写 bytes 字节，默认是 512 字节。\n\n"
        "       --color[=WHEN]\n              用颜色区分文件类型，WHEN 可以是 never、always 或 auto。\n\n"
        "例子\n       tool -r list.txt\n       把 list.txt 的行倒过来打印到标准输出。\n",
        encoding="utf-8")
    cfg = load_config(write_config(project, answer={"min_score": -1}))
    ingest(cfg, progress=False, embedder=assistant.embedder)
    mine = Assistant(cfg, embedder=assistant.embedder)

    assert "--reverse" in mine.ask("怎样让结果按相反的顺序输出？").text
    assert "bs=bytes" in mine.ask("一次读写多少字节由哪个参数决定？默认是多少？").text
    assert "--color" in mine.ask("怎么用颜色区分不同的文件类型？").text
    for key in ("-r, --reverse", "bs=bytes", "--color[=WHEN]", "-f FILE", "noerror", "PMT"):
        assert _KEY_LINE.fullmatch(key), key
    for not_key in ("tool -r list.txt", "apt-get install foo", "Click Apply.", "「示例」", "LIBS = -lfoo -lbar",
                    "Distributor ID: Debian"):
        assert not _KEY_LINE.fullmatch(not_key), not_key


def test_asked_how_the_answer_quotes_the_steps_of_the_procedure(project, assistant):
    """A help page says what can be done, then numbers the steps: asked how, the answer is the
    procedure (the sentence that says it can be done, then each numbered step while they fit),
    each step with its number and the lines it holds, up to the next procedure's heading."""
    mine = ingested_assistant(project, {"vectorize.md": (
        "# 将位图转换成矢量图形\n\n"
        "矢量图形可以改变大小而不降低质量。您可以将位图图像转换成矢量图形。\n"
        "1. 选取要转换的位图图像。\n"
        "2. 执行以下操作之一：\n"
        "In Draw, choose Shape - Convert - To Polygon.\n"
        "在 Impress 中，在对象上单击鼠标右键，然后选择「转换 - 变成多边形」。\n"
        "3. 在对话框中设置颜色数，然后单击「确定」。\n"
        "\n"
        "# 裁剪图片\n\n"
        "1. 选取图片。\n"
        "2. 拖动裁剪框的边缘。\n")}, embedder=assistant.embedder, answer={"min_score": -1})
    answer = mine.ask("怎么把位图转换成矢量图形？")
    assert "1. 选取要转换的位图图像。" in answer.text, answer.text
    assert "变成多边形" in answer.text and "单击「确定」" in answer.text, answer.text
    assert "拖动裁剪框" not in answer.text, answer.text  # another procedure
    assert "To Polygon. 在 Impress 中" in answer.text, answer.text  # an English sentence keeps its space
    # A later step that matches best is quoted with the steps before it, from 1. on.
    later = mine.ask("转换位图时，怎么在对话框中设置颜色数？")
    assert "1. 选取要转换的位图图像。" in later.text and "颜色数" in later.text, later.text


def test_a_question_asking_for_a_named_thing_needs_a_sentence_that_names_one(project, assistant):
    """哪个变量 / 哪些协议 / which option asks for a name (:data:`Cue.NAME`): a sentence on
    the topic that names nothing does not answer it, however many of its words it repeats."""
    assert Cue.NAME in question_cues("允许哪些网络发送邮件是由 main.cf 里的哪个变量决定的？", "zh")
    assert Cue.NAME in question_cues("安装过程中通过网络获取文件时，可以使用哪些协议？", "zh")
    assert Cue.NAME in question_cues("Which option keeps the old title?", "en")
    # A command, a key or a number asked for has its own cue; 哪些包含 is no package.
    for q in ("用什么命令查看日志？", "哪个快捷键能撤销？", "哪些包含中文的文件需要转换？"):
        assert Cue.NAME not in question_cues(q, "zh"), q
    assert sentence_has(Cue.NAME, "配置文件中的相关变量是 mynetworks。", "哪个变量")
    assert sentence_has(Cue.NAME, simplified("選擇 [檢視] - [頁首與頁尾]。"), "哪个选项")
    assert sentence_has(Cue.NAME, "KiCad 使用具有以下扩展名的文件：", "什么扩展名")  # the list follows
    assert not sentence_has(Cue.NAME, "安装过程中可以使用网络来获取安装所需要的文件。", "哪些协议")
    # The name the question states is not the one it asks for.
    assert not sentence_has(Cue.NAME, "Postfix 的配置文件是 main.cf。", "main.cf 里的哪个变量")
    answer = ingested_assistant(project, {"install.txt": (
        "网络安装\n\n"
        "安装过程中可以使用网络来获取安装所需要的文件。是否使用网络取决于您选择的安装方法。"
        "安装系统支持大多数类型的网络连接，使用 HTTP 或 FTP。\n")}, embedder=assistant.embedder,
        answer={"min_score": -1}).ask("安装过程中通过网络获取文件时，可以使用哪些协议？")
    assert answer.text.startswith("安装系统支持") and "HTTP" in answer.text, answer.text


def test_a_near_tie_is_quoted_with_the_best(assistant):
    """Two sentences the scores cannot tell apart (``Weights.tie_margin``) are both quoted:
    the article's last claim scores just under a sentence that also speaks of the future."""
    from dataclasses import replace

    from app.assistant import AnswerMode

    q = "文章最后一句断言:未来是怎么来的?"
    answerer = assistant._answerers[AnswerMode.EXTRACTIVE]
    both = assistant.ask(q)
    assert "当下的每一步" in both.text and "未来,是被计算出来的" in both.text
    assert both.text.index("当下的每一步") < both.text.index("计算出来")  # the best one first
    saved = answerer.weights
    try:
        answerer.weights = replace(saved, tie_margin=0.0)
        one = assistant.ask(q)
    finally:
        answerer.weights = saved
    assert one.found and "当下的每一步" in one.text and "计算出来" not in one.text
