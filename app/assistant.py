"""The ``Assistant`` facade: the one entry point for the UI, the CLI, the evals and scripts."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

from .answer import ExtractiveAnswerer, SentenceIndex, Weights
from .config import AnswerMode, Config, StoreMode, load_config
from .crosslingual import CrossLingual
from .llm import LLMAnswerer, LLMFailure, cite
from .embeddings import Embedder, make_embedder
from .errors import AssistantError, EmptyQuestionError, InvalidRequestError
from .keyphrase import key_span
from .followup import (back_reference, followup_candidates, is_continuation, may_depend_on_history,
                       part_rewrites, previous_turns, quoted_runs, search_context, split_subquestions,
                       subquestion_parts)
from .passages import Answer, Passage, StreamStep
from .retrieval import Retriever
from .store import ChunkStore, IndexInfo
from .runtime import configure_data_dir
from . import snapshot
from .text import detect_language
from .verify import index_verifier

log = logging.getLogger("app")


def _repair_encoding(text: str) -> str:
    """Undo a wrong decoding of the question: GBK bytes from a terminal reach Python as lone
    surrogates (``surrogateescape``), which the embedding engine cannot encode."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
    for encoding in ("gb18030", "big5"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


#: Characters of a question that are embedded (all of it still feeds BM25 and the answer
#: step). A pasted 2,000-character question took 7.3 s to answer when embedded in full (in
#: 512-token windows, and once more per part); 2.4 s at 512 characters, 0.76 s at 256. Every
#: gold question is far shorter (at most 126 characters).
QUERY_EMBED_CHARS = 256

#: Server mode: seconds between checks of the stored index version (one small metadata read).
VERSION_CHECK_S = 2.0


@dataclass
class PreparedQuestion:
    """A question resolved, embedded and retrieved, ready for an answerer."""

    resolved: str
    language: str
    query_vector: Any
    passages: list[Passage]
    subquestions: list
    expansion: list[str]
    #: For a continuation (后来呢？): the sentences after the previous answer's quote, which
    #: are the answer (:meth:`ExtractiveAnswerer.following_quote`); else empty.
    follows: list[int] = field(default_factory=list)
    #: The extractive answerer whose sentence index ``follows`` numbers.
    follows_by: Any = None


class Assistant:
    """Answers questions over the indexed corpus with cited passages.

    >>> assistant = Assistant.from_config("config.yaml")
    >>> answer = assistant.ask("华为的异构计算架构叫什么？")
    >>> answer.text, answer.found, answer.citations
    """

    def __init__(self, config: Config, embedder: Embedder | None = None, store: ChunkStore | None = None,
                 weights: Weights | None = None):
        self.config = config
        self.embedder = embedder or make_embedder(config.embedding)
        self._store = store
        self._weights = weights
        self._lock = threading.Lock()
        self._unavailable: AssistantError | None = None
        #: The index version loaded (None for an index without one); see _follow_other_writers.
        self.version: str | None = None
        self._refresh_lock = threading.Lock()
        self._refreshing = False
        self._checked = time.monotonic()
        #: When the last question began (monotonic), and the thread of a running warm-up.
        self._last_question = 0.0
        self._warm_up_thread: int | None = None
        self._load()

    @classmethod
    def from_config(cls, path: str | Path | None = None, **kwargs: Any) -> "Assistant":
        """Load ``config.yaml`` (the project's own when no path is given) and open the index."""
        return cls(load_config(path), **kwargs)

    def _load(self) -> None:
        """Open the index and swap in the in-memory indexes built from it."""
        self._swap(self._build())

    def _build(self) -> tuple:
        """Open the index and build the in-memory lexical and sentence indexes from it.

        Everything is built in locals and swapped in at once by :meth:`_swap`, so a failed
        reload never leaves a mix of old and new state behind.
        """
        configure_data_dir(self.config.data_dir)
        store = self._store or ChunkStore(self.config.store)
        store.open_for_read(self.embedder.fingerprint)
        if store.ingest_state == "running":
            log.warning("the index is being written, or its last ingestion was interrupted: answers use what was "
                        "written so far; run `python -m ingest` to finish it")
        # From the snapshot of this index version when there is one (app/snapshot.py).
        dense, lexical, records, vectors, integrity = snapshot.load(store, self.config.data_dir)
        for problem in integrity.problems():
            log.warning("%s: %s", store.name, problem)
        sentences = SentenceIndex(records, vectors)
        crosslingual = CrossLingual(lexical)
        retriever = Retriever(self.config.retrieval, dense, self.embedder, lexical, sentences, crosslingual)
        extractive = ExtractiveAnswerer(self.config.answer, sentences, lexical, self._weights, crosslingual)
        verifier = index_verifier(self.embedder, sentences, lexical, self._lock)
        # Both modes are ready; the LLM client connects only when first used.
        answerers = {AnswerMode.EXTRACTIVE: extractive,
                     AnswerMode.LLM: LLMAnswerer(self.config.llm, extractive, verifier, self._lock)}
        return (store, lexical, sentences, retriever, answerers[self.config.answer.mode], answerers,
                sorted({c.source for c in dense.chunks}), crosslingual, verifier, integrity)

    def _swap(self, state: tuple) -> None:
        (self.store, self.lexical, self.sentences, self.retriever, self.answerer, self._answerers, self.sources,
         self.crosslingual, self.verifier, self.integrity) = state
        self._unavailable = None
        self.version = self.store.version if self.store.has_version else None

    def reload(self) -> None:
        """Re-open the index (after an ingestion changed it).

        If the index became unusable (e.g. every document was deleted), later questions raise
        that error instead of answering from the old, deleted text.
        """
        with self._lock:
            try:
                self._load()
            except AssistantError as exc:
                self._unavailable = exc
                raise

    def _follow_other_writers(self) -> None:
        """Server mode: another process (``python -m ingest``) may have re-ingested into the
        shared Chroma server. At most every :data:`VERSION_CHECK_S` seconds a question reads
        the stored version; a new, complete version is loaded in the background while this
        one keeps answering, then swapped in between questions."""
        if self.config.store.mode is not StoreMode.SERVER or self.version is None:
            return
        now = time.monotonic()
        with self._refresh_lock:
            if self._refreshing or now - self._checked < VERSION_CHECK_S:
                return
            self._checked = now
        try:
            meta = self.store.current_metadata()
        except AssistantError:
            return  # the question itself reports an unreachable server
        if not meta.get("version") or meta["version"] == self.version or meta.get("ingest_state") != "complete":
            return
        with self._refresh_lock:
            if self._refreshing:
                return
            self._refreshing = True
        log.info("the index changed (version %s -> %s): loading it in the background", self.version, meta["version"])
        threading.Thread(target=self._refresh, name="index-refresh", daemon=True).start()

    def _refresh(self) -> None:
        try:
            state = self._build()  # slow part, without the lock: questions go on meanwhile
            with self._lock:
                self._swap(state)
            log.info("now answering from index version %s", self.version)
        except Exception:  # keep answering from the version we have
            log.exception("loading the new index version failed; still answering from %s", self.version)
        finally:
            with self._refresh_lock:
                self._refreshing = False
                self._checked = time.monotonic()

    def info(self) -> IndexInfo:
        """Counts and provenance of the index (files, chunks, embedder, last ingest), and any
        disagreement between passages and sentence vectors found at start-up."""
        info = self.store.info()
        info.problems = self.integrity.problems()
        return info

    def _clean(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise EmptyQuestionError("the question is empty: type a question, e.g. 华为的异构计算架构叫什么？")
        question = _repair_encoding(question)
        question = " ".join(question.split())
        limit = self.config.answer.max_question_chars
        if len(question) > limit:
            log.warning("question of %d chars truncated to %d", len(question), limit)
            question = question[:limit]
        return question

    def _check(self, top_k: int | None, sources: str | Sequence[str] | None) -> list[str] | None:
        """Validate per-question options; returns ``sources`` as a list (or None)."""
        if self._unavailable is not None:
            raise self._unavailable
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 100):
            raise InvalidRequestError(f"top_k must be a whole number from 1 to 100, got {top_k!r}")
        if sources is None:
            return None
        sources = [sources] if isinstance(sources, str) else list(sources)
        unknown = sorted(set(sources) - set(self.sources))
        if unknown:
            raise InvalidRequestError(f"not in the index: {', '.join(unknown)}; indexed files: {', '.join(self.sources)}")
        return sources or None

    def retrieve(self, question: str, top_k: int | None = None, sources: str | Sequence[str] | None = None,
                 mode: str = "hybrid") -> list[Passage]:
        """Only the retrieval step: passages for a question, best first: ``top_k`` of them,
        and for a Chinese question over a corpus left partly in English, one more after them
        when the English text has a passage the question did not find
        (:meth:`app.retrieval.Retriever._english_passages`)."""
        sources = self._check(top_k, sources)
        return self.retriever.retrieve(self._clean(question), top_k=top_k, sources=sources, mode=mode)

    def _answerer(self, mode: str | None):
        try:
            return self._answerers[AnswerMode(mode)] if mode else self.answerer
        except ValueError:
            raise InvalidRequestError(f"unknown answer mode {mode!r}: use extractive or llm") from None

    @staticmethod
    def _stamp(answer: Answer, question: str, q: PreparedQuestion, t0: float) -> Answer:
        answer.question = question
        answer.resolved_question = q.resolved if q.resolved != question else None
        answer.expansion = q.expansion
        answer.elapsed_ms = round((time.perf_counter() - t0) * 1000, 2)
        return answer

    def ask(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
            sources: Sequence[str] | None = None, mode: str | None = None) -> Answer:
        """Answer a question with cited passages, or abstain (``found=False``).

        ``history`` holds earlier turns (strings, (question, answer) pairs or chat messages);
        a follow-up such as 那H20呢？ is resolved against it before retrieval. ``sources``
        restricts the search to some files; ``top_k`` overrides the passage count; ``mode``
        ("extractive" or "llm") overrides ``answer.mode``. In LLM mode the model's request
        runs outside the engine lock, so callers waiting on the model do not queue.
        """
        t0 = time.perf_counter()
        question, answerer, llm, q = self._begin(question, history, top_k, sources, mode)
        if llm is not None and not q.follows:
            answer = llm.answer(q.resolved, q.query_vector, q.passages, q.language, subquestions=q.subquestions,
                                expansion=q.expansion)
        else:
            answer = self._extractive(answerer, q)
        return self._stamp(answer, question, q, t0)

    #: Questions :meth:`warm_up` asks: one per language, so both paths load what they use.
    WARM_UP_QUESTIONS = ("这份文档主要讲了什么？", "What is this document about?")

    def warm_up(self, stop: threading.Event | None = None, idle_s: float = 0.0) -> float:
        """Load what the first questions would otherwise load on the way: the tokenizer's
        dictionary, the embedding engine's first run, the English dictionary and the
        corpus's glossary (about 1.1 s before the first Chinese answer and 1.7 s before the
        first English one, on the article). ``serve`` runs this in the background as it
        starts. Returns the seconds taken; failures (an empty index, a stopped Chroma
        server) are logged and left for the first real question to report. ``stop`` ends it
        between steps (a server shutting down waits for the current step, not all). With
        ``idle_s``, each step waits until no question has come for that long: a client that
        asks at once gets the machine to itself, and a person who types first finds it warm.
        (Measured with the bench's client that asks as soon as the page is up: starting the
        warm-up at once cost it 0.5 s to the page and 1.3 s to the first answer.)"""
        from .crosslingual import cedict, headwords

        t0 = time.perf_counter()
        self._warm_up_thread = threading.get_ident()
        if idle_s:  # the quiet time counts from now (a server that has just started listening)
            self._last_question = max(self._last_question, time.monotonic())
        try:
            # Chinese first (the common first question), then English: the dictionary on its
            # own step (the long one), then a question, which builds the corpus glossary.
            # Answered extractively: never a request to the LLM server.
            zh, en = self.WARM_UP_QUESTIONS
            steps = [lambda: self.ask(zh, mode="extractive"), headwords, cedict,
                     lambda: self.ask(en, mode="extractive")]
            for step in steps:
                while idle_s and not (stop is not None and stop.is_set()):
                    quiet = time.monotonic() - self._last_question
                    if quiet >= idle_s:
                        break
                    (stop.wait if stop is not None else time.sleep)(idle_s - quiet)
                if stop is not None and stop.is_set():
                    break
                step()
        except Exception as exc:  # the first question reports it properly
            log.info("warm-up stopped early: %s", exc)
        finally:
            self._warm_up_thread = None
        return time.perf_counter() - t0

    def _begin(self, question: str, history, top_k, sources, mode):
        """Checks, cleaning and :meth:`prepare`, shared by :meth:`ask` and :meth:`ask_stream`:
        (cleaned question, answerer, the LLM answerer or None, prepared question)."""
        if threading.get_ident() != self._warm_up_thread:  # the warm-up's own questions do not count
            self._last_question = time.monotonic()
        self._follow_other_writers()
        sources = self._check(top_k, sources)
        answerer = self._answerer(mode)
        question = self._clean(question)
        llm = answerer if isinstance(answerer, LLMAnswerer) else None
        return question, answerer, llm, self.prepare(question, history, top_k, sources, llm=llm)

    def _extractive(self, answerer, q: PreparedQuestion) -> Answer:
        """The extractive answer step, under the engine lock (it reads the in-memory index).
        A continuation is always answered so, in LLM mode too: it quotes what follows."""
        if q.follows:
            answerer = q.follows_by
        with self._lock:
            return answerer.answer(q.resolved, q.query_vector, q.passages, q.language, subquestions=q.subquestions,
                                   expansion=q.expansion, follows=q.follows)

    def prepare(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
                sources: Sequence[str] | None = None, llm: LLMAnswerer | None = None) -> PreparedQuestion:
        """Everything before the answer step: follow-up resolution, language, expansion,
        query embedding and retrieval (the eval's weight fitting replays the answer step on
        it). ``question`` is already cleaned. Only the index reads run under the lock; the
        embedding engine has its own (and batches concurrent questions), and the text rules
        (and loading the dictionary for a first English question) do not hold other callers up.

        With ``llm`` (LLM mode, ``llm.condense_followups``), a question that may depend on
        the conversation is rewritten by the model; the offline rules are the fallback.
        """
        # 后来呢？ asks for what the document says after the previous answer's quote. The
        # answerer that finds it answers it too (its sentence numbers are its index's: an
        # index reloaded in between must not be read with them). Read-only: no lock needed.
        follows, follows_by = [], None
        if is_continuation(question):
            turns = previous_turns(history)
            follows_by = self._answerers[AnswerMode.EXTRACTIVE]
            follows = follows_by.following_quote(quoted_runs(turns[-1][1]) if turns else [])
            if follows and sources and follows_by.sentences.records[follows[0]].source not in set(sources):
                follows = []  # the previous quote's file is outside this search
        resolved = None
        if llm is not None and llm.config.condense_followups and not follows \
                and may_depend_on_history(question, history):
            try:
                resolved = llm.condense(question, history)
            except LLMFailure as exc:
                log.warning("follow-up not condensed by the LLM (%s); using the offline rules", exc)
        candidates = [resolved] if resolved is not None else followup_candidates(question, history)
        language = detect_language(question)
        # A question of a conversation left as asked (这样会丢东西吗？) is also searched together
        # with the previous question, and answered on its own words either way.
        context = search_context(question, history) if candidates == [question] and not follows else None
        searches: list[tuple[str, str | None]] = [(c, None) for c in candidates]
        if context:
            searches.append((question, context))
        best: PreparedQuestion | None = None
        best_score = -math.inf
        limit = self.config.answer.max_question_chars
        for rewrite, search in searches:
            # The rewrite may pull in a long earlier turn: the length limit applies to it too.
            # The wider search answers the question just searched: its vector is reused.
            asked = best if search and best is not None and best.resolved == rewrite[:limit] else None
            prepared = self._retrieve_for(rewrite[:limit], language, top_k, sources,
                                          search=search[:limit] if search else None, asked=asked)
            if len(searches) == 1:
                best = prepared
                break
            # A pronoun with several possible referents: keep the rewrite the corpus answers
            # best (the extractive confidence is comparable across questions).
            with self._lock:
                scored = self._answerers[AnswerMode.EXTRACTIVE].score_sentences(
                    prepared.resolved, prepared.query_vector, prepared.passages, language, prepared.expansion)
            score = scored[0].score if scored else -math.inf
            if best is None or score > best_score:
                best, best_score = prepared, score
        if follows:
            best.follows, best.follows_by = follows, follows_by
        return best

    def _retrieve_for(self, resolved: str, language: str, top_k: int | None, sources: Sequence[str] | None,
                      search: str | None = None, asked: PreparedQuestion | None = None) -> PreparedQuestion:
        """Expansion, embedding and retrieval for one standalone question; with ``search``,
        the passages are those found for that text (the question with its conversation),
        weighed by their similarity to the question itself (``asked``: the question already
        prepared, whose vector and expansion are reused)."""
        if search is not None:
            found = self._retrieve_for(search, language, top_k, sources)
            qvec = asked.query_vector if asked is not None else self._embed_query(resolved)
            expansion = asked.expansion if asked is not None else self._expansion(resolved, language)
            with self._lock:
                passages = self.retriever.rescore(found.passages, qvec)
            return PreparedQuestion(resolved, language, qvec, passages, [], expansion)
        expansion = self._expansion(resolved, language)
        parts = split_subquestions(resolved)
        # The embedder is thread-safe and batches questions that arrive together
        # (app.embeddings.QueryBatcher), so it runs outside the index lock.
        qvec = self._embed_query(resolved)
        subquestions = [(p, self._embed_query(p)) for p in parts] \
            if len(parts) > 1 else []
        with self._lock:
            passages = self.retriever.retrieve(resolved, query_vector=qvec, top_k=top_k, sources=sources,
                                               expansion=expansion)
            if subquestions:
                # Each part is also searched for on its own: the whole question's words lean
                # to one part (…哪个 Debian 版本？…从哪里额外安装 dpkg: backports is found only
                # by the second part). Its passages follow the whole question's, ranked after them.
                by_id = {p.id: p for p in passages}
                for part, vec in subquestions:
                    for p in self.retriever.retrieve(part, query_vector=vec, top_k=top_k, sources=sources,
                                                     expansion=expansion):
                        if p.id not in by_id:
                            by_id[p.id] = replace(p, rank=len(passages) + 1, best_rank=p.rank)
                            passages.append(by_id[p.id])
                        else:
                            known = by_id[p.id]
                            known.best_rank = min(known.best_rank or known.rank, p.rank)
        if subquestions:
            subquestions = self._bind_parts(subquestion_parts(resolved), subquestions, passages, language,
                                            expansion)
        return PreparedQuestion(resolved, language, qvec, passages, subquestions, expansion)

    def _expansion(self, question: str, language: str) -> list[str]:
        """An English question over Chinese text: its words in the corpus's own terms. A
        Chinese one: the Latin names it uses that the corpus writes in Chinese (Baidu)."""
        if language == "en":
            return self.crosslingual.expand(question)
        return [t for terms in self.crosslingual.names(question).values() for t in terms]

    def _embed_query(self, text: str) -> Any:
        """The question's vector (:meth:`Retriever.embed_query`), of its first characters."""
        return self.retriever.embed_query(text[:QUERY_EMBED_CHARS])

    def _bind_parts(self, raw: list[str], parts: list[tuple[str, Any]], passages: list[Passage], language: str,
                    expansion: Sequence[str]) -> list[tuple[str, Any]]:
        """Resolve a later part's pronoun against what the earlier part's answer names, not
        only its words: in "which tool can replace dh-make, and which package provides its
        documentation?" *its* is the tool the first part finds (debmake), not dh-make. Each
        rewrite (:func:`app.followup.part_rewrites` with the earlier part's best sentence,
        or its answer phrase, as its answer) is scored on the retrieved passages and the
        best kept, as for a follow-up turn; when the earlier part would not be answered, only
        its own words are tried. Parts without a pronoun cost nothing."""
        answerer = self._answerers[AnswerMode.EXTRACTIVE]
        out = list(parts)
        for k in range(1, min(len(raw), len(parts))):
            if back_reference(raw[k]) is None:
                continue  # no pronoun in this part
            with self._lock:
                earlier = answerer.score_sentences(out[k - 1][0], out[k - 1][1], passages, language, expansion)
            if not earlier:
                continue
            # What the earlier part's answer says, narrowed to its answer phrase when it has
            # one (…从熟悉的CUDA平台,迁移到华为的CANN之上: the platform asked for is CANN).
            texts = [answerer.sentences.records[i].text for i in earlier[0].indices]
            spans = [(t, key_span(t, out[k - 1][0], language, expansion, names=False)) for t in texts]
            said: str | None = next((t[sp[0]:sp[1]] for t, sp in spans if sp), "".join(texts))
            if earlier[0].score + 0.5 < answerer.threshold(language):
                said = None  # the earlier part is not answered: its best sentence names nothing asked
            best, best_score = out[k], -math.inf
            for rewrite in dict.fromkeys([parts[k][0], *part_rewrites(raw[k], out[k - 1][0], said)]):
                vec = parts[k][1] if rewrite == parts[k][0] else self._embed_query(rewrite)
                with self._lock:
                    scored = answerer.score_sentences(rewrite, vec, passages, language, expansion)
                if scored and scored[0].score > best_score:
                    best, best_score = (rewrite, vec), scored[0].score
            out[k] = best
        return out

    def as_retriever(self, top_k: int | None = None, sources: Sequence[str] | None = None, mode: str = "hybrid"):
        """This assistant's retrieval as a ``llama_index.core.retrievers.BaseRetriever``
        (see :mod:`app.llamaindex`): ``NodeWithScore`` s whose metadata carry the source,
        section, page and spans."""
        from .llamaindex import AssistantRetriever

        self._check(top_k, sources)
        return AssistantRetriever(self, top_k=top_k, sources=sources, mode=mode)

    def as_query_engine(self, top_k: int | None = None, sources: Sequence[str] | None = None,
                        mode: str | None = None, history: Sequence[Any] | None = None):
        """This assistant as a LlamaIndex query engine: ``engine.query(q)`` returns a
        ``Response`` with the cited answer text, the cited passages as ``source_nodes`` and
        ``found``/``confidence`` in ``metadata``."""
        from .llamaindex import AssistantQueryEngine

        self._check(top_k, sources)
        self._answerer(mode)
        return AssistantQueryEngine(self, top_k=top_k, sources=sources, mode=mode, history=history)

    def ask_stream(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
                   sources: Sequence[str] | None = None, mode: str | None = None) -> Iterator[StreamStep]:
        """Answer like :meth:`ask`, yielding :class:`StreamStep` s as the text grows.

        In LLM mode the steps are the tokens as the server sends them (through llama-index's
        ``stream_chat``), with markers renumbered as they arrive; the last step carries the
        verified answer. Closing the generator (a client that went away) closes the request
        to the server. Extractive answers are complete at once and stream sentence by
        sentence.
        """
        t0 = time.perf_counter()
        question, answerer, llm, q = self._begin(question, history, top_k, sources, mode)
        if llm is None or q.follows:
            answer = self._stamp(self._extractive(answerer, q), question, q, t0)
            if answer.found:
                import re

                text = ""
                for piece in re.findall(r".+?\[\d+\]\s*", answer.text)[:-1]:
                    text += piece
                    yield StreamStep(text, answer, piece)
            yield StreamStep(answer.text, answer, "", done=True)
            return
        base = self._stamp(llm.base_answer(q.resolved, q.query_vector, q.passages, q.language,
                                           subquestions=q.subquestions, expansion=q.expansion), question, q, t0)
        if not base.found:
            yield StreamStep(base.text, base, "", done=True)
            return
        shown = base.passages[: llm.config.passages]
        state: dict = {}
        raw = ""
        tokens = llm.stream_tokens(q.resolved, shown, q.language, state)
        try:
            for delta in tokens:
                raw += delta
                text, citations = cite(raw, shown)
                partial = Answer(question, text, True, citations, base.passages, q.language, base.resolved_question,
                                 base.confidence, mode="llm", expansion=base.expansion)
                yield StreamStep(text, partial, delta)
        except Exception as exc:  # server down, timeout, HTTP errors: the extractive answer
            final = llm.fallback(base, exc)
        else:
            final = llm.finish(base, raw, state.get("finish_reason"), q.language)
        finally:
            tokens.close()
        yield StreamStep(final.text, self._stamp(final, question, q, t0), "", done=True)
