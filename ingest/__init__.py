"""Turn the documents in ``corpus/`` into an indexed, citable Chroma store.

``python -m ingest [--rebuild] [--config PATH]``; see :func:`ingest.pipeline.ingest`.
"""

import app  # noqa: F401  (applies the offline environment settings first)

from .pipeline import IngestReport, ingest

__all__ = ["ingest", "IngestReport"]
