"""Run every question through every system and score it.

Latency is wall clock around the timed call (:meth:`System.answer`); each system first
answers one question untimed so model loading never lands in a percentile.
"""

from __future__ import annotations

import logging
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from app import Answer, Assistant

from .baselines import build_systems
from .corpora import open_corpus
from .dataset import LoadedDataset, Question
from .metrics import Row, score_question, summarize

log = logging.getLogger("eval")


@dataclass
class SystemResult:
    """The rows and metrics of one system."""

    name: str
    label: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Overall / per-type / per-lang metrics."""
        return summarize(self.rows)


def score_answer(q: Question, answer: Answer, latency_ms: float, k: int) -> Row:
    """Score an :class:`app.Answer` against its gold question."""
    return score_question(
        qid=q.id, question=q.question, qtype=q.type, lang=q.lang, answerable=q.answerable,
        answers=q.answers, evidence=q.evidence, k=k, answer_text=answer.text, found=answer.found,
        passages=[p.text for p in answer.passages], cited=[c.text for c in answer.citations] if answer.found else [],
        cited_sources=[c.location for c in answer.citations] if answer.found else [],
        latency_ms=latency_ms, dataset=q.dataset, confidence=answer.confidence,
        key_phrases=answer.key_phrases if answer.found else None,
    )


def _error_row(q: Question, exc: Exception, latency_ms: float, k: int) -> Row:
    row = score_question(qid=q.id, question=q.question, qtype=q.type, lang=q.lang, answerable=q.answerable,
                         answers=q.answers, evidence=q.evidence, k=k, answer_text="", found=False,
                         passages=[], cited=[], latency_ms=latency_ms, dataset=q.dataset,
                         error=f"{type(exc).__name__}: {exc}")
    row.correct = False  # a crash is never a correct abstention
    return row


def run_system(system: Any, questions: Sequence[Question], k: int, progress: bool = True) -> SystemResult:
    """Answer and score every question with one system (tqdm progress on stderr)."""
    from tqdm import tqdm

    try:  # untimed warm-up: lazy model loads, first-call caches
        system.prepare(questions[0].question, k)
        system.answer(questions[0].question, k)
    except Exception:  # the real call below records the error per question
        pass
    rows = []
    for q in tqdm(questions, desc=f"{system.name:<10}", unit="q", file=sys.stderr, disable=not progress,
                  dynamic_ncols=True, leave=True):
        latency = 0.0
        try:
            system.prepare(q.question, k)
            # A conversation turn: the earlier turns are asked first (untimed) and passed as
            # history. Systems without conversation support get the bare question.
            converse = getattr(system, "converse", None)
            kwargs = {"history": converse(q.history, k)} if q.history and converse else {}
            t0 = time.perf_counter()
            answer = system.answer(q.question, k, **kwargs)
            latency = (time.perf_counter() - t0) * 1000
        except Exception as exc:  # one failing question must not lose the whole run
            log.warning("%s: question %s failed: %s", system.name, q.id, exc)
            rows.append(_error_row(q, exc, latency, k))
            continue
        rows.append(score_answer(q, answer, latency, k))
    return SystemResult(system.name, system.label, rows, list(getattr(system, "notes", [])))


@dataclass
class EvalRun:
    """Everything one ``python -m eval`` run produced (what results.json holds)."""

    meta: dict[str, Any]
    systems: list[SystemResult]
    warnings: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)

    def system(self, name: str) -> SystemResult | None:
        """The result of one system by name."""
        return next((s for s in self.systems if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The results.json document."""
        return {
            "meta": self.meta,
            "warnings": self.warnings,
            "systems": {s.name: {"label": s.label, "notes": s.notes, **s.summary()} for s in self.systems},
            "rows": {s.name: [r.to_dict() for r in s.rows] for s in self.systems},
            "gold": [asdict(q) for q in self.questions],
        }


def run_eval(assistant: Assistant, datasets: Sequence[LoadedDataset], k: int, baselines: bool = False,
             limit: int | None = None, progress: bool = True) -> EvalRun:
    """Run our pipeline (and the baselines) over the questions of ``datasets``.

    A dataset with its own corpus (``<name>/gold.jsonl`` + ``<name>/corpus/``) is asked
    against an index of that corpus (:mod:`eval.corpora`); the others use ``assistant``.
    Rows keep their dataset's name, so the report gives metrics per corpus.
    """
    started = time.perf_counter()
    budget = limit
    warnings = [w for d in datasets for w in d.warnings]
    results: dict[str, SystemResult] = {}
    questions: list[Question] = []
    corpora = []
    for d in datasets:
        chosen = d.questions if budget is None else d.questions[:budget]
        if not chosen:
            continue
        if budget is not None:
            budget -= len(chosen)
        t0 = time.perf_counter()
        corpus_assistant = open_corpus(assistant, d, progress=progress)
        info = corpus_assistant.info()
        corpora.append({"dataset": d.name, "corpus": str(corpus_assistant.config.corpus.dir),
                        "files": len(info.files), "chunks": info.chunks, "sentences": info.sentences,
                        "open_s": round(time.perf_counter() - t0, 2)})
        systems, build_warnings = build_systems(corpus_assistant, baselines)
        warnings += [w for w in build_warnings if w not in warnings]
        for system in systems:
            part = run_system(system, chosen, k, progress)
            if system.name in results:
                results[system.name].rows += part.rows
            else:
                results[system.name] = part
        questions += chosen
    cfg = assistant.config
    meta = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "k": k,
        "limit": limit,
        "questions": len(questions),
        "datasets": [{"name": d.name, "path": str(d.path), "questions": len(d.questions),
                      "lines_skipped": d.lines_skipped} for d in datasets],
        "corpora": corpora,
        "config_path": str(cfg.source) if cfg.source else None,
        "config": cfg.model_dump(mode="json"),
        "embedder": getattr(assistant.embedder, "fingerprint", "?"),
        "systems": {s.name: s.label for s in results.values()},
        "llm_judge": None,
        "matching": ("string match after app.text.normalize (NFKC, lower-case, letters/digits), or character by "
                     "character in Simplified script; [n] markers stripped"),
        "python": platform.python_version(),
        "runtime_s": round(time.perf_counter() - started, 2),
    }
    return EvalRun(meta, list(results.values()), warnings, questions)
