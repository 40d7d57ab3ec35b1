"""Shared pieces of the benchmark suite: summaries of samples, gold questions, temp projects."""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent


def summary(samples_ms: Sequence[float]) -> dict:
    """Median, p95, min and max of a list of timings (milliseconds), rounded."""
    ordered = sorted(samples_ms)
    if not ordered:
        return {"n": 0}
    k = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
    return {"n": len(ordered), "median": round(statistics.median(ordered), 2), "p95": round(ordered[k], 2),
            "min": round(ordered[0], 2), "max": round(ordered[-1], 2)}


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(milliseconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000, out


def gold_questions(limit: int | None = None) -> list[str]:
    """The article's gold questions, in file order."""
    path = ROOT / "eval" / "datasets" / "article_gold.jsonl"
    out = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out[:limit] if limit else out


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (MB): VmHWM, which starts afresh at exec
    (``ru_maxrss`` of a child started by fork+exec carries the parent's size)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """Start `chroma run` on loopback and wait for its heartbeat; stop it with :func:`stop`."""
    chroma = shutil.which("chroma", path=str(ROOT / ".venv" / "bin")) or shutil.which("chroma")
    if chroma is None:
        raise RuntimeError("the `chroma` CLI is not installed")
    proc = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError("chroma server did not start")


@contextmanager
def chroma_server(path: Path, port: int) -> Iterator[int]:
    """A `chroma run` server on loopback for the duration of the block."""
    proc = start_chroma(path, port)
    try:
        yield port
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a server process; kill it if it does not stop in ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_concurrently(targets: list) -> float:
    """Start one thread per callable, wait for all; returns the wall time in seconds."""
    import threading

    threads = [threading.Thread(target=t) for t in targets]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
