"""The assistant as LlamaIndex components (app/llamaindex.py), checked with LlamaIndex's own
tools: its retriever interface, its query-engine Response, and its RetrieverEvaluator."""

from __future__ import annotations

import re
from pathlib import Path

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.evaluation import RetrieverEvaluator
from llama_index.core.retrievers import BaseRetriever

from eval.dataset import load_dataset
from app.text import normalize

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "华为的异构计算架构叫什么？"


def test_as_retriever_is_a_llamaindex_retriever_with_our_spans_and_sections(assistant):
    retriever = assistant.as_retriever(top_k=4)
    assert isinstance(retriever, BaseRetriever)
    hits = retriever.retrieve(QUESTION)
    ours = assistant.retrieve(QUESTION, top_k=4)
    assert [h.node.node_id for h in hits] == [p.id for p in ours]
    assert [h.score for h in hits] == [p.score for p in ours]
    first, passage = hits[0].node, ours[0]
    assert first.text == passage.text
    meta = first.metadata
    assert (meta["source"], meta["char_start"], meta["char_end"], meta["line_start"]) == (
        passage.source, passage.char_start, passage.char_end, passage.line_start)
    assert "section" in meta and meta["location"] == passage.location
    # Spans are for display: they stay out of what a downstream LLM sees.
    assert "char_start" not in first.get_content(metadata_mode="llm")


def test_as_query_engine_returns_a_response_with_the_cited_passages(assistant):
    engine = assistant.as_query_engine()
    assert isinstance(engine, BaseQueryEngine)
    response = engine.query(QUESTION)
    answer = assistant.ask(QUESTION)
    assert response.response == answer.text and "CANN" in response.response
    assert response.metadata["found"] is True and response.metadata["confidence"] == answer.confidence
    assert [n.node.node_id for n in response.source_nodes] == [c.id for c in answer.citations]
    cited = response.source_nodes[0].node
    assert cited.metadata["citation"] == 1 and cited.metadata["highlights"]
    start, end = cited.metadata["highlights"][0]
    assert cited.text[start:end] in response.response  # the quoted sentence, verbatim


def test_query_engine_abstains_with_the_closest_passages_as_sources(assistant):
    response = assistant.as_query_engine().query("红烧肉的家常做法是什么？")
    assert response.metadata["found"] is False and "没有找到" in response.response
    assert response.source_nodes and "citation" not in response.source_nodes[0].node.metadata


def test_query_engine_takes_history_for_follow_ups(assistant):
    engine = assistant.as_query_engine(history=["英伟达在2022年底推出了哪些特供版芯片？"])
    response = engine.query("那H20呢？")
    assert response.metadata["resolved_question"] and "H20" in response.response


def _expected_ids(assistant, evidence: list[str]) -> list[str]:
    """Ids of the chunks that hold any of the gold evidence strings."""
    wanted = [normalize(e) for e in evidence]
    return [c.id for c in assistant.lexical.chunks if any(w and w in normalize(c.text) for w in wanted)]


def test_llamaindex_retriever_evaluator_scores_our_retriever_on_the_gold_set(assistant):
    """LlamaIndex's own RetrieverEvaluator (hit_rate, mrr) over the article's answerable gold
    questions, with the chunks holding each question's evidence as the expected ids."""
    gold = load_dataset(ROOT / "eval" / "datasets" / "article_gold.jsonl")
    evaluator = RetrieverEvaluator.from_metric_names(["hit_rate", "mrr"], retriever=assistant.as_retriever(top_k=5))
    hits, mrrs = [], []
    for q in gold.questions:
        if not q.answerable or q.lang != "zh":
            continue
        expected = _expected_ids(assistant, q.evidence)
        if not expected:
            continue
        result = evaluator.evaluate(q.question, expected_ids=expected)
        hits.append(result.metric_vals_dict["hit_rate"])
        mrrs.append(result.metric_vals_dict["mrr"])
    hit_rate, mrr = sum(hits) / len(hits), sum(mrrs) / len(mrrs)
    print(f"RetrieverEvaluator on {len(hits)} gold questions: hit_rate@5 {hit_rate:.3f}, mrr {mrr:.3f}")
    assert len(hits) >= 40
    assert hit_rate >= 0.95 and mrr >= 0.85  # measured here: 1.000 and 0.969


def test_the_readme_llamaindex_example_runs(article_config_path, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- llamaindex-example.*?-->\s*```python\n(.*?)```", readme, re.S)
    assert block, "README lost its LlamaIndex example"
    code = block.group(1).replace('"config.yaml"', repr(str(article_config_path)))
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "CANN" in out and "hit_rate" in out
