"""The CI gate: metric floors (and ceilings) from ``eval/floors.yaml``, checked against a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .metrics import METRICS, RATE_METRICS

#: The project's floors file.
DEFAULT_FLOORS = Path(__file__).resolve().parent / "floors.yaml"
_KEYS = {"dataset", "k", "system", "floors", "ceilings"}
# Longest names first so "citation_precision_zh" is not read as "citation_..." + something.
_METRIC_NAMES = sorted(METRICS, key=len, reverse=True)


class FloorsError(Exception):
    """The floors file is missing or malformed."""


@dataclass
class Floors:
    """Bounds one run must meet."""

    path: Path
    floors: dict[str, float] = field(default_factory=dict)
    ceilings: dict[str, float] = field(default_factory=dict)
    #: Dataset file(s) the floors were measured on, relative to eval/datasets/.
    dataset: str | list[str] | None = None
    k: int | None = None
    system: str = "pipeline"


def split_key(key: str) -> tuple[str, str | None]:
    """``answer_accuracy_zh`` -> (``answer_accuracy``, ``zh``); ``hit_at_k`` -> (``hit_at_k``, None)."""
    if key in METRICS:
        return key, None
    for name in _METRIC_NAMES:
        if key.startswith(name + "_") and len(key) > len(name) + 1:
            return name, key[len(name) + 1:]
    raise KeyError(key)


def _bounds(raw: Any, what: str, path: Path) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FloorsError(f"{path}: `{what}` must be a mapping of metric: value")
    out = {}
    for key, value in raw.items():
        try:
            split_key(str(key))
        except KeyError:
            raise FloorsError(f"{path}: unknown metric {key!r} in `{what}` (known: {', '.join(METRICS)}; "
                              "add _LANG or _TYPE for a group, e.g. answer_accuracy_zh)") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FloorsError(f"{path}: `{what}.{key}` must be a number, got {value!r}")
        out[str(key)] = float(value)
    return out


def load_floors(path: str | Path | None = None) -> Floors:
    """Read and validate a floors file (the project's ``eval/floors.yaml`` by default)."""
    path = Path(path) if path else DEFAULT_FLOORS
    if not path.is_file():
        raise FloorsError(f"floors file not found: {path} (pass --floors PATH)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FloorsError(f"floors file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise FloorsError(f"floors file {path} must be a mapping (floors:, ceilings:, ...)")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise FloorsError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    k = raw.get("k")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
        raise FloorsError(f"{path}: `k` must be an integer")
    dataset = raw.get("dataset")
    if dataset is not None and not (isinstance(dataset, str) or
                                    (isinstance(dataset, list) and all(isinstance(d, str) for d in dataset))):
        raise FloorsError(f"{path}: `dataset` must be a file name or a list of them")
    return Floors(path, _bounds(raw.get("floors"), "floors", path), _bounds(raw.get("ceilings"), "ceilings", path),
                  dataset, k, str(raw.get("system") or "pipeline"))


def measured(summary: dict[str, Any], key: str) -> float | None:
    """The value a floor key names in one system's summary (None when not measured)."""
    metric, group = split_key(key)
    if group is None:
        return summary["overall"].get(metric)
    for by in ("by_lang", "by_type", "by_dataset"):
        if group in summary.get(by, {}):
            return summary[by][group].get(metric)
    return None


def check_floors(doc: dict[str, Any], floors: Floors) -> tuple[list[str], list[str]]:
    """Compare a results document with the bounds; returns (failures, passes) as lines.

    A metric that could not be measured (e.g. no English questions) fails unless its bound is
    trivial (a floor of 0, or a ceiling of 1 on a rate).
    """
    if floors.system not in doc["systems"]:
        return [f"system {floors.system!r} was not run"], []
    summary = doc["systems"][floors.system]
    failures, passes = [], []
    checks = [(key, bound, "floor") for key, bound in floors.floors.items()]
    checks += [(key, bound, "ceiling") for key, bound in floors.ceilings.items()]
    for key, bound, kind in checks:
        value = measured(summary, key)
        if value is None:
            trivial = bound <= 0 if kind == "floor" else (split_key(key)[0] in RATE_METRICS and bound >= 1)
            line = f"{key}: not measured (no questions in that group), {kind} {bound:g}"
            (passes if trivial else failures).append(line)
            continue
        bad = value < bound - 1e-9 if kind == "floor" else value > bound + 1e-9
        relation = ("<" if bad else ">=") if kind == "floor" else (">" if bad else "<=")
        line = f"{key}: {value:.4f} {relation} {kind} {bound:g}"
        (failures if bad else passes).append(line)
    return failures, passes
