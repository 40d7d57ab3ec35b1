"""The query path: ``ask`` split into its stages, and two peers on the same corpus and embedder."""

from __future__ import annotations

import statistics
import time

from app import Assistant
from app.retrieval import fuse
from app.text import detect_language, tokenize

from .common import gold_questions, summary, timed


def stages(assistant: Assistant, rounds: int = 3) -> dict:
    """p50/p95 of ``ask`` and of each stage, over the gold questions after a warm-up pass.

    The stages are timed by calling the same components ``ask`` calls, one after another:
    query embedding, dense search (Chroma), BM25, fusion, and the answer step.
    """
    questions = gold_questions()
    english = [q for q in questions if detect_language(q) == "en"][:2]
    for q in questions[:10] + english:
        assistant.ask(q)  # warm-up: model, jieba dictionary, the English glossary, caches
    times: dict[str, list[float]] = {k: [] for k in ("ask", "embedding", "dense", "dense_chroma_hnsw", "bm25",
                                                 "fusion", "answer")}
    c = assistant.retriever.config
    for _ in range(rounds):
        for q in questions:
            times["ask"].append(timed(assistant.ask, q)[0])
            ms, vec = timed(assistant.embedder.embed_query, q)
            times["embedding"].append(ms)
            ms, dense = timed(assistant.retriever.dense.search, vec, c.dense_top_k)
            times["dense"].append(ms)
            times["dense_chroma_hnsw"].append(timed(assistant.store.query, vec, c.dense_top_k)[0])
            ms, lexical = timed(assistant.lexical.search, tokenize(q), c.lexical_top_k)
            times["bm25"].append(ms)
            ms, passages = timed(fuse, dense, lexical, c)
            times["fusion"].append(ms)
            passages = passages[: c.top_k]
            ms, _ = timed(assistant.answerer.answer, q, vec, passages, "zh")
            times["answer"].append(ms)
    out = {k: summary(v) for k, v in times.items()}
    out["ask_over_embedding"] = round(out["ask"]["median"] / out["embedding"]["median"], 2)
    return out


def peers(assistant: Assistant, rounds: int = 2) -> dict:
    """Latency of the naive LlamaIndex ``VectorStoreIndex`` query path and of BM25-only
    retrieval, as ratios to our ``ask`` measured in the same run, same corpus and embedder.
    (Peers retrieve only; ours also answers.)"""
    from eval.baselines import NaiveLlamaIndex, TopSentencePicker

    questions = gold_questions()
    naive = NaiveLlamaIndex(assistant, TopSentencePicker(assistant.embedder))
    for q in questions[:5]:
        naive._retriever.retrieve(q)
        assistant.retrieve(q, mode="lexical")
    ours, llama, bm25 = [], [], []
    for _ in range(rounds):
        for q in questions:
            ours.append(timed(assistant.ask, q)[0])
            llama.append(timed(naive._retriever.retrieve, q)[0])
            bm25.append(timed(assistant.retrieve, q, mode="lexical")[0])
    med = statistics.median(ours)
    return {
        "ours_ask": summary(ours),
        "naive_llamaindex_retrieve": summary(llama),
        "bm25_only_retrieve": summary(bm25),
        "naive_llamaindex_over_ours": round(statistics.median(llama) / med, 2),
        "bm25_only_over_ours": round(statistics.median(bm25) / med, 2),
    }


def openmp_note() -> dict:
    """Which OpenMP wait policy this process runs with (it changes the single-query cost)."""
    import os

    return {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
            "measured_at": time.strftime("%Y-%m-%d %H:%M")}
