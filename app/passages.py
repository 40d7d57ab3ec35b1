"""Plain dataclasses that cross module boundaries: chunks, passages, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Chunk:
    """A piece of a source document as ingested: text plus where it came from."""

    id: str
    text: str
    source: str  # path relative to the corpus dir, with forward slashes
    char_start: int
    char_end: int
    line_start: int  # 1-based, inclusive
    line_end: int  # 1-based, inclusive
    #: Heading path the chunk sits under (``第 4 章 … › 4.5.4 …``), None when the file has none.
    section: str | None = None
    #: 1-based page the chunk starts on (PDF), None for formats without pages.
    page: int | None = None

    def metadata(self) -> dict[str, Any]:
        """The Chroma metadata for this chunk (everything but id and text; Chroma stores no None)."""
        meta: dict[str, Any] = {
            "source": self.source,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "line_start": self.line_start,
            "line_end": self.line_end,
        }
        if self.section:
            meta["section"] = self.section
        if self.page is not None:
            meta["page"] = self.page
        return meta

    @property
    def context_text(self) -> str:
        """The text embedded and BM25-indexed: the section path as a contextual header, then
        the chunk. Answers quote ``text`` only."""
        return f"{self.section}\n{self.text}" if self.section else self.text


@dataclass
class Passage:
    """A retrieved chunk, with the scores that ranked it."""

    id: str
    text: str
    source: str
    char_start: int
    char_end: int
    line_start: int
    line_end: int
    score: float = 0.0  # the fused score that ordered the final list
    dense_score: float | None = None  # cosine similarity, when the dense leg found it
    lexical_score: float | None = None  # BM25 score, when the lexical leg found it
    rank: int = 0  # 1-based position in Answer.passages
    #: Best rank a search gave it (each part of a two-part question is also searched for on
    #: its own, and its passages are listed after the whole question's); 0: ``rank``.
    best_rank: int = 0
    #: Heading path in the document (``第 4 章 … › 4.5.4 …``); None when unknown.
    section: str | None = None
    #: 1-based PDF page the passage starts on; None for formats without pages.
    page: int | None = None

    @classmethod
    def from_chunk(cls, chunk: Chunk, **scores: Any) -> "Passage":
        """A passage for a stored chunk (scores and rank as keyword arguments)."""
        return cls(chunk.id, chunk.text, chunk.source, chunk.char_start, chunk.char_end, chunk.line_start,
                   chunk.line_end, section=chunk.section, page=chunk.page, **scores)

    @property
    def location(self) -> str:
        """Human-readable place, e.g. ``article.txt:12-15`` or ``guide.pdf:40-42 (p. 7)``."""
        lines = str(self.line_start) if self.line_start == self.line_end else f"{self.line_start}-{self.line_end}"
        page = f" (p. {self.page})" if self.page is not None else ""
        return f"{self.source}:{lines}{page}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass
class Citation(Passage):
    """A passage an answer cites; ``number`` is the marker ``[n]`` in the answer text."""

    number: int = 0
    #: The answer sentences taken from this passage, as (start, end) offsets in ``text``.
    highlights: list[tuple[int, int]] = field(default_factory=list)
    #: The answer phrase inside a highlighted sentence (the year, number, name or items the
    #: question asks for), as (start, end) offsets in ``text``.
    key_spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Answer:
    """What :meth:`app.Assistant.ask` returns."""

    question: str
    text: str
    found: bool
    citations: list[Citation]
    passages: list[Passage]
    language: str = "zh"
    #: The question actually searched (after follow-up resolution), when it differs.
    resolved_question: str | None = None
    confidence: float = 0.0
    elapsed_ms: float = 0.0
    #: How the text was composed: "extractive" (verbatim sentences) or "llm".
    mode: str = "extractive"
    #: Something the reader should know about this answer (e.g. the LLM was unreachable).
    notice: str | None = None
    #: Corpus terms an English question was expanded with for the lexical search (昇腾 for
    #: Ascend); empty for Chinese questions.
    expansion: list[str] = field(default_factory=list)
    #: The answer phrase of each quoted answer (see ``Citation.key_spans``), verbatim.
    key_phrases: list[str] = field(default_factory=list)
    #: LLM mode: the answer's sentences, each with its markers and whether the passages it
    #: cites support it (:class:`app.verify.AnswerSentence`); empty for extractive answers,
    #: which quote the passages verbatim.
    sentences: list = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass
class StreamStep:
    """One step of :meth:`app.Assistant.ask_stream`.

    ``text`` is the answer so far (markers already renumbered, so they keep their meaning
    at the end), ``delta`` what this step added, ``answer`` the answer as known now (its
    citations match the markers in ``text``). The last step has ``done=True`` and the
    final, verified :class:`Answer`; its text may differ from the streamed one when the
    model's reply could not be used and the extractive answer replaced it (see ``notice``).
    """

    text: str
    answer: Answer
    delta: str = ""
    done: bool = False
