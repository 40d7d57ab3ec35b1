"""Benchmarks that print numbers (medians, p95): ask latency, ingest time, LLM-mode concurrency.

    python scripts/bench.py [--config config.yaml] [--rounds 3]

Speed targets live here, not in timed test assertions (a noisy 2-core machine would flake).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import app  # noqa: E402,F401  (offline environment first)
from app import Assistant  # noqa: E402
from app.config import load_config  # noqa: E402
from app.embeddings import make_embedder  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def bench_ask(config_path: str | None, rounds: int) -> dict:
    """Median and p95 of Assistant.ask over the gold questions, after one warm-up pass."""
    questions = [json.loads(line)["question"] for line in
                 (ROOT / "eval" / "datasets" / "article_gold.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    t0 = time.perf_counter()
    assistant = Assistant.from_config(config_path)
    load_s = time.perf_counter() - t0
    for q in questions[:10]:
        assistant.ask(q)  # warm-up: model load, jieba dictionary, caches
    times = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q)
            times.append((time.perf_counter() - t) * 1000)
    embed = []
    for q in questions:
        t = time.perf_counter()
        assistant.embedder.embed_query(q)
        embed.append((time.perf_counter() - t) * 1000)
    return {
        "questions": len(questions) * rounds,
        "assistant_load_s": round(load_s, 2),
        "ask_median_ms": round(statistics.median(times), 1),
        "ask_p95_ms": round(percentile(times, 95), 1),
        "query_embedding_median_ms": round(statistics.median(embed), 1),
        "query_embedding_share_of_ask": round(statistics.median(embed) / statistics.median(times), 2),
    }


def bench_ingest(config_path: str | None) -> dict:
    """Cold ingest of the corpus into a temp dir, then a no-op re-run."""
    from ingest import ingest

    cfg = load_config(config_path)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shutil.copytree(cfg.corpus.dir, tmp / "corpus")
        cfg = cfg.model_copy(deep=True)
        cfg.data_dir = tmp / "data"
        cfg.corpus.dir = tmp / "corpus"
        cfg.store.path = tmp / "data" / "chroma"
        cold = ingest(cfg, progress=False)
        noop = ingest(cfg, progress=False)
        from app.store import ChunkStore

        store = ChunkStore(cfg.store)
        store.open_for_read(make_embedder(cfg.embedding).fingerprint)
        sizes = sorted(len(c.text) for c in store.all_chunks())
    return {
        "chunks": cold.chunks_total,
        "chunk_chars_min_median_max": f"{sizes[0]} / {statistics.median(sizes):.0f} / {sizes[-1]}",
        "ingest_cold_s": round(cold.seconds, 2),
        "ingest_noop_s": round(noop.seconds, 2),
        "noop_chunks_embedded": noop.chunks_added,
    }


def bench_llm_concurrency(config_path: str | None, callers: int = 4, delay_s: float = 1.0) -> dict:
    """LLM mode against a scripted server (tests/llm_stub.py) that takes ``delay_s`` per
    reply: wall time of ``callers`` concurrent asks (the model's request runs outside the
    engine lock, so this stays near one reply's time, not ``callers`` times it)."""
    import threading

    from tests.llm_stub import Reply, start_stub

    state, server = start_stub()
    try:
        def quote_first(request: dict) -> Reply:  # passage [1]'s first sentence, cited: a supported reply
            import re

            first = re.search(r"\[1\] \([^)]*\) ([^。]+。)", request["messages"][-1]["content"])
            return Reply(f"{first.group(1)}[1]" if first else "", delay_s=delay_s)

        state.reset(quote_first)
        cfg = load_config(config_path).model_copy(deep=True)
        cfg.llm = cfg.llm.model_copy(update={"base_url": state.url, "max_concurrency": callers})
        assistant = Assistant(cfg)
        assistant.ask("华为的异构计算架构叫什么？", mode="llm")  # warm-up
        threads = [threading.Thread(target=assistant.ask, args=("华为的异构计算架构叫什么？",), kwargs={"mode": "llm"})
                   for _ in range(callers)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        server.shutdown()
        server.server_close()
    return {f"llm_{callers}_concurrent_asks_{delay_s:g}s_server_wall_s": round(wall, 2),
            "llm_requests_in_flight_max": state.max_in_flight}


def main() -> int:
    """Run both benchmarks and print a small table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {**bench_ingest(args.config), **bench_ask(args.config, args.rounds),
               **bench_llm_concurrency(args.config)}
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
