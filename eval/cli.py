"""Command line: ``python -m eval [--dataset PATH] [--config PATH] [--k 5] [--out DIR] [--baselines]
[--compare OLD.json [NEW.json]] [--limit N] [--check-floors [--floors PATH]]``.

Known problems (missing dataset, bad config, no index, bad floors file) print one
``error: ...`` line and exit 1; a run below its floors exits 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app.errors import AssistantError

from .compare import ResultsError, compare, load_results
from .dataset import DatasetError, load_datasets
from .floors import FloorsError, check_floors, load_floors

EVAL_DIR = Path(__file__).resolve().parent
DATASETS_DIR = EVAL_DIR / "datasets"
DEFAULT_OUT = EVAL_DIR / "out"
#: Exit status when a metric is below its floor (1 is kept for errors).
FLOORS_FAILED = 2


def default_datasets() -> list[Path]:
    """Every ``eval/datasets/*.jsonl`` (the project corpus) and ``eval/datasets/*/*.jsonl``
    (each folder with its own ``corpus/``: ``gold.jsonl``, ``conversations.jsonl``)."""
    return sorted(DATASETS_DIR.glob("*.jsonl")) + sorted(DATASETS_DIR.glob("*/*.jsonl"))


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(prog="python -m eval",
                                description="Score retrieval, answers, citations and abstention on gold questions.")
    p.add_argument("--dataset", action="append", type=Path, metavar="PATH",
                   help="a JSONL gold file or a folder of them (repeatable; default: every eval/datasets/*.jsonl)")
    p.add_argument("--config", type=Path, default=None, help="config.yaml to use (default: the project's)")
    p.add_argument("--k", type=_positive, default=5, help="passages per question (top_k) and the @k of the metrics")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for report.md, results.json, chart.png")
    p.add_argument("--baselines", action="store_true",
                   help="also run BM25-only, dense-only and a naive LlamaIndex pipeline on the same questions")
    p.add_argument("--compare", nargs="+", type=Path, metavar="JSON",
                   help="OLD.json: compare this run with an earlier results.json; OLD.json NEW.json: "
                        "compare two saved runs without running anything")
    p.add_argument("--limit", type=_positive, default=None, help="only the first N questions")
    p.add_argument("--check-floors", action="store_true",
                   help="exit 2 when a metric of our pipeline is below its floor in the floors file")
    p.add_argument("--floors", type=Path, default=None, help="floors file (default: eval/floors.yaml)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def _datasets(args, floors) -> list[Path]:
    if args.dataset:
        paths: list[Path] = []
        for p in args.dataset:  # a folder stands for every *.jsonl in it
            found = (sorted(p.glob("*.jsonl")) or sorted(p.glob("*/gold.jsonl"))) if p.is_dir() else [p]
            if not found:
                raise DatasetError(f"no *.jsonl files in {p}")
            paths += found
        return paths
    if floors is not None and floors.dataset:
        names = [floors.dataset] if isinstance(floors.dataset, str) else list(floors.dataset)
        return [Path(n) if Path(n).is_absolute() else DATASETS_DIR / n for n in names]
    found = default_datasets()
    if not found:
        raise DatasetError(f"no datasets in {DATASETS_DIR}: pass --dataset PATH")
    return found


def run(args) -> int:
    """Do what the parsed arguments ask; raises the domain errors :func:`main` reports."""
    from app import Assistant

    from .report import render_stdout, write_outputs
    from .runner import run_eval

    if args.compare and len(args.compare) > 2:
        raise ResultsError("--compare takes OLD.json, or OLD.json NEW.json")
    if args.compare and len(args.compare) == 2:
        print(compare(load_results(args.compare[0]), load_results(args.compare[1])))
        return 0
    old = load_results(args.compare[0]) if args.compare else None
    floors = load_floors(args.floors) if args.check_floors or args.floors else None
    datasets = load_datasets(_datasets(args, floors))
    for d in datasets:
        for w in d.warnings:
            print(f"warning: {w}", file=sys.stderr)
    try:  # before the run, so a bad --out does not throw the results away at the end
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"cannot write the report to {args.out} ({exc.strerror or exc}): pass --out DIR") from exc
    assistant = Assistant.from_config(args.config)
    result = run_eval(assistant, datasets, k=args.k, baselines=args.baselines, limit=args.limit,
                      progress=not args.no_progress)
    for w in result.warnings[sum(len(d.warnings) for d in datasets):]:
        print(f"warning: {w}", file=sys.stderr)
    doc = result.to_dict()
    paths = write_outputs(doc, args.out)
    print(render_stdout(doc))
    print(f"\nwrote {paths['report']}, {paths['results']}, {paths['chart']} "
          f"({doc['meta']['runtime_s']:.1f} s)")
    if old is not None:
        print()
        print(compare(old, doc))
    if floors is not None and args.check_floors:
        if floors.k is not None and floors.k != args.k:
            print(f"warning: floors were set at k={floors.k}, this run used k={args.k}", file=sys.stderr)
        failures, passes = check_floors(doc, floors)
        print(f"\nfloors ({floors.path}):")
        for line in passes:
            print(f"  ok    {line}")
        for line in failures:
            print(f"  FAIL  {line}")
        if failures:
            print(f"{len(failures)} metric(s) outside their floors", file=sys.stderr)
            return FLOORS_FAILED
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: known errors print one line and exit 1, no traceback."""
    args = build_parser().parse_args(argv)
    # A handler-level filter: bm25s sets its own logger to DEBUG, so a root level is not enough.
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        return run(args)
    except (AssistantError, DatasetError, FloorsError, ResultsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
