"""A question-answering assistant for Chinese documents that answers with cited passages.

    from app import Assistant
    answer = Assistant.from_config("config.yaml").ask("华为的异构计算架构叫什么？")
"""

from .runtime import configure_environment

configure_environment()

from .assistant import Assistant  # noqa: E402
from .passages import Answer, Chunk, Citation, Passage  # noqa: E402

__all__ = ["Assistant", "Answer", "Passage", "Citation", "Chunk"]
