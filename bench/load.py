"""Ingestion speed, concurrency (the UI's call path and the HTTP API), and start-up of the server."""

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

    def caller():
        def ask(q: str) -> str:
            *_, (_, _, history) = ui.chat_stream(assistant, q)
            return history[-1]["content"]
        return ask

    return _load(assistant, caller, callers, per_caller)


def api_concurrency(assistant: Assistant, callers=(1, 4, 16), per_caller: int = 25) -> dict:
    """Like :func:`concurrency`, over HTTP against the real server (uvicorn in this process,
    loopback), each caller with its own client: ``openai`` against ``/v1/chat/completions``
    and ``gradio_client`` against the UI's ``/ask``."""
    import openai
    from gradio_client import Client

    from app.openai_api import strip_sources
    from app.server import start_in_thread

    running = start_in_thread(assistant)
    try:
        def openai_caller():
            client = openai.OpenAI(base_url=running.url + "/v1", api_key="unused", max_retries=0, timeout=300)

            def ask(q: str) -> str:
                reply = client.chat.completions.create(model="cited-answers",
                                                       messages=[{"role": "user", "content": q}])
                return strip_sources(reply.choices[0].message.content)
            return ask

        def gradio_caller():
            client = Client(running.url + "/", verbose=False)
            return lambda q: client.predict(q, api_name="/ask")["text"]

        return {"openai": _load(assistant, openai_caller, callers, per_caller),
                "gradio": _load(assistant, gradio_caller, callers, per_caller)}
    finally:
        running.stop()


def _load(assistant: Assistant, caller, callers, per_caller: int) -> dict:
    """Run ``callers`` threads, each with its own ``caller()`` (question -> answer text)."""
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
            ask = caller()
            for i in range(per_caller):
                q = questions[(offset * 7 + i) % len(questions)]
                t0 = time.perf_counter()
                try:
                    text = ask(q)
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
    base = out[f"{callers[0]}_callers"]["throughput_qps"]
    single = out[f"{callers[0]}_callers"]["latency_ms"]["median"]
    for n in callers:
        row = out[f"{n}_callers"]
        row["throughput_over_1"] = round(row["throughput_qps"] / base, 2)
        row["p95_over_single_median"] = round(row["latency_ms"]["p95"] / single, 1)
    return out


def startup(config_path: str | None, rounds: int = 3, pause_s: float = 5.0) -> dict:
    """Seconds from ``python -m app serve`` to the page being served, and to the first
    answer through the running server's API (gradio_client), median of ``rounds`` starts.

    Then, in as many more starts, a client that waits ``pause_s`` after the page (a person
    typing) before asking a Chinese and then an English question: how long each of those
    first answers takes (the server warms up while nobody asks)."""
    from gradio_client import Client

    ready, answered, zh_ms, en_ms = [], [], [], []
    for i in range(2 * rounds):
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
            client = Client(url, verbose=False)
            if i < rounds:
                ready.append(time.perf_counter() - t0)
                client.predict("华为的异构计算架构叫什么？", api_name="/ask")
                answered.append(time.perf_counter() - t0)
            else:
                time.sleep(pause_s)
                for question, out in (("华为的异构计算架构叫什么？", zh_ms), ("Which company makes the Kunlun chip?", en_ms)):
                    t1 = time.perf_counter()
                    client.predict(question, api_name="/ask")
                    out.append((time.perf_counter() - t1) * 1000)
            client.close()
        finally:
            stop(proc, timeout=15)
    return {"serve_to_page_s": summary(ready), "serve_to_first_answer_s": summary(answered),
            "pause_s": pause_s, "first_zh_answer_after_pause_ms": summary(zh_ms),
            "first_en_answer_after_pause_ms": summary(en_ms)}


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
