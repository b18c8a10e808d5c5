"""Retrieved chunks as a RAG prompt's numbered context and as the citations its answer refers to by number.

The chat and eval runs both answer with this context, so an eval run measures what the Chat page would say.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.rag.records import RetrievedChunk

CITATION_PREVIEW_CHARS = 600
NO_PASSAGES = "(no passages found)"
_CITED_METADATA = ("page", "row", "title", "chunk_index")


def passages(chunks: Sequence[RetrievedChunk]) -> tuple[list[dict[str, Any]], str]:
    """(citations, context): chunk n is cited as {"n": n, ...} and appears in the context as `[n] (from source)`."""
    citations = [citation(number, chunk) for number, chunk in enumerate(chunks, start=1)]
    context = "\n\n".join(f"[{c['n']}] (from {c['source']})\n{chunk.text}" for c, chunk in
                          zip(citations, chunks, strict=True))  # fmt: skip
    return citations, context or NO_PASSAGES


def citation(number: int, chunk: RetrievedChunk) -> dict[str, Any]:
    """What an answer's citation [number] keeps of its chunk: source, id, score, a preview and where it is."""
    metadata = {k: v for k, v in chunk.metadata.items() if k in _CITED_METADATA}
    return {
        "n": number,
        "source": chunk.source,
        "chunk_id": chunk.chunk_id,
        "score": round(float(chunk.score), 4),
        "text": chunk.text[:CITATION_PREVIEW_CHARS],
        **metadata,
    }
