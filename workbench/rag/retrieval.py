"""Retrieve the chunks of a knowledge base nearest to a query, embedded by the model that built the index."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from workbench.rag.records import Retrieval, RetrievedChunk

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from workbench.rag.vector_store import KnowledgeBaseIndex


def retrieve(
    kb: str,
    query: str,
    top_k: int,
    *,
    embedding: BaseEmbedding,
    index: KnowledgeBaseIndex | None,
    model_id: str,
) -> Retrieval:
    """The `top_k` chunks most similar to `query`, best first; an index that does not exist yet gives none."""
    started = time.perf_counter()
    vector = embedding.get_query_embedding(query)
    embedded = time.perf_counter()
    hits = index.query(vector, top_k) if index is not None else []
    finished = time.perf_counter()
    chunks = [
        RetrievedChunk(
            source=str(hit.metadata.get("source", "")),
            text=hit.text,
            score=1.0 - hit.distance,  # Chroma's cosine distance is 1 - cosine similarity
            chunk_id=hit.id,
            metadata=hit.metadata,
        )
        for hit in hits
    ]
    return Retrieval(
        kb=kb,
        query=query,
        top_k=top_k,
        embedding_model=model_id,
        chunks=chunks,
        latency_ms=(finished - started) * 1000,
        embedding_ms=(embedded - started) * 1000,
        search_ms=(finished - embedded) * 1000,
    )
