"""Domain errors. Each message says what the user should do next.

The core raises these; the edges translate them (the CLI prints the message and exits
non-zero, the UI shows ``gr.Error``).
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error the assistant reports to a user."""


class ConfigError(AssistantError):
    """The config file is missing, not valid YAML, or has bad keys/values."""


class IndexMissingError(AssistantError):
    """No index (or an empty one) where the config says it should be."""


class EmbedderMismatchError(AssistantError):
    """The index was built with a different embedder than the configured one."""


class EmptyQuestionError(AssistantError):
    """The question is empty or whitespace only."""


class InvalidRequestError(AssistantError):
    """A per-question option is out of range or unknown (top_k, sources, mode)."""


class StoreUnavailableError(AssistantError):
    """The vector store (e.g. a Chroma server) cannot be reached."""


class EmbedderUnavailableError(AssistantError):
    """The embedding model cannot be loaded (missing package or model files)."""


INGEST_HINT = "run `make ingest` (or `python -m ingest`) first, or `make run`, which ingests for you"
