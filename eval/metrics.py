"""Pure scoring functions: string-match metrics over plain rows (no models, no I/O).

Matching follows DESIGN.md §3: both sides go through :func:`app.text.normalize` (NFKC,
lower-case, letters and digits only), and citation markers such as ``[1]`` are removed from
answer text first so their digits can never satisfy an answer like "1".

A needle also matches when both sides agree character for character in Simplified script
(:func:`_plain`): :func:`app.text.normalize` converts whole phrases through OpenCC, and a
phrase can be read differently inside a sentence than alone (4 行代码 reads 4 进程式码,
while the answer 4 行 stays 4 行), so a verbatim answer could fail to match its own quote.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

from app.text import normalize, simplified_chars

# [1], [12], [1, 2], [1][2]; applied after NFKC so full-width ［１］ is caught too.
_MARKER_RE = re.compile(r"\[\s*\d+(?:\s*[,，、]\s*\d+)*\s*\]")


def strip_markers(text: str) -> str:
    """The answer text without its ``[n]`` citation markers (NFKC-normalised)."""
    return _MARKER_RE.sub("", unicodedata.normalize("NFKC", text or ""))


def _plain(text: str) -> str:
    """``text`` in Simplified characters, converted one character at a time, NFKC and
    lower-cased, letters and digits only: the second form a needle may match in."""
    return "".join(ch for ch in simplified_chars(unicodedata.normalize("NFKC", text).lower()) if ch.isalnum())


def _contains(hay: tuple[str, str, str], needle: str) -> bool:
    """Whether ``needle`` occurs in ``hay`` (:func:`_forms`) in either form; a needle of
    symbols only (%{, ~) as written (NFKC); never when blank."""
    folded = normalize(needle)
    if not folded:
        literal = unicodedata.normalize("NFKC", needle).strip()
        return bool(literal) and literal in hay[2]
    return folded in hay[0] or _plain(needle) in hay[1]


def _forms(text: str) -> tuple[str, str, str]:
    return normalize(text), _plain(text), unicodedata.normalize("NFKC", text)


def contains_any(text: str, needles: Iterable[str]) -> bool:
    """Whether ``text`` contains any needle, normalised (empty needles never match)."""
    hay = _forms(text)
    return any(_contains(hay, s) for s in needles)


def hit_rank(passages: Sequence[str], evidence: Sequence[str], k: int) -> int | None:
    """1-based rank of the first of the top-``k`` passages containing some evidence, else None."""
    if not evidence:
        return None
    for rank, text in enumerate(passages[:k], 1):
        if contains_any(text, evidence):
            return rank
    return None


def reciprocal_rank(rank: int | None) -> float:
    """1/rank, or 0 when nothing was found (MRR@k averages this)."""
    return 1.0 / rank if rank else 0.0


def evidence_recall(passages: Sequence[str], evidence: Sequence[str], k: int) -> float | None:
    """Share of the evidence strings found in some top-``k`` passage; None without evidence."""
    wanted = [e for e in evidence if normalize(e)]
    if not wanted:
        return None
    top = [_forms(p) for p in passages[:k]]
    return sum(1 for e in wanted if any(_contains(p, e) for p in top)) / len(wanted)


def answer_correct(answer_text: str, groups: Sequence[Sequence[str]]) -> bool:
    """True when every group has an alternative contained in the normalised, marker-free answer."""
    text = _forms(strip_markers(answer_text))
    return all(any(_contains(text, a) for a in group) for group in groups)


def citation_precision(cited: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Share of cited passages containing some evidence; None with no citations or evidence."""
    if not cited or not evidence:
        return None
    return sum(1 for c in cited if contains_any(c, evidence)) / len(cited)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation (numpy's default); None if empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class Row:
    """One question as answered by one system, with its per-question scores."""

    id: str
    question: str
    type: str
    lang: str
    answerable: bool
    found: bool
    #: Answerable: the answer is correct. Unanswerable: the system abstained.
    correct: bool
    #: Rank of the first passage holding evidence (None: not in the top k, or no evidence).
    hit_rank: int | None
    evidence_recall: float | None
    #: Answerable + correct (+ evidence given): some cited passage holds evidence.
    citation_support: bool | None
    citation_precision: float | None
    answer: str
    answer_chars: int
    latency_ms: float
    cited_sources: list[str] = field(default_factory=list)
    has_evidence: bool = False
    n_passages: int = 0
    dataset: str = ""
    error: str | None = None
    #: The answerer's confidence (also on abstentions), for the min_score trade-off curve.
    confidence: float | None = None
    #: Correct answers: whether the highlighted answer phrase alone holds the gold answer.
    key_phrase_hit: bool | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Identifies the question across runs: (dataset, id)."""
        return (self.dataset, self.id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def score_question(*, qid: str, question: str, qtype: str, lang: str, answerable: bool,
                   answers: Sequence[Sequence[str]], evidence: Sequence[str], k: int,
                   answer_text: str, found: bool, passages: Sequence[str], cited: Sequence[str],
                   cited_sources: Sequence[str] = (), latency_ms: float = 0.0, dataset: str = "",
                   error: str | None = None, confidence: float | None = None,
                   key_phrases: Sequence[str] | None = None) -> Row:
    """Score one answer. ``passages``/``cited`` are passage texts, best first / in marker order."""
    rank = hit_rank(passages, evidence, k)
    if answerable:
        correct = found and answer_correct(answer_text, answers)
    else:
        correct = not found
    support = None
    if answerable and correct and evidence:
        support = any(contains_any(c, evidence) for c in cited)
    precision = citation_precision(cited, evidence) if answerable and found else None
    key_hit = None
    if answerable and correct and answers and key_phrases is not None:
        key_hit = answer_correct(" ".join(key_phrases), answers)
    return Row(
        id=qid, question=question, type=qtype, lang=lang, answerable=answerable, found=found,
        correct=correct, hit_rank=rank, evidence_recall=evidence_recall(passages, evidence, k),
        citation_support=support, citation_precision=precision, answer=answer_text,
        answer_chars=len(strip_markers(answer_text).strip()) if found else 0,
        latency_ms=round(latency_ms, 2), cited_sources=list(cited_sources), has_evidence=bool(evidence),
        n_passages=len(passages), dataset=dataset, error=error, confidence=confidence, key_phrase_hit=key_hit,
    )


def _mean(values: Iterable[float]) -> float | None:
    xs = list(values)
    return sum(xs) / len(xs) if xs else None


#: Metric keys in display order, with their labels (``@k`` is filled in by the report).
METRICS: dict[str, str] = {
    "hit_at_k": "hit@k",
    "mrr": "MRR@k",
    "evidence_recall": "evidence recall@k",
    "answer_accuracy": "answer accuracy",
    "citation_support": "citation support",
    "citation_precision": "citation precision",
    "abstention_accuracy": "abstention accuracy",
    "false_abstention_rate": "false-abstention rate",
    "key_phrase_hit": "answer phrase holds answer",
    "median_answer_chars": "median answer length (chars)",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
}
#: Metrics that are shares in [0, 1] (the rest are counts, chars or milliseconds).
RATE_METRICS = ("hit_at_k", "mrr", "evidence_recall", "answer_accuracy", "citation_support",
                "citation_precision", "abstention_accuracy", "false_abstention_rate", "key_phrase_hit")
#: Lower is better for these.
LOWER_IS_BETTER = ("false_abstention_rate", "median_answer_chars", "latency_p50_ms", "latency_p95_ms")


def aggregate(rows: Sequence[Row]) -> dict[str, Any]:
    """All metrics over ``rows``; a metric whose denominator is empty is None.

    Denominators: retrieval metrics over questions with evidence; answer accuracy and
    false abstention over answerable ones; citation support over answerable questions
    answered correctly (with evidence); citation precision over answerable questions
    answered with citations; abstention accuracy over unanswerable ones; answer length
    over answers given (found); latency over all.
    """
    with_ev = [r for r in rows if r.has_evidence]
    ans = [r for r in rows if r.answerable]
    unans = [r for r in rows if not r.answerable]
    lat = [r.latency_ms for r in rows]
    out: dict[str, Any] = {
        "n": len(rows),
        "n_answerable": len(ans),
        "n_unanswerable": len(unans),
        "n_with_evidence": len(with_ev),
        "hit_at_k": _mean(1.0 if r.hit_rank else 0.0 for r in with_ev),
        "mrr": _mean(reciprocal_rank(r.hit_rank) for r in with_ev),
        "evidence_recall": _mean(r.evidence_recall for r in with_ev if r.evidence_recall is not None),
        "answer_accuracy": _mean(1.0 if r.correct else 0.0 for r in ans),
        "citation_support": _mean(1.0 if r.citation_support else 0.0 for r in ans
                                  if r.citation_support is not None),
        "citation_precision": _mean(r.citation_precision for r in ans if r.citation_precision is not None),
        "abstention_accuracy": _mean(0.0 if r.found else 1.0 for r in unans),
        "false_abstention_rate": _mean(0.0 if r.found else 1.0 for r in ans),
        "key_phrase_hit": _mean(1.0 if r.key_phrase_hit else 0.0 for r in ans if r.key_phrase_hit is not None),
        "median_answer_chars": percentile([r.answer_chars for r in rows if r.found], 50),
        "latency_p50_ms": percentile(lat, 50),
        "latency_p95_ms": percentile(lat, 95),
        "errors": sum(1 for r in rows if r.error),
    }
    return out


def group_by(rows: Sequence[Row], key: Callable[[Row], str]) -> dict[str, dict[str, Any]]:
    """:func:`aggregate` per group, groups sorted by name."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return {name: aggregate(groups[name]) for name in sorted(groups)}


def summarize(rows: Sequence[Row]) -> dict[str, Any]:
    """Overall, per-type and per-lang metrics (plus per-dataset when rows span several files)."""
    out = {
        "overall": aggregate(rows),
        "by_type": group_by(rows, lambda r: r.type),
        "by_lang": group_by(rows, lambda r: r.lang),
    }
    if len({r.dataset for r in rows}) > 1:
        out["by_dataset"] = group_by(rows, lambda r: r.dataset)
        out["corpus_mean"] = corpus_mean(out["by_dataset"])
    return out


def corpus_mean(by_dataset: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each rate metric averaged over datasets (every corpus counts once, whatever its size)."""
    out: dict[str, Any] = {"n": sum(g["n"] for g in by_dataset.values()), "datasets": len(by_dataset)}
    for m in RATE_METRICS:
        values = [g[m] for g in by_dataset.values() if g.get(m) is not None]
        out[m] = sum(values) / len(values) if values else None
    return out


def abstention_curve(rows: Sequence[Row], thresholds: Sequence[float]) -> list[dict[str, Any]]:
    """What ``answer.min_score`` trades off, from the recorded confidences: at each
    threshold, the share of unanswerable questions abstained on and of answerable ones
    wrongly abstained on (a row abstains when its confidence is below the threshold)."""
    ans = [r.confidence for r in rows if r.answerable and r.confidence is not None]
    una = [r.confidence for r in rows if not r.answerable and r.confidence is not None]
    return [{"min_score": round(t, 3),
             "abstention_accuracy": _mean(1.0 if c < t else 0.0 for c in una),
             "false_abstention_rate": _mean(1.0 if c < t else 0.0 for c in ans)} for t in thresholds]
