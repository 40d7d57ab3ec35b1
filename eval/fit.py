"""Fit the extractive answerer's weights and abstention threshold, leave-one-corpus-out.

``python -m eval.fit`` retrieves every gold question once per corpus, then replays only the
answer step under candidate :class:`app.answer.Weights` (cheap: the sentence vectors are in
memory), so a search over weights takes minutes, not hours.

Leave-one-corpus-out: for each corpus with a gold set, the weights and threshold are fitted
on the *other* corpora and scored on the held-out one. Those held-out numbers are what a
new user's documents can expect; the in-sample numbers (fitted on everything) are printed
next to them so the gap is visible. Derived corpora (a machine conversion of another one,
``debian_faq_hant``) and conversation files are scored but never fitted on: they would
leak their parent's questions.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from app import Assistant
from app.assistant import PreparedQuestion
from app.answer import ExtractiveAnswerer, Weights
from app.config import AnswerMode

from .corpora import open_corpus
from .dataset import LoadedDataset, Question
from .metrics import answer_correct

log = logging.getLogger("eval")

#: The knobs searched, each over a small grid around its default. Everything else in
#: Weights keeps its default (fewer fitted knobs generalise better).
GRID: dict[str, list[float]] = {
    "lexical": [0.1, 0.15, 0.2, 0.25, 0.3, 0.4],
    "lexical_en": [0.0, 0.05, 0.1, 0.2],
    "cue_missing": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3],
    "focus_missing": [0.0, 0.025, 0.05, 0.1],
    "focus_unknown": [0.0, 0.05, 0.1, 0.15, 0.2],
    "unknown_penalty": [0.0, 0.05, 0.1, 0.2],
    "passage_cos": [0.0, 0.25, 0.5, 0.75],
    "number_missing": [0.0, 0.05, 0.1, 0.15, 0.2],
}
#: Thresholds tried for ``answer.min_score`` (the confidence below which we abstain).
THRESHOLDS = [round(x, 3) for x in np.arange(0.30, 0.90, 0.005)]


@dataclass
class Case:
    """One gold question, retrieved once; the answer step is replayed per candidate weights."""

    question: Question
    prepared: PreparedQuestion
    answerer: ExtractiveAnswerer

    @property
    def language(self) -> str:
        """The question's language."""
        return self.prepared.language


@dataclass
class Outcome:
    """What one replay gave: the confidence, and whether the answer is right if given."""

    case: Case
    confidence: float
    right_if_found: bool


def collect(base: Assistant, datasets: Sequence[LoadedDataset], k: int = 5) -> dict[str, list[Case]]:
    """Retrieve every question of every dataset once (each against its own corpus)."""
    cases: dict[str, list[Case]] = {}
    for d in datasets:
        assistant = open_corpus(base, d)
        extractive = assistant._answerers[AnswerMode.EXTRACTIVE]
        for q in d.questions:
            history: list[tuple[str, str]] = []
            for prev in q.history:  # a conversation turn: replay the earlier turns first
                history.append((prev, assistant.ask(prev, history=list(history), top_k=k).text))
            prep = assistant.prepare(assistant._clean(q.question), history, top_k=k)
            cases.setdefault(d.name, []).append(Case(q, prep, extractive))
    return cases


def replay(cases: Sequence[Case], weights: Weights) -> list[Outcome]:
    """Answer every case under ``weights`` with no threshold (the threshold is swept later)."""
    out = []
    for c in cases:
        a = c.answerer
        saved_w, saved_cfg = a.weights, a.config
        a.weights, a.config = weights, a.config.model_copy(update={"min_score": -10.0})
        try:
            p = c.prepared
            ans = a.answer(p.resolved, p.query_vector, p.passages, p.language, subquestions=p.subquestions,
                           expansion=p.expansion, follows=p.follows)
        finally:
            a.weights, a.config = saved_w, saved_cfg
        right = ans.found and (answer_correct(ans.text, c.question.answers) if c.question.answers else True)
        out.append(Outcome(c, ans.confidence, bool(right)))
    return out


def rates(outcomes: Sequence[Outcome], threshold: float, en_shift: float) -> dict[str, float | None]:
    """Answer accuracy (answerable), abstention accuracy (unanswerable), false abstention and
    overall correctness at one threshold."""
    ans = [o for o in outcomes if o.case.question.answerable]
    una = [o for o in outcomes if not o.case.question.answerable]

    def found(o: Outcome) -> bool:
        return o.confidence >= threshold + (en_shift if o.case.language == "en" else 0.0)

    correct = sum(1 for o in ans if found(o) and o.right_if_found) + sum(1 for o in una if not found(o))
    return {
        "answer_accuracy": sum(1 for o in ans if found(o) and o.right_if_found) / len(ans) if ans else None,
        "abstention_accuracy": sum(1 for o in una if not found(o)) / len(una) if una else None,
        "false_abstention_rate": sum(1 for o in ans if not found(o)) / len(ans) if ans else None,
        "correct": correct / len(outcomes) if outcomes else None,
        "questions": len(outcomes),
    }


def objective(by_corpus: dict[str, list[Outcome]], threshold: float, en_shift: float) -> float:
    """Mean over corpora of the share of questions handled right (each corpus counts once,
    so the large article set cannot dominate the fit)."""
    vals = [rates(o, threshold, en_shift)["correct"] for o in by_corpus.values() if o]
    return float(np.mean(vals)) if vals else 0.0


def best_threshold(by_corpus: dict[str, list[Outcome]]) -> tuple[float, float, float]:
    """(score, min_score, en_threshold_shift) maximising the objective."""
    best = (-1.0, 0.62, 0.0)
    for t in THRESHOLDS:
        s = objective(by_corpus, t, 0.0)
        if s > best[0] + 1e-9:
            best = (s, t, 0.0)
    score, t, _ = best
    for shift in [round(x, 3) for x in np.arange(-0.25, 0.101, 0.025)]:
        s = objective(by_corpus, t, shift)
        if s > best[0] + 1e-9:
            best = (s, t, shift)
    return best


def fit(cases: dict[str, list[Case]], train: Sequence[str], start: Weights | None = None, passes: int = 2,
        grid: dict[str, list[float]] | None = None) -> tuple[Weights, float, float, float]:
    """Coordinate search over ``grid`` on the ``train`` corpora; returns (weights, min_score,
    en_shift, objective)."""
    grid = GRID if grid is None else grid
    w = copy.deepcopy(start or Weights())

    def evaluate(weights: Weights) -> tuple[float, float, float]:
        return best_threshold({n: replay(cases[n], weights) for n in train})

    best = evaluate(w)
    for _ in range(passes):
        improved = False
        for name, values in grid.items():
            for v in values:
                if v == getattr(w, name):
                    continue
                cand = replace(w, **{name: v})
                got = evaluate(cand)
                if got[0] > best[0] + 1e-9:
                    best, w, improved = got, cand, True
                    log.info("  %s=%s -> %.4f", name, v, got[0])
        if not improved:
            break
    return w, best[1], best[2], best[0]


def leave_one_corpus_out(cases: dict[str, list[Case]], fit_on: Sequence[str], passes: int = 2,
                         grid: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """Fit on all-but-one corpus, score the held-out one; plus the in-sample fit on all."""
    result: dict[str, Any] = {"held_out": {}, "in_sample": {}, "fits": {}, "fit_on": list(fit_on)}
    w_all, t_all, s_all, _ = fit(cases, fit_on, passes=passes, grid=grid)
    result["fits"]["all"] = {"weights": _diff(w_all), "min_score": t_all, "en_shift": s_all}
    for name, outs in cases.items():
        result["in_sample"][name] = rates(replay(outs, w_all), t_all, s_all)
    for held in fit_on:
        train = [n for n in fit_on if n != held]
        w, t, s, _ = fit(cases, train, passes=passes, grid=grid)
        result["fits"][f"without {held}"] = {"weights": _diff(w), "min_score": t, "en_shift": s}
        result["held_out"][held] = rates(replay(cases[held], w), t, s)
    return result


def _diff(w: Weights) -> dict[str, float]:
    """The fields of ``w`` that differ from the defaults."""
    d = Weights()
    return {f.name: getattr(w, f.name) for f in fields(w) if getattr(w, f.name) != getattr(d, f.name)}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m eval.fit``: leave-one-corpus-out fit; prints a table, writes JSON."""
    from app.config import load_config

    from .cli import default_datasets
    from .dataset import load_datasets

    p = argparse.ArgumentParser(prog="python -m eval.fit", description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--passes", type=int, default=2)
    p.add_argument("--knobs", default=",".join(GRID),
                   help="comma-separated Weights fields to search (default: all of GRID); "
                        "'none' fits only the threshold")
    p.add_argument("--out", type=Path, default=Path("eval/out/fit.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    t0 = time.perf_counter()
    datasets = load_datasets(default_datasets())
    base = Assistant(load_config(args.config))
    cases = collect(base, datasets, args.k)
    fit_on = [d.name for d in datasets if is_fit_corpus(d)]
    knobs = [] if args.knobs == "none" else [k.strip() for k in args.knobs.split(",") if k.strip()]
    unknown = [k for k in knobs if k not in GRID]
    if unknown:
        p.error(f"unknown knob(s): {', '.join(unknown)}; choose from {', '.join(GRID)}")
    result = leave_one_corpus_out(cases, fit_on, passes=args.passes, grid={k: GRID[k] for k in knobs})
    result["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(format_table(result))
    return 0


def is_fit_corpus(d: LoadedDataset) -> bool:
    """Whether a dataset may be fitted on: original gold sets only (not conversions or
    conversation files, which repeat another set's questions, nor the off-topic probes,
    which are the same questions asked of every corpus: they check a fit, out of sample)."""
    return not d.name.endswith("_hant") and "conversation" not in d.path.stem and "offtopic" not in d.path.stem


def format_table(result: dict[str, Any]) -> str:
    """Held-out next to in-sample, per corpus."""
    lines = ["| corpus | | answer acc. | abstention | false abst. |", "|---|---|---:|---:|---:|"]

    def f(v):
        return "–" if v is None else f"{v:.3f}"

    for name, ins in result["in_sample"].items():
        ho = result["held_out"].get(name)
        if ho:
            lines.append(f"| {name} | held out | {f(ho['answer_accuracy'])} | {f(ho['abstention_accuracy'])} "
                         f"| {f(ho['false_abstention_rate'])} |")
        # A set never fitted on (a conversion, conversations, the off-topic probes) is scored
        # under the fit on all corpora, but is not in its sample.
        label = "in-sample" if name in result.get("fit_on", result["in_sample"]) else "fit on all, not in it"
        lines.append(f"| {name} | {label} | {f(ins['answer_accuracy'])} | {f(ins['abstention_accuracy'])} "
                     f"| {f(ins['false_abstention_rate'])} |")
    for k, v in result["fits"].items():
        lines.append(f"\nfit {k}: min_score {v['min_score']}, en shift {v['en_shift']}, {v['weights']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
