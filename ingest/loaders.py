"""Read corpus files into text: txt/md (any common Chinese encoding), pdf, docx, html.

A file that cannot be read, is empty, or looks binary raises :class:`SkipFile` with a reason;
the pipeline warns and carries on, so one bad file never aborts a run.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path


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
    """A loaded source file."""

    source: str  # path relative to the corpus dir, forward slashes
    text: str
    sha256: str  # of the raw bytes, to notice changes


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


def _load_pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return "\n".join((page.extract_text() or "") for page in reader.pages)


def _load_docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    lines = [p.text for p in document.paragraphs]
    # Table cells are not paragraphs of the body; keep their text, one row per line.
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                lines.append(" | ".join(dict.fromkeys(cells)))
    return "\n".join(lines)


def _load_html(data: bytes) -> str:
    from bs4 import BeautifulSoup

    text, _ = decode_bytes(data)
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def load_document(path: Path, corpus_dir: Path, max_bytes: int) -> Document:
    """Load one file; raise SkipFile with a reason when it cannot be used."""
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
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            text = _load_pdf(path)
        elif suffix == ".docx":
            text = _load_docx(path)
        elif suffix in {".html", ".htm"}:
            text = _load_html(data)
        else:
            text, _ = decode_bytes(data)
    except SkipFile:
        raise
    except Exception as exc:  # parsers raise many types on corrupt files
        raise SkipFile(f"cannot parse as {suffix or 'text'}: {exc}", transient=True) from exc
    return Document(source, _check_text(text), digest)
