"""What can go wrong in retrieval, as exceptions with messages a user can act on."""

from __future__ import annotations


class RagError(Exception):
    """Base of the retrieval errors; the message is meant for the person at the screen."""


class BadDocument(RagError):
    """A file that cannot be ingested: unknown type, corrupt, empty, or over the size limit."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class KnowledgeBaseNotFound(RagError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no knowledge base named {name!r}; create it first (`workbench ingest PATH --kb {name}`)")
        self.name = name


class KnowledgeBaseExists(RagError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a knowledge base named {name!r} exists already")
        self.name = name


class InvalidKnowledgeBase(RagError):
    """A name or chunking setting that is refused."""


class EmbeddingModelMismatch(RagError):
    """The index was built by another embedding model: vectors of two models are never mixed."""

    def __init__(self, kb: str, built_with: str, configured: str) -> None:
        super().__init__(
            f"knowledge base {kb!r} was built with the embedding model {built_with!r}, but {configured!r} is "
            "configured. Vectors of different models cannot be compared: switch the embedding setting back "
            "(WORKBENCH_RAG__EMBEDDING_PROVIDER / WORKBENCH_RAG__EMBEDDING_MODEL) or ingest into a new knowledge base."
        )
        self.kb = kb
        self.built_with = built_with
        self.configured = configured
