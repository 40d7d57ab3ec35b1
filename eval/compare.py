"""``--compare OLD.json``: what changed between two runs, question by question, and the metric deltas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .metrics import LOWER_IS_BETTER, METRICS, RATE_METRICS
from .report import PIPELINE, fmt, label, md_table


class ResultsError(Exception):
    """A results.json file that cannot be read."""


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results.json written by ``python -m eval``."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"results file not found: {path} (pass the results.json of an earlier run)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path} is not a JSON results file: {exc}") from exc
    if not isinstance(doc, dict) or not {"meta", "systems", "rows"} <= doc.keys():
        raise ResultsError(f"{path} is not a results.json of `python -m eval` (no meta/systems/rows)")
    return doc


def _rank(r: dict[str, Any]) -> str:
    return str(r["hit_rank"]) if r.get("hit_rank") else "miss"


def _rank_value(r: dict[str, Any]) -> float:
    return r["hit_rank"] if r.get("hit_rank") else float("inf")


def question_changes(old_row: dict[str, Any], new_row: dict[str, Any]) -> tuple[list[str], int]:
    """Human-readable changes of one question and a verdict: +1 better, -1 worse, 0 neutral/mixed."""
    changes: list[str] = []
    verdict = 0
    if old_row["answerable"] and old_row["correct"] != new_row["correct"]:
        changes.append("wrong → correct" if new_row["correct"] else "correct → wrong")
        verdict = 1 if new_row["correct"] else -1
    if old_row["found"] != new_row["found"]:
        flip = "abstained → answered" if new_row["found"] else "answered → abstained"
        if not old_row["answerable"]:
            verdict = 1 if not new_row["found"] else -1
            flip += " (better)" if verdict > 0 else " (worse)"
        changes.append("abstention flip: " + flip)
    elif old_row["answerable"] and old_row["found"] and old_row["correct"] == new_row["correct"] \
            and (old_row.get("answer") or "") != (new_row.get("answer") or ""):
        changes.append("answer text changed (" + ("still correct" if new_row["correct"] else "still wrong") + ")")
    if old_row.get("hit_rank") != new_row.get("hit_rank"):
        changes.append(f"hit rank {_rank(old_row)} → {_rank(new_row)}")
        if verdict == 0:
            verdict = 1 if _rank_value(new_row) < _rank_value(old_row) else -1
    return changes, verdict


def metric_deltas(old: dict[str, Any], new: dict[str, Any], system: str) -> str:
    """Table of old/new/delta for every overall metric of one system."""
    k = new["meta"]["k"]
    a, b = old["systems"][system]["overall"], new["systems"][system]["overall"]
    rows = []
    for m in METRICS:
        va, vb = a.get(m), b.get(m)
        if va is None or vb is None:
            delta = "–"
        else:
            d = vb - va
            better = (d < 0) if m in LOWER_IS_BETTER else (d > 0)
            delta = f"{d:+.3f}" if m in RATE_METRICS else f"{d:+.1f}" if m.endswith("_ms") else f"{d:+.0f}"
            if abs(d) > 1e-12 and not m.startswith("latency"):
                delta += " better" if better else " worse"
        rows.append([label(m, k), fmt(m, va), fmt(m, vb), delta])
    return md_table(["metric", "old", "new", "delta"], rows)


def compare(old: dict[str, Any], new: dict[str, Any], system: str = PIPELINE) -> str:
    """The full comparison text: per-question changes of ``system``, then metric deltas per system."""
    out: list[str] = []
    if old["meta"].get("k") != new["meta"].get("k"):
        out.append(f"note: k differs (old {old['meta'].get('k')}, new {new['meta'].get('k')}); hit ranks are not comparable")
    if system not in old["rows"] or system not in new["rows"]:
        out.append(f"system {system!r} is not in both runs; no question-by-question comparison")
    else:
        old_rows = {(r.get("dataset", ""), r["id"]): r for r in old["rows"][system]}
        new_rows = {(r.get("dataset", ""), r["id"]): r for r in new["rows"][system]}
        better, worse, other = [], [], []
        counts = {"wrong → correct": 0, "correct → wrong": 0, "abstention flips": 0,
                  "hit rank better": 0, "hit rank worse": 0}
        for key in new_rows:
            if key not in old_rows:
                continue
            o, n = old_rows[key], new_rows[key]
            changes, verdict = question_changes(o, n)
            if not changes:
                continue
            if o["answerable"] and o["correct"] != n["correct"]:
                counts["wrong → correct" if n["correct"] else "correct → wrong"] += 1
            counts["abstention flips"] += o["found"] != n["found"]
            if o.get("hit_rank") != n.get("hit_rank"):
                counts["hit rank better" if _rank_value(n) < _rank_value(o) else "hit rank worse"] += 1
            line = f"  {n['id']} [{n['type']}/{n['lang']}] {n['question']}: " + "; ".join(changes)
            (better if verdict > 0 else worse if verdict < 0 else other).append(line)
        out.append(f"Question-by-question changes ({system}, {len(set(old_rows) & set(new_rows))} questions in both runs)")
        for title, lines in (("better", better), ("worse", worse), ("other changes", other)):
            out.append(f"{title}: {len(lines)}")
            out.extend(lines)
        out.append("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        only_old = sorted(k[1] for k in set(old_rows) - set(new_rows))
        only_new = sorted(k[1] for k in set(new_rows) - set(old_rows))
        if only_old:
            out.append(f"only in old run: {len(only_old)} ({', '.join(only_old[:20])}{' …' if len(only_old) > 20 else ''})")
        if only_new:
            out.append(f"only in new run: {len(only_new)} ({', '.join(only_new[:20])}{' …' if len(only_new) > 20 else ''})")
    for name in new["systems"]:
        if name in old["systems"]:
            out += ["", f"Metric deltas: {new['systems'][name]['label']}", metric_deltas(old, new, name)]
    return "\n".join(out)
