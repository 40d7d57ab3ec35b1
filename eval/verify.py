"""Calibrate and score the citation verifier on hand-written claim pairs.

``eval/claims/<corpus>.jsonl`` holds, per corpus, claims an LLM might write with the passage
they cite: 20 supported (paraphrase, near-verbatim, summary, English) and 20 unsupported
(a changed number, a swapped name, a fact from elsewhere, an added detail). The cited
passage is the indexed chunk that contains the pair's ``evidence`` text, as in a real answer.

``python -m eval.verify`` embeds every claim once, then searches the few
:class:`app.verify.VerifierWeights` over a small grid. It reports precision and recall
in-sample (fitted on all corpora) and leave-one-corpus-out (fitted on two, scored on the
third), so the numbers say what a new corpus can expect.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from app import Assistant
from app.text import detect_language
from app.verify import Features, Verifier, VerifierWeights, index_verifier

from .corpora import corpus_config

log = logging.getLogger("eval")

CLAIMS_DIR = Path(__file__).parent / "claims"
DATASETS = Path(__file__).parent / "datasets"

GRID = {
    "lexical": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3],
    "lexical_en": [0.0, 0.05, 0.1],
    "missing_fact": [0.0, 0.02, 0.04, 0.08, 0.15],
    "novel": [0.0, 0.05, 0.1, 0.2],
}
THRESHOLDS = [round(x, 3) for x in np.arange(-0.1, 0.3, 0.005)]


@dataclass
class Pair:
    """A claim, its label, and its measured features."""

    id: str
    corpus: str
    kind: str
    claim: str
    supported: bool
    features: list[Features]
    english: bool


def _squash(text: str) -> str:
    return "".join(text.split())


def corpus_assistant(base: Assistant, corpus: str) -> Assistant:
    """The article's assistant, or one over ``eval/datasets/<corpus>/corpus`` (ingested
    incrementally into the eval data dir, as ``python -m eval`` does)."""
    if corpus == "article":
        return base
    from ingest import ingest

    folder = DATASETS / corpus / "corpus"
    cfg = corpus_config(base.config, corpus, folder)
    ingest(cfg, progress=False, embedder=base.embedder)
    return Assistant(cfg, embedder=base.embedder)


def cited_chunk(assistant: Assistant, source: str, evidence: str):
    """The indexed chunk holding the evidence (whitespace ignored), or None."""
    want = _squash(evidence)
    chunks = assistant.lexical.chunks
    for c in chunks:
        if (c.source == source or c.source.endswith("/" + source)) and want in _squash(c.text):
            return c
    head = want[:16]
    return next((c for c in chunks if head in _squash(c.text)), None)


def load_pairs(base: Assistant, role: str = "query") -> list[Pair]:
    """Every claim file's pairs, with features measured against its cited chunk."""
    out: list[Pair] = []
    for path in sorted(CLAIMS_DIR.glob("*.jsonl")):
        corpus = path.stem
        assistant = corpus_assistant(base, corpus)
        verifier = index_verifier(assistant.embedder, assistant.sentences, assistant.lexical)
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        found = [(r, cited_chunk(assistant, r["source"], r["evidence"])) for r in rows]
        missing = [r["id"] for r, c in found if c is None]
        if missing:
            log.warning("%s: evidence not found in the index for %s", corpus, ", ".join(missing))
        found = [(r, c) for r, c in found if c is not None]
        claims = [r["claim"] for r, _ in found]
        embed = assistant.embedder.embed_documents if role == "passage" else (
            lambda xs: np.vstack([assistant.embedder.embed_query(x) for x in xs]))
        vectors = np.atleast_2d(embed(claims))
        for (r, chunk), vec in zip(found, vectors):
            f = verifier.windows(r["claim"], vec, [chunk])
            out.append(Pair(r["id"], corpus, r["kind"], r["claim"], bool(r["supported"]), f,
                            detect_language(r["claim"]) == "en"))
    return out


def scores(pairs: list[Pair], weights: VerifierWeights) -> np.ndarray:
    v = Verifier(None, None, None, None, None, weights)
    return np.array([v.score(p.features, p.english) for p in pairs])


def rates(pairs: list[Pair], s: np.ndarray, threshold: float) -> dict:
    """Precision/recall of "supported", and the share of unsupported claims caught."""
    y = np.array([p.supported for p in pairs])
    pred = s >= threshold
    tp = int((pred & y).sum())
    precision = tp / pred.sum() if pred.sum() else 1.0
    recall = tp / y.sum() if y.sum() else 1.0
    caught = int((~pred & ~y).sum()) / max(1, int((~y).sum()))
    return {"precision": round(float(precision), 3), "recall": round(float(recall), 3),
            "unsupported_caught": round(float(caught), 3), "balanced": round(float((recall + caught) / 2), 4),
            "n": len(pairs)}


def fit(pairs: list[Pair]) -> VerifierWeights:
    """Weights and threshold with the best balanced accuracy (ties: the simpler, smaller weights)."""
    best, best_key = VerifierWeights(), None
    for lex, lex_en, miss, nov in itertools.product(GRID["lexical"], GRID["lexical_en"], GRID["missing_fact"],
                                                    GRID["novel"]):
        w = VerifierWeights(lexical=lex, lexical_en=lex_en, missing_fact=miss, novel=nov)
        s = scores(pairs, w)
        for t in THRESHOLDS:
            r = rates(pairs, s, t)
            # Prefer precision on ties: a hallucination shown as verified costs more than an
            # honest sentence marked unverified.
            key = (r["balanced"], r["precision"], -(lex + lex_en + miss + nov))
            if best_key is None or key > best_key:
                best_key, best = key, VerifierWeights(lexical=lex, lexical_en=lex_en, missing_fact=miss, novel=nov,
                                                      threshold=float(t))
    return best


def report(pairs: list[Pair], defaults: VerifierWeights) -> dict:
    """In-sample and leave-one-corpus-out numbers, per corpus and per claim kind."""
    corpora = sorted({p.corpus for p in pairs})
    out: dict = {"defaults": asdict(defaults), "corpora": {}}
    s = scores(pairs, defaults)
    out["defaults_all"] = rates(pairs, s, defaults.threshold)
    fitted = fit(pairs)
    out["fitted_all"] = {"weights": asdict(fitted), **rates(pairs, scores(pairs, fitted), fitted.threshold)}
    held: list[tuple[Pair, float, float]] = []
    for c in corpora:
        train = [p for p in pairs if p.corpus != c]
        test = [p for p in pairs if p.corpus == c]
        w = fit(train)
        st = scores(test, w)
        held.extend((p, x, w.threshold) for p, x in zip(test, st))
        out["corpora"][c] = {"held_out": rates(test, st, w.threshold), "fitted_on_others": asdict(w),
                             "defaults": rates(test, scores(test, defaults), defaults.threshold)}
    y = [p for p, _, _ in held]
    pred = np.array([x >= t for _, x, t in held])
    out["held_out_all"] = rates(y, pred.astype(float), 0.5)
    kinds = sorted({p.kind for p in pairs})
    sd = scores(pairs, defaults)
    out["by_kind"] = {k: round(float(np.mean([(x >= defaults.threshold) == p.supported
                                              for p, x in zip(pairs, sd) if p.kind == k])), 3) for k in kinds}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.verify", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None)
    parser.add_argument("--role", choices=["passage", "query"], default="query",
                        help="embedding role for claims (the verifier uses query)")
    parser.add_argument("--json", default=None, help="also write the report here")
    parser.add_argument("--errors", action="store_true", help="list the misjudged pairs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    base = Assistant.from_config(args.config)
    pairs = load_pairs(base, args.role)
    defaults = VerifierWeights()
    rep = report(pairs, defaults)
    print(f"{len(pairs)} pairs; claim role: {args.role}")
    print(f"defaults {rep['defaults']}: {rep['defaults_all']}")
    print(f"fitted on all (in-sample): {rep['fitted_all']}")
    for c, r in rep["corpora"].items():
        print(f"  {c:12s} held out: {r['held_out']}  (fitted on others: {r['fitted_on_others']})")
        print(f"  {'':12s} defaults: {r['defaults']}")
    print(f"held out, pooled: {rep['held_out_all']}")
    print(f"defaults, correct by kind: {rep['by_kind']}")
    if args.errors:
        sd = scores(pairs, defaults)
        for p, x in zip(pairs, sd):
            if (x >= defaults.threshold) != p.supported:
                f = max(p.features, key=lambda f: Verifier(None, None, None, None, None, defaults).score(
                    [f], p.english))
                print(f"  {p.id} {p.kind:16s} gold={p.supported!s:5s} score={x:+.3f} cos-bg={f.cosine - f.background:+.3f}"
                      f" cov={f.coverage:.2f} miss={f.missing_facts} | {p.claim}")
    if args.json:
        Path(args.json).write_text(json.dumps(rep, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
