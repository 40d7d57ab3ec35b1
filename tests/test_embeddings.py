"""The query batcher (app.embeddings.QueryBatcher): questions that arrive together are
embedded in one engine call, each caller gets its own vector, identical to a lone call."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.embeddings import QueryBatcher


def _run_together(fn, args):
    results: dict = {}
    errors: dict = {}
    start = threading.Barrier(len(args))

    def call(i, a):
        start.wait()
        try:
            results[i] = fn(a)
        except Exception as exc:
            errors[i] = exc

    threads = [threading.Thread(target=call, args=(i, a)) for i, a in enumerate(args)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results, errors


def test_concurrent_callers_share_batches_and_get_their_own_vectors():
    batches: list[list[str]] = []

    def engine(texts):
        batches.append(list(texts))
        time.sleep(0.05)  # while it runs, the others queue up
        return np.array([[float(len(t)), float(t.count("x"))] for t in texts])

    batcher = QueryBatcher(engine, max_batch=4)
    texts = ["x" * i + "y" * (10 - i) for i in range(10)]
    results, errors = _run_together(batcher, texts)
    assert not errors
    assert all(results[i].tolist() == [10.0, float(i)] for i in range(10))
    assert sorted(t for b in batches for t in b) == sorted(texts)  # each embedded exactly once
    assert len(batches) < 10 and max(len(b) for b in batches) <= 4


def test_a_lone_caller_is_embedded_at_once_and_errors_reach_every_caller_in_the_batch():
    calls = []
    batcher = QueryBatcher(lambda texts: calls.append(texts) or np.ones((len(texts), 2)))
    assert batcher("问题").tolist() == [1.0, 1.0] and calls == [["问题"]]

    def broken(texts):
        time.sleep(0.05)
        raise RuntimeError("engine failed")

    failing = QueryBatcher(broken)
    results, errors = _run_together(failing, ["a", "b", "c"])
    assert not results and len(errors) == 3 and all("engine failed" in str(e) for e in errors.values())
    with pytest.raises(RuntimeError):  # usable again afterwards: it raises again, it does not hang
        failing("d")


def test_the_real_embedder_gives_identical_vectors_alone_and_batched(assistant):
    questions = ["华为的异构计算架构叫什么？", "Which company makes the Kunlun chip?", "黄仁勋是哪一年出生的？",
                 "英伟达在2022年底推出了哪些特供版芯片？"] * 2
    alone = [assistant.embedder.embed_query(q) for q in questions]
    together, errors = _run_together(assistant.embedder.embed_query, questions)
    assert not errors
    for i in range(len(questions)):
        assert np.array_equal(together[i], alone[i])


def test_passage_vectors_do_not_depend_on_the_batch(assistant):
    """What the suite's passage memo (tests/conftest.py) relies on, checked on the real model."""
    embedder = assistant.embedder
    texts = ["短句。", "昇腾(Ascend)是华为的AI芯片品牌，与CANN异构计算架构一起构成其算力生态的核心。", "dpkg --purge foo",
             "The Debian FAQ answers common questions about the distribution."]
    batched = embedder.real_embed_documents(texts)
    for i, text in enumerate(texts):
        assert np.array_equal(embedder.real_embed_documents([text])[0], batched[i])
    assert np.array_equal(embedder.embed_documents(texts[::-1]), batched[::-1])  # the memo returns the same


@pytest.mark.parametrize("max_batch", [1, 3])
def test_max_batch_bounds_each_engine_call(max_batch):
    sizes = []

    def engine(texts):
        sizes.append(len(texts))
        time.sleep(0.02)
        return np.zeros((len(texts), 1))

    batcher = QueryBatcher(engine, max_batch=max_batch)
    _, errors = _run_together(batcher, [str(i) for i in range(7)])
    assert not errors and sum(sizes) == 7 and max(sizes) <= max_batch
