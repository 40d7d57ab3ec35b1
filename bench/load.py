"""Ingestion speed, concurrency through the UI's own call path, and start-up of the server."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from app import Assistant
from app.config import Config

from .common import ROOT, free_port, gold_questions, run_concurrently, stop, summary


def ingestion(config: Config) -> dict:
    """Cold ingest of the corpus into a temp dir, then a no-op re-run: characters per second,
    the share of wall time spent outside the embedding model, and the no-op time."""
    from ingest import ingest

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shutil.copytree(config.corpus.dir, tmp / "corpus")
        cfg = config.model_copy(deep=True)
        cfg.data_dir = tmp / "data"
        cfg.corpus.dir = tmp / "corpus"
        cfg.store.path = tmp / "data" / "chroma"
        cold = ingest(cfg, progress=False)
        noop = ingest(cfg, progress=False)
        chars = cold.characters
    return {
        "chunks": cold.chunks_total,
        "sentences": cold.sentences_added,
        "characters": chars,
        "cold_s": round(cold.seconds, 2),
        "embedding_s": round(cold.embed_seconds, 2),
        "wall_over_embedding": round(cold.seconds / cold.embed_seconds, 3) if cold.embed_seconds else None,
        "share_outside_model": round(1 - cold.embed_seconds / cold.seconds, 3) if cold.seconds else None,
        "chars_per_s": round(chars / cold.seconds, 1) if cold.seconds else None,
        "noop_s": round(noop.seconds, 2),
        "noop_chunks_embedded": noop.chunks_added,
    }


def concurrency(assistant: Assistant, callers=(1, 4, 16), per_caller: int = 25) -> dict:
    """``callers`` threads, each asking ``per_caller`` gold questions through
    ``app.ui.chat_stream`` (what the UI's Gradio event runs). Throughput, latency, errors,
    and whether every answer equals the serial one."""
    from app import ui

    ui.STREAM_DELAY_S = 0  # the pacing is for eyes, not for a benchmark
    questions = gold_questions()
    serial = {q: assistant.ask(q).text for q in questions}
    out: dict = {}
    for n in callers:
        latencies: list[float] = []
        errors: list[str] = []
        mismatches = 0
        lock = threading.Lock()

        def run(offset: int):
            nonlocal mismatches
            for i in range(per_caller):
                q = questions[(offset * 7 + i) % len(questions)]
                t0 = time.perf_counter()
                try:
                    *_, (_, _, history) = ui.chat_stream(assistant, q)
                    text = history[-1]["content"]
                except Exception as exc:  # counted, not raised: the figure is the error count
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(ms)
                    mismatches += text != serial[q]

        wall = run_concurrently([lambda i=i: run(i) for i in range(n)])
        out[f"{n}_callers"] = {"questions": n * per_caller, "wall_s": round(wall, 2),
                               "throughput_qps": round(n * per_caller / wall, 2), "latency_ms": summary(latencies),
                               "errors": len(errors), "answers_differing_from_serial": mismatches}
    base = out["1_callers"]["throughput_qps"]
    for n in callers:
        out[f"{n}_callers"]["throughput_over_1"] = round(out[f"{n}_callers"]["throughput_qps"] / base, 2)
    single = out["1_callers"]["latency_ms"]["median"]
    for n in callers:
        out[f"{n}_callers"]["p95_over_single_median"] = round(out[f"{n}_callers"]["latency_ms"]["p95"] / single, 1)
    return out


def startup(config_path: str | None, rounds: int = 3) -> dict:
    """Seconds from ``python -m app serve`` to the page being served, and to the first
    answer through the running server's API (gradio_client), median of ``rounds`` starts."""
    from gradio_client import Client

    ready, answered = [], []
    for _ in range(rounds):
        port = free_port()
        cmd = [sys.executable, "-m", "app"] + (["--config", str(config_path)] if config_path else []) + \
            ["serve", "--port", str(port)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/"
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"`{' '.join(cmd)}` exited with {proc.returncode}")
                try:
                    urllib.request.urlopen(url, timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
                if time.perf_counter() - t0 > 120:
                    raise RuntimeError("the server did not start in 120 s")
            ready.append(time.perf_counter() - t0)
            client = Client(url, verbose=False)
            endpoint = _answer_endpoint(client)
            client.predict(*endpoint[1], api_name=endpoint[0])
            answered.append(time.perf_counter() - t0)
        finally:
            stop(proc, timeout=15)
    return {"serve_to_page_s": summary(ready), "serve_to_first_answer_s": summary(answered)}


def _answer_endpoint(client) -> tuple[str, tuple]:
    """The API route answering a question, and its arguments: ``/ask`` when the app has the
    documented endpoint, else the UI's own respond event."""
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    q = "华为的异构计算架构叫什么？"
    if "/ask" in names:
        return "/ask", (q,)
    return "/respond", (q, 5, [], "extractive")  # the history is a gr.State, not an API parameter


def llm_concurrency(config: Config, callers: int = 4, delay_s: float = 1.0) -> dict:
    """LLM mode against a scripted server (tests/llm_stub.py) that takes ``delay_s`` per
    reply: wall time of ``callers`` concurrent asks (the model's request runs outside the
    engine lock, so this stays near one reply's time, not ``callers`` times it)."""

    from tests.llm_stub import Reply, start_stub

    state, server = start_stub()
    try:
        def quote_first(request: dict) -> Reply:  # passage [1]'s first sentence, cited: a supported reply
            import re

            first = re.search(r"\[1\] \([^)]*\) ([^。]+。)", request["messages"][-1]["content"])
            return Reply(f"{first.group(1)}[1]" if first else "", delay_s=delay_s)

        state.reset(quote_first)
        cfg = config.model_copy(deep=True)
        cfg.llm = cfg.llm.model_copy(update={"base_url": state.url, "max_concurrency": callers})
        assistant = Assistant(cfg)
        assistant.ask("华为的异构计算架构叫什么？", mode="llm")  # warm-up
        wall = run_concurrently([lambda: assistant.ask("华为的异构计算架构叫什么？", mode="llm")] * callers)
    finally:
        server.shutdown()
        server.server_close()
    return {"callers": callers, "server_delay_s": delay_s, "wall_s": round(wall, 2),
            "wall_over_one_reply": round(wall / delay_s, 2), "requests_in_flight_max": state.max_in_flight}
