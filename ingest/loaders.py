"""Read corpus files into structured text: txt/md (any common Chinese encoding), pdf, docx, html.

The per-format work lives in :mod:`ingest.extract`; this module decodes bytes, dispatches
on the file type, refuses unusable files, and caches extractions by fingerprint.

A file that cannot be read, is empty, or looks binary raises :class:`SkipFile` with a reason;
the pipeline warns and carries on, so one bad file never aborts a run.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .extract import LOADER_VERSION, Block, ExtractStats, mark_at, assemble


class SkipFile(Exception):
    """This file is left out of the index; the message says why.

    ``transient`` marks failures that may pass (unreadable right now, a half-written pdf or
    docx): chunks indexed earlier from the file are then kept. Otherwise (empty, too large,
    binary) the file no longer holds usable text and its old chunks are removed.
    """

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass
class Document:
    """A loaded source file: its extracted text, with where sections and pages start."""

    source: str  # path relative to the corpus dir, forward slashes
    text: str
    sha256: str  # of the raw bytes, to notice changes
    #: (char offset, heading path) at every change of section, sorted.
    sections: list[tuple[int, str]] = field(default_factory=list)
    #: (char offset, page number) at every change of page (PDF), sorted.
    pages: list[tuple[int, int]] = field(default_factory=list)
    stats: ExtractStats = field(default_factory=ExtractStats)

    @property
    def fingerprint(self) -> str:
        """Content hash plus loader version: a new extractor re-extracts unchanged files."""
        return f"{self.sha256[:32]}-v{LOADER_VERSION}"

    def section_at(self, offset: int) -> str | None:
        """The heading path over the character at ``offset`` (None before any heading)."""
        return mark_at(self.sections, offset)

    def page_at(self, offset: int) -> int | None:
        """The page of the character at ``offset`` (None for formats without pages)."""
        return mark_at(self.pages, offset)


# Encodings tried after UTF-8, in order. GB18030 is a superset of GBK/GB2312.
_FALLBACK_ENCODINGS = ("gb18030", "big5", "utf-16")


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode text bytes, detecting UTF-8 (with or without BOM), GB18030/GBK, Big5, UTF-16.

    Returns (text, encoding). Raises SkipFile for binary data.
    """
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SkipFile("looks binary (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[float, str, str] | None = None
    for enc in _FALLBACK_ENCODINGS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if best is None or score > best[0]:
            best = (score, text, enc)
    if best is None or best[0] < 0.5:
        try:
            from charset_normalizer import from_bytes

            guess = from_bytes(data).best()
        except Exception:  # pragma: no cover - defensive: detection must never crash ingest
            guess = None
        if guess is None:
            raise SkipFile("not text in a known encoding")
        text = str(guess)
        if _plausibility(text) < 0.5:
            raise SkipFile(f"looks binary (best guess {guess.encoding} gives mostly junk)")
        return text, guess.encoding
    return best[1], best[2]


# The 3,500 most common Chinese characters fall in these blocks; rare-character soup is the
# tell-tale of a wrong CJK decoding (e.g. GBK bytes read as Big5).
_COMMON = re.compile(r"[\u4e00-\u9fa5a-zA-Z0-9\s，。、；：？！“”‘’（）《》—…,.;:?!()\-\"'%]")


def _plausibility(text: str) -> float:
    """Share of characters that are common CJK/Latin/punctuation (0..1)."""
    if not text:
        return 0.0
    sample = text[:20000]
    good = len(_COMMON.findall(sample))
    # Penalise characters from the Private Use Area and control chars, typical of junk.
    bad = sum(1 for ch in sample if unicodedata.category(ch) in {"Co", "Cc"} and ch not in "\n\r\t")
    freq = _frequent_share(sample)
    return max(0.0, good / len(sample) - bad / len(sample)) * 0.5 + freq * 0.5


# Very frequent characters in modern Chinese (simplified and traditional); a right decoding
# of Chinese text is full of them, a wrong one almost never is.
_FREQUENT = set("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从無這為來個們說國時後對會過發與學種還")


def _frequent_share(sample: str) -> float:
    cjk = [ch for ch in sample if "\u4e00" <= ch <= "\u9fff"]
    if not cjk:
        return 1.0  # not Chinese: judge by the other signal alone
    return min(1.0, 4 * sum(1 for ch in cjk if ch in _FREQUENT) / len(cjk))


def _check_text(text: str) -> str:
    """Normalise line ends; refuse empty or control-character soup."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SkipFile("empty (no text)")
    sample = text[:20000]
    ctrl = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    if ctrl / len(sample) > 0.05:
        raise SkipFile("looks binary (too many control characters)")
    return text


def extract_blocks(path: Path, data: bytes, stats: ExtractStats) -> list[Block]:
    """Blocks of one file, by its type (the extension decides)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from .extract.pdf import pdf_blocks

        return pdf_blocks(path, stats)
    if suffix == ".docx":
        from .extract.docx import docx_blocks

        return docx_blocks(path, stats)
    text, _ = decode_bytes(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if suffix in {".html", ".htm", ".xhtml"}:
        from .extract.html import html_blocks

        return html_blocks(text, stats)
    if suffix in {".md", ".markdown"}:
        from .extract.html import markdown_blocks

        return markdown_blocks(text, stats)
    from .extract.plain import plain_blocks

    return plain_blocks(text, stats)


def _cached(cache_dir: Path | None, key: str) -> dict | None:
    if cache_dir is None:
        return None
    try:
        return json.loads((cache_dir / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _store_cache(cache_dir: Path | None, key: str, doc: "Document") -> None:
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f"{key}.json.tmp"
        tmp.write_text(json.dumps({"text": doc.text, "sections": doc.sections, "pages": doc.pages,
                                   "stats": doc.stats.to_dict()}, ensure_ascii=False), encoding="utf-8")
        tmp.replace(cache_dir / f"{key}.json")
    except OSError:
        pass  # a cache that cannot be written only costs time


def load_document(path: Path, corpus_dir: Path, max_bytes: int, cache_dir: Path | None = None) -> Document:
    """Load one file; raise SkipFile with a reason when it cannot be used.

    With ``cache_dir``, an extraction is reused while the file's bytes and the loader
    version are unchanged (``Document.stats.cached`` is then True).
    """
    source = path.relative_to(corpus_dir).as_posix()
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SkipFile("the file name is not valid UTF-8: rename the file") from exc
    try:
        size = path.stat().st_size
        if size == 0:
            raise SkipFile("empty file")
        if size > max_bytes:
            raise SkipFile(f"larger than corpus.max_file_mb ({size / 1e6:.1f} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror or exc}", transient=True) from exc
    digest = hashlib.sha256(data).hexdigest()
    doc = Document(source, "", digest)
    hit = _cached(cache_dir, doc.fingerprint)
    if hit is not None:
        doc.text = hit["text"]
        doc.sections = [(int(o), str(p)) for o, p in hit["sections"]]
        doc.pages = [(int(o), int(p)) for o, p in hit["pages"]]
        doc.stats = ExtractStats(**hit["stats"])
        doc.stats.cached = True
        return doc
    stats = ExtractStats()
    try:
        blocks = extract_blocks(path, data, stats)
    except SkipFile:
        raise
    except Exception as exc:  # parsers raise many types on corrupt files
        suffix = path.suffix.lower()
        raise SkipFile(f"cannot parse as {suffix or 'text'}: {exc}", transient=True) from exc
    extracted = assemble(blocks, stats)
    if not extracted.text.strip() and path.suffix.lower() == ".pdf":
        raise SkipFile("no text layer (a scanned PDF needs OCR first, e.g. `ocrmypdf in.pdf out.pdf`)")
    doc.text = _check_text(extracted.text)
    doc.sections, doc.pages, doc.stats = extracted.sections, extracted.pages, extracted.stats
    _store_cache(cache_dir, doc.fingerprint, doc)
    return doc
