"""Chunking invariants on the real article: exact spans, whole sentences, configured overlap."""

from __future__ import annotations

import re

import pytest

from app.text import split_long, split_sentences, Span
from ingest.chunking import LineIndex, chunk_document, sentence_records
from ingest.loaders import Document

from .conftest import ARTICLE

SENTENCE_END = re.compile(r"[。！？!?；;…][”’」』）)\"']*$")


@pytest.fixture(scope="module")
def article() -> Document:
    return Document("ai_compute_war.txt", ARTICLE.read_text(encoding="utf-8"), "x")


@pytest.mark.parametrize("max_chars,overlap", [(300, 1), (150, 0), (400, 2)])
def test_every_chunk_is_its_exact_source_span(article, max_chars, overlap):
    chunks = chunk_document(article, max_chars, overlap)
    lines = article.text.split("\n")
    for c in chunks:
        assert article.text[c.char_start:c.char_end] == c.text
        assert len(c.text) <= max_chars
        # Line span, computed independently: the lines holding the first and last character.
        assert c.line_start == article.text.count("\n", 0, c.char_start) + 1
        assert c.line_end == article.text.count("\n", 0, c.char_end - 1) + 1
        assert lines[c.line_start - 1] in c.text or c.text in lines[c.line_start - 1] or \
            c.text.startswith(lines[c.line_start - 1][-len(c.text.split("\n")[0]):])


def test_no_chunk_ends_mid_sentence(article):
    chunks = chunk_document(article, 300, 1)
    # The article's lines all end with sentence punctuation; a chunk must end on one too
    # unless a single sentence was longer than the limit (none is at 300 chars).
    for c in chunks:
        assert SENTENCE_END.search(c.text) or c.text.endswith(("”", ":", "：")) or "\n" in article.text[c.char_end:c.char_end + 1], c.text[-20:]


def test_the_whole_article_is_covered(article):
    chunks = chunk_document(article, 300, 1)
    covered = set()
    for c in chunks:
        covered.update(range(c.char_start, c.char_end))
    text_positions = {i for i, ch in enumerate(article.text) if not ch.isspace()}
    assert text_positions <= covered


def test_overlap_is_the_configured_number_of_sentences(article):
    chunks = chunk_document(article, 300, 1)
    sentences = split_sentences(article.text)
    for a, b in zip(chunks, chunks[1:]):
        shared = [s for s in sentences if s.start >= b.char_start and s.end <= a.char_end]
        assert len(shared) == 1
    no_overlap = chunk_document(article, 300, 0)
    for a, b in zip(no_overlap, no_overlap[1:]):
        assert b.char_start >= a.char_end


def test_chunk_ids_are_stable_and_unique(article):
    first = [c.id for c in chunk_document(article, 300, 1)]
    assert first == [c.id for c in chunk_document(article, 300, 1)]
    assert len(set(first)) == len(first)
    renamed = Document("other.txt", article.text, "x")
    assert not set(first) & {c.id for c in chunk_document(renamed, 300, 1)}


def test_repeated_text_gets_distinct_ids():
    doc = Document("r.txt", "同一句话。\n同一句话。\n同一句话。", "x")
    ids = [c.id for c in chunk_document(doc, 6, 0)]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_sentence_splitting_keeps_closing_quotes_and_spans():
    text = "他说：“走吧！”然后离开。GPT-3.5很强?是的…… 好"
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["他说：“走吧！”", "然后离开。", "GPT-3.5很强?", "是的……", "好"]
    for s in spans:
        assert text[s.start:s.end] == s.text


def test_decimal_points_do_not_split():
    assert len(split_sentences("版本3.5发布了。")) == 1


def test_the_number_of_a_step_stays_with_its_step():
    """Help pages number their steps (1. 選取要轉換的點陣圖影像。): the number is no sentence
    of its own, so a quoted step reads as one and an instruction starts with its number."""
    text = "您可以將點陣圖影像轉換成向量圖形。\n1. 選取要轉換的點陣圖影像。\n2. Click Apply. It works.\n見 3. 然後"
    assert [s.text for s in split_sentences(text)] == [
        "您可以將點陣圖影像轉換成向量圖形。", "1. 選取要轉換的點陣圖影像。", "2. Click Apply.", "It works.", "見 3.", "然後"]


def test_semicolons_inside_brackets_separate_arguments_not_sentences():
    text = "=DDB(75000;1;60;12;2) = 1,721.81 个货币单位。语法：MIRR(Values; Investment; ReinvestRate)；下一句。"
    assert [s.text for s in split_sentences(text)] == [
        "=DDB(75000;1;60;12;2) = 1,721.81 个货币单位。", "语法：MIRR(Values; Investment; ReinvestRate)；", "下一句。"]
    assert len(split_sentences("第一句; 第二句")) == 2  # outside brackets a semicolon still ends one
    assert [s.text for s in split_sentences("NPV(Rate; Number 1 [; Number 2 [; …[; Number 254]]])")] == [
        "NPV(Rate; Number 1 [; Number 2 [; …[; Number 254]]])"]
    # An opener never closed suppresses nothing.
    assert len(split_sentences("见 (附录；第二句；第三句")) == 3


def test_sentences_glued_by_extraction_are_split():
    assert [s.text for s in split_sentences("If omitted, 1000 is used.We recommend it. Node.js stays.")] == [
        "If omitted, 1000 is used.", "We recommend it.", "Node.js stays."]
    # Dotted names are no glued sentences.
    for text in ("绘制 Edge.Cuts：如果启用，Edge.Cuts 图层。", "pcbnew.GetBoard() returns it.", "ThisComponent.Sheets here",
                 "oCell.String is set.", "com.sun.star.Text is there."):
        assert len(split_sentences(text)) == 1, text
    # An opener left unclosed (a smiley) does not hide the pair after it.
    assert len(split_sentences("表情 :-( 然后 =SUM(A1;B1) 计算。")) == 1


def test_long_sentence_splits_on_clause_marks_then_hard_wraps():
    sentence = "甲" * 40 + "，" + "乙" * 40 + "、" + "丙" * 130
    pieces = split_long(Span(10, 10 + len(sentence), sentence), 50)
    assert "".join(p.text for p in pieces) == sentence
    assert all(len(p.text) <= 50 for p in pieces)
    assert pieces[0].text.endswith("，")
    assert pieces[0].start == 10


def test_long_sentence_in_a_document_is_cut_only_at_the_limit():
    text = "短句。" + "很长的一句话，" * 60 + "结束。"
    chunks = chunk_document(Document("l.txt", text, "x"), 100, 0)
    assert all(len(c.text) <= 100 for c in chunks)
    assert "".join(c.text for c in chunks).replace("\n", "") == text


def test_line_index():
    idx = LineIndex("a\nbb\n\nc")
    assert [idx.line(i) for i in (0, 2, 3, 5, 6)] == [1, 2, 2, 3, 4]


def test_sentence_records_have_spans(article):
    recs = sentence_records(article, 300)
    assert len(recs) > 100
    for r in recs[:50]:
        assert article.text[r.char_start:r.char_end] == r.text


def test_no_chunk_lies_inside_its_predecessor():
    """Regression: with overlap, sentences of 200 + 90 + 250 chars gave a chunk inside the first."""
    text = "甲" * 199 + "。" + "乙" * 89 + "。" + "丙" * 249 + "。"
    chunks = chunk_document(Document("x.txt", text, "x"), 300, 1)
    for a, b in zip(chunks, chunks[1:]):
        assert b.char_end > a.char_end
    assert "".join(dict.fromkeys(c.text for c in chunks)).count("乙") >= 89


@pytest.mark.parametrize("max_chars", [150, 200, 300])
def test_article_chunks_always_advance(article, max_chars):
    chunks = chunk_document(article, max_chars, 1)
    assert all(b.char_end > a.char_end for a, b in zip(chunks, chunks[1:]))
