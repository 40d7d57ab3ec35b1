"""Load and validate gold question files (JSONL, one question a line; DESIGN.md §3).

A bad line never aborts a load: it is skipped with a warning naming the file and line, so
a held-out set with one typo still gets scored. Only a missing/unreadable file, or a file
with no usable question at all, raises :class:`DatasetError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.text import detect_language, normalize

#: Keys every line must have.
REQUIRED_KEYS = ("id", "question", "answers", "answerable")


class DatasetError(Exception):
    """The dataset cannot be used at all (missing file, not UTF-8, no valid question)."""


@dataclass
class Question:
    """One validated gold question."""

    id: str
    question: str
    #: Groups of alternatives: correct when every group has an alternative in the answer.
    answers: list[list[str]]
    #: Verbatim corpus substrings that support the answer (may be empty).
    evidence: list[str]
    answerable: bool
    lang: str
    type: str = "unknown"
    #: Stem of the file it came from (rows of several files are told apart by it).
    dataset: str = ""
    line: int = 0
    #: Earlier user questions of the same conversation, oldest first (empty: standalone).
    #: The runner asks them in order and passes each (question, answer) pair as history.
    history: list[str] = field(default_factory=list)


@dataclass
class LoadedDataset:
    """The questions of one file plus the warnings raised while reading it."""

    path: Path
    questions: list[Question] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines_skipped: int = 0

    @property
    def name(self) -> str:
        """The file's stem (``article_gold``); for a file beside a ``corpus/`` folder, the
        folder's name (``debian_faq`` for its ``gold.jsonl``, ``debian_faq_conversations``)."""
        if (self.path.parent / "corpus").is_dir():
            folder = self.path.parent.name
            return folder if self.path.stem == "gold" else f"{folder}_{self.path.stem}"
        return self.path.stem


class _LineError(ValueError):
    """A line that cannot be used; the message says why."""


def _strings(value: Any, what: str) -> list[str]:
    """A list of non-empty strings; a bare string counts as a one-item list."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _LineError(f"`{what}` must be a list of strings")
    return [v for v in value if v.strip()]


def _groups(value: Any) -> list[list[str]]:
    """Answer groups: a list of lists of strings (a bare string is a one-alternative group)."""
    if not isinstance(value, list):
        raise _LineError('`answers` must be a list of groups, e.g. [["A800"], ["H800"]] (or [] when unanswerable)')
    groups = []
    for i, group in enumerate(value, 1):
        if isinstance(group, str):
            group = [group]
        if not isinstance(group, list) or not all(isinstance(a, str) for a in group):
            raise _LineError(f"answer group {i} must be a list of strings")
        # An alternative of symbols only (%{, ~) is matched as written (eval.metrics); a blank
        # one would be "contained" in every answer.
        kept = [a for a in group if normalize(a) or a.strip()]
        if not kept:
            raise _LineError(f"answer group {i} has no alternative that is not blank")
        groups.append(kept)
    return groups


def parse_question(raw: Any, warn: list[str]) -> Question:
    """Validate one decoded line; raise ``_LineError`` when it cannot be used.

    Non-fatal oddities (e.g. answers on an unanswerable question) are appended to ``warn``.
    """
    if not isinstance(raw, dict):
        raise _LineError(f"expected a JSON object, got {type(raw).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise _LineError("missing key" + ("s" if len(missing) > 1 else "") + ": " + ", ".join(missing))
    qid = raw["id"]
    if isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
        raise _LineError("`id` must be a non-empty string")
    question = raw["question"]
    if not isinstance(question, str) or not question.strip():
        raise _LineError("`question` must be a non-empty string")
    answerable = raw["answerable"]
    if not isinstance(answerable, bool):
        raise _LineError("`answerable` must be true or false")
    answers = _groups(raw["answers"])
    if not answerable and answers:
        warn.append("unanswerable question has answers; they are ignored")
        answers = []
    if answerable and not answers:
        warn.append("answerable question has no answer groups; any non-abstaining answer counts as correct")
    evidence = raw.get("evidence")
    evidence = [] if evidence is None else _strings(evidence, "evidence")
    dropped = [e for e in evidence if not normalize(e)]
    if dropped:
        warn.append(f"{len(dropped)} evidence string(s) without letters or digits ignored")
        evidence = [e for e in evidence if normalize(e)]
    lang = raw.get("lang")
    if lang is None or (isinstance(lang, str) and not lang.strip()):
        lang = detect_language(question)
    elif not isinstance(lang, str):
        raise _LineError("`lang` must be a string such as \"zh\" or \"en\"")
    qtype = raw.get("type")
    if qtype is None or (isinstance(qtype, str) and not qtype.strip()):
        qtype = "unknown"
    elif not isinstance(qtype, str):
        raise _LineError("`type` must be a string")
    history = raw.get("history")
    history = [] if history is None else _strings(history, "history")
    return Question(id=str(qid).strip(), question=question.strip(), answers=answers, evidence=evidence,
                    answerable=answerable, lang=lang.strip().lower(), type=qtype.strip(), history=history)


def load_dataset(path: str | Path) -> LoadedDataset:
    """Read one JSONL file; bad lines are skipped with a ``file:line: why`` warning."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"dataset not found: {path} (pass --dataset PATH to a .jsonl file)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"dataset {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from exc
    out = LoadedDataset(path)
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            out.warnings.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); line skipped")
            out.lines_skipped += 1
            continue
        notes: list[str] = []
        try:
            q = parse_question(raw, notes)
        except _LineError as exc:
            qid = raw.get("id") if isinstance(raw, dict) else None
            label = f" (id {qid})" if isinstance(qid, (str, int)) and not isinstance(qid, bool) else ""
            out.warnings.append(f"{where}{label}: {exc}; line skipped")
            out.lines_skipped += 1
            continue
        if q.id in first_line:
            out.warnings.append(f"{where}: duplicate id {q.id!r} (first on line {first_line[q.id]}); line skipped")
            out.lines_skipped += 1
            continue
        first_line[q.id] = lineno
        out.warnings.extend(f"{where} (id {q.id}): {n}" for n in notes)
        q.dataset, q.line = out.name, lineno
        out.questions.append(q)
    if not out.questions:
        detail = f"; first problem: {out.warnings[0]}" if out.warnings else ""
        raise DatasetError(f"dataset {path} has no usable questions{detail}")
    return out


def load_datasets(paths: list[Path]) -> list[LoadedDataset]:
    """Load several files; two files with the same stem would make row keys ambiguous."""
    loaded = [load_dataset(p) for p in paths]
    names = [d.name for d in loaded]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DatasetError(f"two datasets share the name {dupes[0]!r}: rename one (rows are keyed by file name and id)")
    return loaded
