"""Write a run's report.md, results.json and chart.png, and the tables printed at the end.

Everything here reads the results.json document (:meth:`EvalRun.to_dict`), so a saved
results file can be re-rendered or compared without re-running anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from .metrics import METRICS, RATE_METRICS

PIPELINE = "pipeline"
NO_JUDGE_LINE = ("**No LLM judge was used**: every number below is a string-match metric "
                 "(gold answers and evidence matched after NFKC, lower-casing and keeping only "
                 "letters and digits; `[n]` markers stripped from answers).")
#: Metrics drawn in chart.png.
CHART_METRICS = ("hit_at_k", "mrr", "answer_accuracy", "citation_support", "abstention_accuracy")
#: Columns of the per-type / per-lang tables.
GROUP_METRICS = ("hit_at_k", "mrr", "evidence_recall", "answer_accuracy", "citation_support",
                 "abstention_accuracy", "false_abstention_rate", "latency_p50_ms")


def label(metric: str, k: int) -> str:
    """Display name of a metric, with ``@k`` filled in."""
    return METRICS.get(metric, metric).replace("@k", f"@{k}")


def fmt(metric: str, value: Any) -> str:
    """A metric value for a table: rates with 3 decimals, chars whole, ms with 1 decimal."""
    if value is None:
        return "–"
    if metric in RATE_METRICS:
        return f"{value:.3f}"
    if metric.endswith("_ms"):
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """A GitHub-flavoured markdown table: the first ``left`` columns left-aligned, the rest right-aligned."""
    cells = [list(map(str, header))] + [list(map(str, r)) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]

    def line(row):
        return "| " + " | ".join(c.ljust(w) if i < left else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(row, widths))) + " |"

    sep = "|" + "|".join(":" + "-" * (w + 1) if i < left else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def overall_table(doc: dict[str, Any]) -> str:
    """Metrics as rows, systems as columns."""
    k = doc["meta"]["k"]
    systems = doc["systems"]
    header = ["metric"] + [s["label"] for s in systems.values()]
    rows = [["questions (answerable / unanswerable)"]
            + [f'{s["overall"]["n"]} ({s["overall"]["n_answerable"]} / {s["overall"]["n_unanswerable"]})'
               for s in systems.values()]]
    for m in METRICS:
        rows.append([label(m, k)] + [fmt(m, s["overall"].get(m)) for s in systems.values()])
    if any(s["overall"].get("errors") for s in systems.values()):
        rows.append(["errors (questions that crashed)"] + [str(s["overall"].get("errors", 0)) for s in systems.values()])
    return md_table(header, rows)


def group_table(doc: dict[str, Any], system: str, by: str) -> str:
    """One system's metrics per type (``by_type``) or per language (``by_lang``)."""
    k = doc["meta"]["k"]
    groups = doc["systems"][system][by]
    header = [by.removeprefix("by_"), "n"] + [label(m, k) for m in GROUP_METRICS]
    rows = [[name, str(g["n"])] + [fmt(m, g.get(m)) for m in GROUP_METRICS] for name, g in groups.items()]
    mean = doc["systems"][system].get("corpus_mean") if by == "by_dataset" else None
    if mean:
        rows.append(["mean of datasets", str(mean["n"])] + [fmt(m, mean.get(m)) for m in GROUP_METRICS])
    return md_table(header, rows)


def handled_table(doc: dict[str, Any]) -> str:
    """Share of questions handled correctly per type and language, every system side by side."""
    systems = doc["systems"]
    header = ["group"] + [s["label"] for s in systems.values()]
    groups: dict[str, dict[str, list[bool]]] = {}
    for name, rows in doc["rows"].items():
        for r in rows:
            for g in (f"type={r['type']}", f"lang={r['lang']}"):
                groups.setdefault(g, {}).setdefault(name, []).append(bool(r["correct"]))
    out = []
    for g in sorted(groups, key=lambda x: (not x.startswith("lang="), x)):
        cells = [g]
        for name in systems:
            xs = groups[g].get(name, [])
            cells.append(f"{sum(xs) / len(xs):.3f} ({sum(xs)}/{len(xs)})" if xs else "–")
        out.append(cells)
    return md_table(header, out)


def failures_table(doc: dict[str, Any], system: str = PIPELINE) -> str:
    """Every question the system got wrong, with what was expected and what it said."""
    gold = {(q["dataset"], q["id"]): q for q in doc.get("gold", [])}
    rows = []
    for r in doc["rows"].get(system, []):
        if r["correct"]:
            continue
        g = gold.get((r["dataset"], r["id"]), {})
        expected = " & ".join("/".join(group) for group in g.get("answers", [])) or "(abstain)"
        said = (r["answer"] or "").replace("\n", " ").replace("|", "\\|")
        said = said if r["found"] else "(abstained)"
        rows.append([r["id"], f'{r["type"]}/{r["lang"]}', r["question"].replace("|", "\\|"),
                     expected.replace("|", "\\|"), said[:140] + ("…" if len(said) > 140 else ""),
                     str(r["hit_rank"] or "–")])
    if not rows:
        return "_none_"
    return md_table(["id", "type/lang", "question", "expected", "answer", "hit rank"], rows, left=5)


#: What went wrong with an answerable question, in the order the pipeline runs.
MISS_KINDS = ("retrieval miss", "abstained, evidence retrieved", "wrong sentence, evidence retrieved")


def miss_kind(row: dict[str, Any]) -> str | None:
    """Why an answerable question was missed (:data:`MISS_KINDS`); None when it was answered
    right or is unanswerable. A question without gold evidence has no hit rank: its misses
    count as retrieval misses."""
    if not row["answerable"] or row["correct"]:
        return None
    if row["hit_rank"] is None:
        return MISS_KINDS[0]
    return MISS_KINDS[1] if not row["found"] else MISS_KINDS[2]


def misses_table(doc: dict[str, Any], system: str = PIPELINE) -> str:
    """Answerable questions per dataset: right, and each kind of miss (:func:`miss_kind`), so
    that work goes where the misses are (retrieval, the threshold, or the sentence choice)."""
    counts: dict[str, dict[str, int]] = {}
    for r in doc["rows"].get(system, []):
        if not r["answerable"]:
            continue
        for key in (r["dataset"], "all"):
            c = counts.setdefault(key, dict.fromkeys(("n", "right", *MISS_KINDS), 0))
            c["n"] += 1
            kind = miss_kind(r)
            c[kind or "right"] += 1
    if not counts:
        return "_none_"
    order = sorted(k for k in counts if k != "all") + ["all"]
    return md_table(["dataset", "answerable", "right", *MISS_KINDS],
                    [[k, *(str(counts[k][c]) for c in ("n", "right", *MISS_KINDS))] for k in order])


#: Thresholds shown in the min_score trade-off table.
CURVE_THRESHOLDS = (0.50, 0.55, 0.58, 0.60, 0.61, 0.62, 0.65, 0.70)


def abstention_table(doc: dict[str, Any], system: str = PIPELINE) -> str:
    """Abstention accuracy / false abstention per dataset at several ``min_score`` values."""
    from .metrics import Row, abstention_curve

    rows = [Row(**r) for r in doc.get("rows", {}).get(system, [])]
    if not any(r.confidence is not None for r in rows):
        return ""
    datasets = sorted({r.dataset for r in rows})
    body = []
    for t in CURVE_THRESHOLDS:
        cells = [f"{t:.3f}"]
        for d in datasets + [None]:
            point = abstention_curve([r for r in rows if d is None or r.dataset == d], [t])[0]
            a, f = point["abstention_accuracy"], point["false_abstention_rate"]
            cells.append(("–" if a is None else f"{a:.2f}") + " / " + ("–" if f is None else f"{f:.2f}"))
        body.append(cells)
    return md_table(["min_score", *datasets, "all"], body)


def render_markdown(doc: dict[str, Any]) -> str:
    """The whole report.md."""
    meta = doc["meta"]
    k = meta["k"]
    parts = [
        "# Answer-quality eval",
        "",
        NO_JUDGE_LINE,
        "",
        f"- created: {meta['created']}; runtime {meta['runtime_s']:.1f} s",
        "- datasets: " + ", ".join(f"`{d['path']}` ({d['questions']} questions"
                                     + (f", {d['lines_skipped']} lines skipped" if d["lines_skipped"] else "") + ")"
                                     for d in meta["datasets"])
        + (f"; limited to the first {meta['limit']}" if meta.get("limit") else ""),
        f"- config: `{meta['config_path']}`; embedder `{meta['embedder']}`; k = {k}",
        "- systems: " + "; ".join(f"**{s['label']}**" + (f" ({'; '.join(s['notes'])})" if s["notes"] else "")
                                  for s in doc["systems"].values()),
        "",
        "Denominators: retrieval metrics over questions with evidence; answer accuracy and false "
        "abstention over answerable questions; citation support over answerable questions answered "
        "correctly; citation precision over answerable questions answered with citations; abstention "
        "accuracy over unanswerable questions. Baselines answer with the top passage's sentence most "
        "similar to the question and never abstain; only an empty retrieval leaves them without an "
        "answer (BM25 finds nothing when no query term occurs in the corpus, common for English "
        "questions, and that counts as an abstention). Latency is wall clock around one answer on "
        "this machine (shared CPU: compare systems within one run, not across runs); the baselines' "
        "sentence and question vectors are computed outside the timer, as ours are at ingest time.",
        "",
        "## Overall",
        "",
        overall_table(doc),
        "",
    ]
    if PIPELINE in doc["systems"]:
        parts += ["## Our pipeline by question type", "", group_table(doc, PIPELINE, "by_type"), "",
                  "## Our pipeline by question language", "", group_table(doc, PIPELINE, "by_lang"), ""]
        if "by_dataset" in doc["systems"][PIPELINE]:
            parts += ["## Our pipeline by dataset", "", group_table(doc, PIPELINE, "by_dataset"), ""]
        parts += ["## Where the misses are", "",
                  "Answerable questions per dataset: answered right; missed because the evidence was not "
                  "in the top passages (retrieval); abstained although it was (the confidence threshold); "
                  "or answered with another sentence although it was (the sentence choice).", "",
                  misses_table(doc), ""]
        curve = abstention_table(doc)
        if curve:
            parts += ["## What `answer.min_score` trades off", "",
                      "From the confidences our pipeline recorded (abstentions included), per dataset: "
                      "abstention accuracy on unanswerable questions / false-abstention rate on "
                      f"answerable ones, at each threshold. The configured value is "
                      f"{doc['meta'].get('config', {}).get('answer', {}).get('min_score', '?')}; raising it "
                      "abstains more often on both kinds of question.", "", curve, ""]
    if len(doc["systems"]) > 1:
        parts += ["## Questions handled correctly, all systems",
                  "", "Answerable: correct answer; unanswerable: abstained.", "", handled_table(doc), ""]
    if PIPELINE in doc["systems"]:
        parts += ["## Questions our pipeline got wrong", "", failures_table(doc), ""]
    if doc.get("warnings"):
        parts += ["## Warnings", ""] + [f"- {w}" for w in doc["warnings"]] + [""]
    parts += ["![systems compared](chart.png)", ""]
    return "\n".join(parts)


def render_stdout(doc: dict[str, Any]) -> str:
    """The tables printed at the end of a run."""
    k = doc["meta"]["k"]
    parts = [f"Overall (k={k}, {doc['meta']['questions']} questions; string-match metrics, no LLM judge)",
             overall_table(doc)]
    if PIPELINE in doc["systems"]:
        parts += ["", "Our pipeline by type", group_table(doc, PIPELINE, "by_type"),
                  "", "Our pipeline by language", group_table(doc, PIPELINE, "by_lang")]
        if "by_dataset" in doc["systems"][PIPELINE]:
            parts += ["", "Our pipeline by dataset (each with its own corpus and index)",
                      group_table(doc, PIPELINE, "by_dataset")]
    return "\n".join(parts)


def write_chart(doc: dict[str, Any], path: Path) -> None:
    """Grouped bars: one group per metric, one bar per system (English text only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = doc["meta"]["k"]
    systems = list(doc["systems"].values())
    n = len(systems)
    width = 0.8 / max(n, 1)
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=110)
    for i, s in enumerate(systems):
        values = [s["overall"].get(m) for m in CHART_METRICS]
        xs = [j + (i - (n - 1) / 2) * width for j in range(len(CHART_METRICS))]
        bars = ax.bar(xs, [v or 0.0 for v in values], width, label=s["label"])
        for bar, v in zip(bars, values):
            ax.annotate("n/a" if v is None else f"{v:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(CHART_METRICS)), [label(m, k) for m in CHART_METRICS])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("share (higher is better)")
    ax.set_title(f"Answer quality by system ({doc['meta']['questions']} questions, k={k}, string match)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(n, 4), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_outputs(doc: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write results.json, report.md and chart.png into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"results": out_dir / "results.json", "report": out_dir / "report.md", "chart": out_dir / "chart.png"}
    paths["results"].write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    write_chart(doc, paths["chart"])
    paths["report"].write_text(render_markdown(doc), encoding="utf-8")
    return paths
