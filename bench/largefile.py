"""A 50 MB text file through the ingestion stages that hold a whole file (read, extract,
chunk, split into sentences), in a fresh process: wall time and peak memory.

Embedding it is left out: at about 1,000 characters a second on this machine the model
would need hours for 17 million characters, and it runs batch by batch (its memory does
not grow with the file). ``python -m bench.largefile [MB]``; ``python -m bench`` runs it
as the ``largefile`` section.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, peak_rss_mb

#: Sentences in the generated file: real article sentences, repeated with a serial so
#: that no two are equal.
_SOURCE = ROOT / "corpus" / "ai_compute_war.txt"


def write_file(path: Path, megabytes: float) -> int:
    """Write a UTF-8 Chinese text file of about ``megabytes`` MB; returns its size in bytes."""
    lines = [line for line in _SOURCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    target = int(megabytes * 1e6)
    size, n = 0, 0
    with path.open("w", encoding="utf-8") as out:
        while size < target:
            line = f"{lines[n % len(lines)]}（第{n}段）\n"
            out.write(line)
            size += len(line.encode("utf-8"))
            n += 1
    return path.stat().st_size


def measure(megabytes: float) -> dict:
    """In this process: generate the file, run discover/load/chunk, report time and peak RSS."""
    from app.config import load_config
    from ingest.pipeline import IngestReport, chunk_documents, discover_files, load_documents, run_stages
    from tests.conftest import write_config

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "corpus").mkdir()
        size = write_file(folder / "corpus" / "big.txt", megabytes)
        config = load_config(write_config(folder))
        base = peak_rss_mb()
        report = IngestReport()
        t0 = time.perf_counter()
        pieces = run_stages([config.corpus.dir], [discover_files(config, report), load_documents(config, report),
                                                  chunk_documents(config, report)])
        seconds = time.perf_counter() - t0
        chunks = sum(len(p.chunks) for p in pieces)
        sentences = sum(len(p.sentences) for p in pieces)
        chars = sum(len(p.document.text) for p in pieces)
    return {"file_mb": round(size / 1e6, 1), "characters": chars, "chunks": chunks, "sentences": sentences,
            "seconds": round(seconds, 1), "peak_rss_mb": peak_rss_mb(), "rss_before_mb": base}


def run(megabytes: float = 49.9) -> dict:
    """:func:`measure` in a fresh process (so the peak is this file's alone)."""
    out = subprocess.run([sys.executable, "-m", "bench.largefile", str(megabytes)], cwd=ROOT, capture_output=True,
                         text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"large-file run failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 49.9)))
