"""Measure text extractors on the eval corpora: do the gold evidence strings survive as parts
of single sentences? (An evidence string split across two "sentences" is what made answers
quote fragments.)

    .venv/bin/pip install html-text trafilatura   # the candidates we do not ship
    .venv/bin/python scripts/compare_extractors.py

For each candidate: share of evidence strings (of gold questions whose evidence lies in a
file of that format) contained in one sentence of the extracted text, sentences per 1,000
characters, and extraction time. Sentences are split exactly as ingestion splits them.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from app.text import normalize, split_sentences

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "eval" / "datasets"


def ours(path: Path) -> str:
    from ingest.loaders import load_document

    return load_document(path, path.parent, 10**9).text


def html_text(path: Path) -> str:
    import html_text as ht

    return ht.extract_text(path.read_text(encoding="utf-8"), guess_layout=True)


def trafilatura_text(path: Path) -> str:
    import trafilatura

    return trafilatura.extract(path.read_text(encoding="utf-8"), include_tables=True, include_comments=False) or ""


def bs4_lines(path: Path) -> str:
    """The loader this project had before: BeautifulSoup.get_text("\\n")."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    return "\n".join(line.strip() for line in soup.get_text("\n").splitlines() if line.strip())


def pypdfium2_text(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def pdfplumber_plain(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


CANDIDATES = {
    "html": {"inscriptis + structure (shipped)": ours, "html-text": html_text, "trafilatura": trafilatura_text,
             "bs4 get_text (before)": bs4_lines},
    "pdf": {"pdfplumber + re-flow (shipped)": ours, "pypdfium2 text": pypdfium2_text,
            "pdfplumber extract_text": pdfplumber_plain},
}


def evidence_by_format(fmt: str) -> tuple[list[Path], list[str]]:
    """Files of one format in the eval corpora and the gold evidence that lies in them."""
    files, evidence = [], []
    suffixes = {"html": (".html", ".htm"), "pdf": (".pdf",)}[fmt]
    for gold in sorted(DATASETS.glob("*/gold.jsonl")):
        paths = [p for p in sorted((gold.parent / "corpus").iterdir()) if p.suffix in suffixes]
        if not paths:
            continue
        texts = {p: normalize(ours(p)) for p in paths}
        files += paths
        for line in gold.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for ev in row.get("evidence") or []:
                if any(normalize(ev) in t for t in texts.values()):
                    evidence.append(ev)
    return files, evidence


def main() -> None:
    for fmt, candidates in CANDIDATES.items():
        files, evidence = evidence_by_format(fmt)
        chars = None
        print(f"\n{fmt}: {len(files)} files, {len(evidence)} gold evidence strings")
        print(f"{'extractor':<34} {'evidence in one sentence':>24} {'sentences/1k chars':>19} {'ms/file (median)':>17}")
        for name, fn in candidates.items():
            try:
                times, sentences = [], []
                for p in files:
                    t0 = time.perf_counter()
                    text = fn(p)
                    times.append((time.perf_counter() - t0) * 1000)
                    sentences += [normalize(s.text) for s in split_sentences(text)]
            except ImportError as exc:
                print(f"{name:<34} not installed ({exc.name})")
                continue
            whole = sum(1 for ev in evidence if any(normalize(ev) in s for s in sentences))
            chars = sum(len(s) for s in sentences) or 1
            print(f"{name:<34} {whole / len(evidence):>17.3f} ({whole}/{len(evidence)}) "
                  f"{1000 * len(sentences) / chars:>19.1f} {statistics.median(times):>17.0f}")


if __name__ == "__main__":
    main()
