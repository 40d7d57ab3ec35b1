"""The citation verifier (app/verify.py): sentence splitting, fact extraction, and its
calibration on the hand-written claim pairs of three corpora (eval/claims/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import Assistant
from app.verify import VerifierWeights, claim_facts, split_answer

ROOT = Path(__file__).resolve().parent.parent


def test_split_keeps_each_sentences_markers():
    text = "华为的架构叫CANN。[1] 它于2018年发布[2]。没有出处的一句。[1][3] CUDA came first. [2] Then more"
    assert split_answer(text) == [
        ("华为的架构叫CANN。[1]", [1]),
        ("它于2018年发布[2]。", [2]),
        ("没有出处的一句。[1][3]", [1, 3]),
        ("CUDA came first. [2]", [2]),
        ("Then more", []),
    ]


def test_a_marker_only_fragment_joins_the_sentence_before_it():
    assert split_answer("甲是乙。\n[1]") == [("甲是乙。\n[1]", [1])]
    assert split_answer("") == []


def test_claim_facts_are_numbers_codes_and_chinese_numerals_with_a_measure_word():
    assert claim_facts("2022年10月，英伟达推出H20，售价约二十万元。[1]", english=False) == {
        "2022", "10", "h20", "二十万"}
    assert claim_facts("一个标志性的时刻。", english=False) == set()  # 一个 is an article
    facts = claim_facts("The US BIS rules hit the A100 and GeForce cards in 2022.", english=True)
    assert facts == {"us", "bis", "a100", "geforce", "2022"}  # plain English words are not facts


def test_unsupported_claims_score_below_supported_ones_on_the_article(assistant):
    from app.passages import Citation

    verifier = assistant.verifier
    passage = next(p for p in assistant.retrieve("华为的异构计算架构叫什么？") if "CANN" in p.text)
    cite = Citation(**vars(passage), number=1)
    good, changed, outside, bare = verifier.verify(
        "中国的AI公司开始把模型从CUDA迁移到华为的CANN上。[1] 中国的AI公司开始把模型从CUDA迁移到百度的昆仑上。[1] "
        "华为的股价因此在当天上涨了百分之三十。[1] 华为的CANN是异构计算架构。", [cite])
    assert good.supported and good.markers == [1]
    assert not changed.supported and not outside.supported
    assert good.support > max(changed.support, outside.support)
    assert not bare.supported and bare.support == 0.0 and bare.markers == []


@pytest.fixture(scope="module")
def claim_pairs(article_config_path):
    """Every claim pair with its features, measured over each corpus's own index (built
    incrementally in the test project's data dir, shared with the eval gate)."""
    from eval.verify import load_pairs

    return load_pairs(Assistant.from_config(article_config_path))


def test_claim_files_are_balanced_and_every_evidence_is_found(claim_pairs):
    rows = [json.loads(line) for path in sorted((ROOT / "eval" / "claims").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == len(claim_pairs) == 120  # no evidence string was missing from its index
    assert sum(r["supported"] for r in rows) == 60


def test_verifier_calibration_meets_its_floors_in_sample_and_held_out(claim_pairs):
    """Precision and recall of "supported" with the shipped weights, and leave-one-corpus-out
    (fit on two corpora, score the third). Measured: defaults P 0.929 R 0.867; held out,
    pooled, P 0.883 R 0.883, 88% of unsupported claims caught."""
    from eval.verify import rates, report, scores

    defaults = VerifierWeights()
    shipped = rates(claim_pairs, scores(claim_pairs, defaults), defaults.threshold)
    print(f"verifier, shipped weights: {shipped}")
    assert shipped["precision"] >= 0.88 and shipped["recall"] >= 0.8 and shipped["unsupported_caught"] >= 0.88
    rep = report(claim_pairs, defaults)
    held = rep["held_out_all"]
    print(f"verifier, held out (pooled): {held}")
    assert held["precision"] >= 0.83 and held["recall"] >= 0.83 and held["unsupported_caught"] >= 0.83
    for corpus, r in rep["corpora"].items():
        assert r["held_out"]["balanced"] >= 0.8, corpus
