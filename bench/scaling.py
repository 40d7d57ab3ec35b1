"""Scaling: start-up, query latency and memory at 1k, 10k (and 100k) chunks.

The corpora are **synthetic**: each chunk is three sentences of the article drawn at random
plus a unique serial (编号), with **precomputed vectors** (the article's own sentence vectors
plus a little noise; a chunk's vector is the mean of its sentences'), written straight into
the store. Embedding 100k chunks for real would take about four hours here; the store, the
BM25 index and the answer step see realistic text and similarities either way. Queries are
the real gold questions, embedded by the real model.

Each size is measured in fresh child processes (``python -m bench.scaling probe``), so their
start-up and peak RSS are their own: embedded Chroma, and a ``chroma run`` server. The first
start after a write builds the start-up snapshot (``app/snapshot.py``); the figures are those
of the second start, which every later start repeats; the first is reported beside them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from app import Assistant
from app.config import Config, StoreMode
from app.passages import Chunk
from app.store import ChunkStore, SentenceRecord

from .common import ROOT, chroma_server, free_port, gold_questions, peak_rss_mb, summary

FILE_CHUNKS = 100  # synthetic chunks per synthetic file


def build(base: Assistant, cfg: Config, n_chunks: int, seed: int = 0) -> None:
    """Write ``n_chunks`` synthetic chunks (and their sentences) into ``cfg``'s store."""
    rng = np.random.default_rng(seed)
    records = [r for r in base.sentences.records if not r.heading and len(r.text) >= 8]
    index = {id(r): i for i, r in enumerate(base.sentences.records)}
    vectors = base.sentences.vectors
    store = ChunkStore(cfg.store)
    store.open_for_write(base.embedder.fingerprint, rebuild=True)
    step = 2000
    for start in range(0, n_chunks, step):
        chunks, sents, cvecs, svecs = [], [], [], []
        for i in range(start, min(n_chunks, start + step)):
            source = f"synthetic/{i // FILE_CHUNKS:05d}.txt"
            offset = (i % FILE_CHUNKS) * 400
            picks = rng.choice(len(records), 3, replace=False)
            pos, parts, mine = offset, [], []
            for j, k in enumerate(picks):
                r = records[k]
                text = r.text if j < 2 else f"{r.text}（编号{i}）"
                parts.append(text)
                v = vectors[index[id(r)]] + rng.normal(0, 0.01, vectors.shape[1]).astype(np.float32)
                v /= np.linalg.norm(v)
                sents.append(SentenceRecord(f"s{i}_{j}", text, source, pos, pos + len(text)))
                svecs.append(v)
                mine.append(v)
                pos += len(text)
            text = "".join(parts)
            chunks.append(Chunk(f"c{i}", text, source, offset, offset + len(text), 1 + i % FILE_CHUNKS,
                                1 + i % FILE_CHUNKS))
            m = np.mean(mine, axis=0)
            cvecs.append(m / np.linalg.norm(m))
        store.add_sentences(sents, np.array(svecs, dtype=np.float32))
        store.add_chunks(chunks, np.array(cvecs, dtype=np.float32))
    store.set_index_metadata(ingest_state="complete", last_ingest="synthetic", version=f"synthetic-{n_chunks}-{seed}")


def probe(config_path: str, n_questions: int) -> dict:
    """In this (fresh) process: start-up time, query p50/p95 and peak RSS."""
    t0 = time.perf_counter()
    assistant = Assistant.from_config(config_path)
    startup = time.perf_counter() - t0
    rss_after_start = peak_rss_mb()
    questions = gold_questions(n_questions)
    for q in questions[:5]:
        assistant.ask(q)
    times = []
    for q in questions:
        t = time.perf_counter()
        assistant.ask(q)
        times.append((time.perf_counter() - t) * 1000)
    return {"startup_s": round(startup, 2), "ask_ms": summary(times), "rss_after_start_mb": rss_after_start,
            "peak_rss_mb": peak_rss_mb()}


def _probe_child(config_path: Path, n_questions: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.scaling", "probe", str(config_path), str(n_questions)],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"probe failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(base: Assistant, sizes=(1000, 10000), modes=("embedded", "server"), n_questions: int = 60) -> dict:
    """Build each size once per mode and probe it; returns {mode: {size: figures}}."""
    import yaml

    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for mode in modes:
            results[mode] = {}
            port = free_port()
            ctx = chroma_server(tmp / "server", port) if mode == "server" else None
            try:
                if ctx:
                    ctx.__enter__()
                for n in sizes:
                    cfg = base.config.model_copy(deep=True)
                    cfg.data_dir = tmp / f"data_{mode}_{n}"
                    cfg.store.collection = f"scale_{n}"
                    if mode == "server":
                        cfg.store.mode, cfg.store.host, cfg.store.port = StoreMode.SERVER, "127.0.0.1", port
                    else:
                        cfg.store.mode, cfg.store.path = StoreMode.EMBEDDED, tmp / f"chroma_{n}"
                    t0 = time.perf_counter()
                    build(base, cfg, n)
                    build_s = time.perf_counter() - t0
                    path = tmp / f"config_{mode}_{n}.yaml"
                    path.write_text(yaml.safe_dump(json.loads(cfg.model_dump_json()), allow_unicode=True),
                                    encoding="utf-8")
                    # The first start builds the snapshot of this index version; the second
                    # (what every later start costs) reads it.
                    first = _probe_child(path, 5)
                    results[mode][n] = {"write_s": round(build_s, 1), "first_startup_s": first["startup_s"],
                                        "first_peak_rss_mb": first["peak_rss_mb"], **_probe_child(path, n_questions)}
                    print(f"  scaling {mode} {n}: {results[mode][n]}", file=sys.stderr)
            finally:
                if ctx:
                    ctx.__exit__(None, None, None)
    for mode, by_size in results.items():
        first = by_size[min(by_size)]
        for n, r in by_size.items():
            r["ask_p50_over_smallest"] = round(r["ask_ms"]["median"] / first["ask_ms"]["median"], 2)
            r["startup_over_smallest"] = round(r["startup_s"] / first["startup_s"], 2) if first["startup_s"] else None
    return results


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "probe":
        print(json.dumps(probe(sys.argv[2], int(sys.argv[3]))))
    else:
        print("usage: python -m bench.scaling probe CONFIG N_QUESTIONS (run by python -m bench)", file=sys.stderr)
        sys.exit(2)
