"""Plain records handed to services and pages (no I/O, no llama_index or chromadb types)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.domain.runlog import RunKind, RunLog

# A file to ingest: a path (a folder is walked), or an upload as (file name, content).
Upload = tuple[str, bytes]
Source = str | os.PathLike[str] | Upload
# progress(done, total, current_name): called before each file and once at the end with done == total.
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    id: str
    name: str
    description: str
    embedding_model: str
    chunk_size: int
    chunk_overlap: int
    created_at: datetime
    updated_at: datetime
    document_count: int = 0
    chunk_count: int = 0


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    source: str
    content_sha256: str
    size_bytes: int
    mime_type: str
    chunk_count: int
    status: str  # "ok" or "failed"
    error: str | None
    ingested_at: datetime


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did, file by file (sources as stored, e.g. `sample-corpus/faq.md`)."""

    kb: str
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    chunks_embedded: int = 0
    seconds: float = 0.0

    @property
    def nothing_ingested(self) -> bool:
        """True when no file is in the index after the run and nothing was removed either."""
        return not (self.added or self.replaced or self.unchanged or self.removed)


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    source: str
    text: str
    score: float  # cosine similarity, higher is better
    chunk_id: str
    metadata: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.source)

    @property
    def page(self) -> int | None:
        page = self.metadata.get("page")
        return int(page) if page is not None else None


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The chunks of one query, best first, and what the query cost."""

    kb: str
    query: str
    top_k: int
    embedding_model: str
    chunks: list[RetrievedChunk]
    latency_ms: float  # embedding + search
    embedding_ms: float
    search_ms: float

    def run_log(self, **context: Any) -> RunLog:
        """A run-log record of this call; `context` sets user_id, conversation_id, run_id and the like."""
        metadata = {
            "kb": self.kb,
            "top_k": self.top_k,
            "hits": len(self.chunks),
            "embedding_ms": round(self.embedding_ms, 3),
            "search_ms": round(self.search_ms, 3),
            "sources": [chunk.source for chunk in self.chunks],
        }
        return RunLog(
            kind=RunKind.RETRIEVAL,
            provider="chroma",
            model=self.embedding_model,
            latency_ms=round(self.latency_ms, 3),
            parameters={"top_k": self.top_k},
            metadata=metadata,
            **context,
        )
