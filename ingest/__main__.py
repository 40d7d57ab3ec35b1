"""CLI: ``python -m ingest [--rebuild] [--config PATH] [--quiet]``."""

from __future__ import annotations

import argparse
import logging
import sys

from app.config import load_config
from app.errors import AssistantError

from .pipeline import ingest


def main(argv: list[str] | None = None) -> int:
    """Run ingestion and print its summary; exit 1 with a message on a known error."""
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Index the corpus folder into Chroma.")
    parser.add_argument("--config", default=None, help="path to config.yaml (default: the project's)")
    parser.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        config = load_config(args.config)
        report = ingest(config, rebuild=args.rebuild, progress=not args.quiet)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
