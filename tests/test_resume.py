"""Crash-safe, resumable ingestion: a run killed with SIGKILL halfway keeps what it wrote,
and the next run embeds only the rest."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time

from app import Assistant
from app.config import load_config
from ingest import ingest

from .conftest import ARTICLE, ROOT, write_config


def _kill_at(cmd: list[str], share: float, env: dict) -> float:
    """Run ``cmd``; SIGKILL it once its progress bar passes ``share``. Returns the share reached."""
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    buf, reached = b"", 0.0
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            data = os.read(proc.stderr.fileno(), 4096)
            if not data:
                break
            buf = (buf + data)[-4096:]
            found = re.findall(rb"embedding:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)", buf)
            if found:
                done, total = map(int, found[-1])
                reached = done / total
                if reached >= share:
                    proc.send_signal(signal.SIGKILL)
                    break
    finally:
        proc.wait(timeout=60)
        proc.stderr.close()
    return reached


def test_sigkill_halfway_then_the_rerun_embeds_only_the_rest(tmp_path, caplog):
    (tmp_path / "corpus").mkdir()
    shutil.copy(ARTICLE, tmp_path / "corpus" / ARTICLE.name)
    # Small batches: each is committed on its own, so at most one is lost to the kill.
    path = write_config(tmp_path, embedding={"batch_size": 2})
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    reached = _kill_at([sys.executable, "-m", "ingest", "--config", str(path)], 0.5, env)
    assert 0.5 <= reached < 1.0, f"killed at {reached:.0%}"

    with caplog.at_level("WARNING"):
        partial = Assistant.from_config(path)  # what was written answers; the state says it is partial
    assert partial.info().ingest_state == "running" and "interrupted" in caplog.text
    written = partial.info().chunks

    report = ingest(load_config(path), progress=False)
    total = report.chunks_total
    print(f"killed at {reached:.0%}: {written} of {total} chunks were kept; the rerun embedded "
          f"{report.chunks_added} chunks and {report.sentences_added} sentences")
    assert 0 < report.chunks_added <= 0.6 * total
    assert report.chunks_added == total - written
    fresh = Assistant.from_config(path)
    assert fresh.info().ingest_state == "complete" and fresh.info().chunks == total
    # The resumed index holds exactly what one uninterrupted run writes.
    clean = tmp_path / "clean"
    (clean / "corpus").mkdir(parents=True)
    shutil.copy(ARTICLE, clean / "corpus" / ARTICLE.name)
    clean_report = ingest(load_config(write_config(clean)), progress=False)
    assert clean_report.chunks_total == total and fresh.info().sentences == clean_report.sentences_added
    assert report.sentences_added <= 0.6 * clean_report.sentences_added
    question = "华为的异构计算架构叫什么？"
    assert fresh.ask(question).text == Assistant.from_config(clean / "config.yaml").ask(question).text
