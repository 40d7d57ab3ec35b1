"""``python -m bench`` (``make bench``): the benchmark suite.

Prints a table and writes ``bench/results.json``. Every latency is a median after warm-up,
with p95, min and max; every comparison is a ratio measured in the same run.

    python -m bench                       # everything, sizes 1k and 10k
    python -m bench --sizes 1000,10000,100000
    python -m bench --only query,peers    # sections: query peers ingestion largefile concurrency api llm startup scaling
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import app  # noqa: F401  (offline environment first)
from app import Assistant
from app.config import load_config

from . import largefile, load, query, scaling

SECTIONS = ["query", "peers", "ingestion", "largefile", "concurrency", "api", "llm", "startup", "scaling"]
OUT = Path(__file__).resolve().parent / "results.json"


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d"), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}


def _row(label: str, value) -> str:
    return f"  {label:<44} {value}"


def print_table(results: dict) -> None:
    """The headline figures, one per line."""
    m = results["machine"]
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, {m['date']}")
    if "query" in results:
        q = results["query"]
        print("query path (ms, median / p95):")
        for stage in ("ask", "embedding", "dense", "dense_chroma_hnsw", "bm25", "fusion", "answer"):
            if stage not in q:  # results written before the exact dense search
                continue
            print(_row(stage, f"{q[stage]['median']} / {q[stage]['p95']}  (min {q[stage]['min']}, "
                              f"max {q[stage]['max']}, n {q[stage]['n']})"))
        print(_row("ask / query embedding", f"{q['ask_over_embedding']}x"))
    if "peers" in results:
        p = results["peers"]
        print("peers, same corpus and embedder (median ms; ratio to our ask):")
        print(_row("ours: ask", p["ours_ask"]["median"]))
        print(_row("naive LlamaIndex VectorStoreIndex retrieve",
                   f"{p['naive_llamaindex_retrieve']['median']}  ({p['naive_llamaindex_over_ours']}x)"))
        print(_row("BM25-only retrieve", f"{p['bm25_only_retrieve']['median']}  ({p['bm25_only_over_ours']}x)"))
    if "ingestion" in results:
        i = results["ingestion"]
        print("ingestion (the corpus folder, cold, into a temp index):")
        for k in ("chunks", "sentences", "characters", "cold_s", "embedding_s", "wall_over_embedding",
                  "share_outside_model", "chars_per_s", "noop_s", "noop_chunks_embedded"):
            print(_row(k, i[k]))
    if "largefile" in results:
        r = results["largefile"]
        print(f"a {r['file_mb']} MB text file through read/extract/chunk (no embedding), fresh process:")
        print(_row("time, peak RSS", f"{r['seconds']} s, {r['peak_rss_mb']} MB ({r['characters']:,} chars, "
                                     f"{r['chunks']:,} chunks, {r['sentences']:,} sentences)"))
    tables = [("concurrency through app.ui.chat_stream (the UI's call path):", results.get("concurrency"))]
    if "api" in results:
        tables += [("concurrency over HTTP: openai clients -> /v1/chat/completions:", results["api"]["openai"]),
                   ("concurrency over HTTP: gradio_client -> /ask:", results["api"]["gradio"])]
    for title, rows in tables:
        if not rows:
            continue
        print(title)
        for key, c in rows.items():
            print(_row(key, f"{c['throughput_qps']} q/s ({c['throughput_over_1']}x), p50 {c['latency_ms']['median']} "
                            f"ms, p95 {c['latency_ms']['p95']} ms ({c['p95_over_single_median']}x single), "
                            f"errors {c['errors']}, differing {c['answers_differing_from_serial']}"))
    if "llm" in results:
        r = results["llm"]
        print(f"LLM mode, {r['callers']} concurrent asks, a server taking {r['server_delay_s']} s per reply:")
        print(_row("wall time", f"{r['wall_s']} s ({r['wall_over_one_reply']}x one reply; "
                                f"{r['requests_in_flight_max']} requests in flight at once)"))
    if "startup" in results:
        s = results["startup"]
        print("start-up of `python -m app serve` (s, median of starts):")
        print(_row("to the page", s["serve_to_page_s"]["median"]))
        print(_row("to the first answer (gradio_client)", s["serve_to_first_answer_s"]["median"]))
        if "pause_s" in s:
            print(f"  asked {s['pause_s']:g} s after the page (a person typing; the server warmed up meanwhile):")
            print(_row("first Chinese answer (ms)", s["first_zh_answer_after_pause_ms"]["median"]))
            print(_row("then the first English one (ms)", s["first_en_answer_after_pause_ms"]["median"]))
    if "scaling" in results:
        print("scaling (synthetic chunks, precomputed vectors; fresh process per size):")
        for mode, by_size in results["scaling"].items():
            for n, r in by_size.items():
                print(_row(f"{mode} {int(n):>7,} chunks",
                           f"start {r['startup_s']} s ({r['startup_over_smallest']}x), ask p50 "
                           f"{r['ask_ms']['median']} p95 {r['ask_ms']['p95']} ms ({r['ask_p50_over_smallest']}x), "
                           f"peak RSS {r['peak_rss_mb']} MB; first start {r['first_startup_s']} s, "
                           f"{r['first_peak_rss_mb']} MB; write {r['write_s']} s"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks: latency, scaling, load.")
    parser.add_argument("--config", default=None)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--sizes", default="1000,10000", help="chunk counts for scaling")
    parser.add_argument("--modes", default="embedded,server", help="store modes for scaling")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the gold questions")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    assistant = Assistant.from_config(args.config)
    results: dict = {"machine": machine()}
    t0 = time.perf_counter()
    steps = {
        "query": lambda: query.stages(assistant, args.rounds),
        "peers": lambda: query.peers(assistant),
        "ingestion": lambda: load.ingestion(load_config(args.config)),
        "largefile": lambda: largefile.run(),
        "concurrency": lambda: load.concurrency(assistant),
        "api": lambda: load.api_concurrency(assistant),
        "llm": lambda: load.llm_concurrency(load_config(args.config)),
        "startup": lambda: load.startup(args.config),
        "scaling": lambda: scaling.run(assistant, sizes=[int(x) for x in args.sizes.split(",")],
                                       modes=[m.strip() for m in args.modes.split(",") if m.strip()]),
    }
    for name in SECTIONS:
        if name in only:
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            results[name] = steps[name]()
    results["seconds"] = round(time.perf_counter() - t0, 1)
    print_table(results)
    merged = merge(Path(args.out), results, [name for name in SECTIONS if name in only])
    Path(args.out).write_text(json.dumps(merged, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"wrote {args.out} ({results['seconds']} s)")
    return 0


def merge(path: Path, results: dict, ran: list[str]) -> dict:
    """The results file with the sections of this run replaced and every other section
    kept (a partial run such as ``--only startup`` must not drop the rest). ``measured``
    says when and where each section was last measured."""
    try:
        merged = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        merged = {}
    measured = merged.get("measured", {})
    m = results["machine"]
    for name in ran:
        merged[name] = results[name]
        measured[name] = f"{m['date']}, {m['cpu']}, {m['cores']} cores"
    merged["machine"] = m
    merged["measured"] = measured
    merged["seconds"] = results["seconds"]
    return merged


if __name__ == "__main__":
    sys.exit(main())
