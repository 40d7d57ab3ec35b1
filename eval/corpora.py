"""Which corpus a gold set belongs to, and an index of each corpus in its own store.

Layouts (DESIGN.md §3, "each dataset belongs to a corpus"):

* ``eval/datasets/<name>/gold.jsonl`` next to ``eval/datasets/<name>/corpus/``: the folder
  is the dataset's own corpus, indexed under ``<data_dir>/eval/<name>/`` (embedded Chroma,
  incremental: only changed files are re-embedded on the next run);
* any other ``*.jsonl`` (``eval/datasets/article_gold.jsonl``, a file passed with
  ``--dataset``): asked against the corpus of the config, through its own index.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from app import Assistant
from app.config import Config, StoreMode

from .dataset import LoadedDataset

log = logging.getLogger("eval")


def corpus_dir(dataset: LoadedDataset) -> Path | None:
    """The dataset's own corpus folder (``corpus/`` beside the gold file), or None."""
    folder = dataset.path.parent / "corpus"
    return folder if folder.is_dir() else None


def corpus_config(base: Config, name: str, folder: Path) -> Config:
    """``base`` pointed at ``folder``, with an embedded store of its own under the data dir."""
    safe = re.sub(r"[^a-zA-Z0-9._-]", "_", name).strip("._-")[:40] or "corpus"
    data = base.data_dir / "eval" / safe
    cfg = base.model_copy(deep=True)
    cfg.corpus.dir = folder.resolve()
    cfg.store.mode = StoreMode.EMBEDDED
    cfg.store.path = data / "chroma"
    cfg.store.collection = f"eval_{safe}" if len(safe) >= 2 else "eval_corpus"
    cfg.data_dir = data
    return cfg


def open_corpus(base: Assistant, dataset: LoadedDataset, progress: bool = False) -> Assistant:
    """An assistant over the dataset's corpus: the base one, or one over its own index,
    ingested (incrementally) first."""
    folder = corpus_dir(dataset)
    if folder is None:
        return base
    from ingest import ingest

    cfg = corpus_config(base.config, folder.parent.name, folder)  # one index per corpus folder
    report = ingest(cfg, progress=progress, embedder=base.embedder)
    log.info("corpus %s: %s", dataset.name, report.summary().splitlines()[1])
    return Assistant(cfg, embedder=base.embedder)
