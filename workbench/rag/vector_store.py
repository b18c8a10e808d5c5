"""Chroma: one persistent collection per knowledge base, stamped with the embedding model that filled it."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from workbench.rag.errors import EmbeddingModelMismatch, RagError

MODEL_KEY = "embedding_model"
DIMENSION_KEY = "embedding_dimension"
KB_KEY = "knowledge_base"
WRITE_BATCH = 1_000  # below Chroma's maximum batch size (about 5,000 on SQLite)


def collection_name(kb: str) -> str:
    """A valid, stable Chroma name for any knowledge-base name: readable slug plus a hash for uniqueness."""
    slug = re.sub(r"[^a-z0-9]+", "-", kb.lower()).strip("-")[:40]
    digest = hashlib.sha256(kb.encode("utf-8")).hexdigest()[:10]
    return f"kb-{slug}-{digest}" if slug else f"kb-{digest}"


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    text: str
    distance: float  # cosine distance: 0 is identical
    metadata: dict[str, Any]


class KnowledgeBaseIndex:
    """The vectors of one knowledge base: add, replace and delete by source, query by vector."""

    def __init__(self, kb: str, collection: Collection) -> None:
        self.kb = kb
        self.collection = collection

    def count(self) -> int:
        return self.collection.count()

    def replace_sources(
        self,
        sources: Sequence[str],
        ids: Sequence[str],
        texts: Sequence[str],
        vectors: np.ndarray[Any, Any] | Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, str | int]],
    ) -> None:
        """Drop whatever `sources` had (stale chunks of older versions included) and add the new chunks."""
        self.delete_sources(sources)
        array = np.asarray(vectors, dtype=np.float32)
        for start in range(0, len(ids), WRITE_BATCH):
            end = start + WRITE_BATCH
            self.collection.upsert(
                ids=list(ids[start:end]),
                embeddings=array[start:end],
                documents=list(texts[start:end]),
                metadatas=[dict(m) for m in metadatas[start:end]],
            )

    def delete_sources(self, sources: Sequence[str]) -> None:
        if sources:
            values: list[str | int | float | bool] = list(sources)
            condition: dict[Literal["$in", "$nin"], list[str | int | float | bool]] = {"$in": values}
            where: Where = {"source": condition}
            self.collection.delete(where=where)

    def ids_of(self, source: str) -> list[str]:
        return list(self.collection.get(where={"source": source}, include=[])["ids"])

    def all_ids(self) -> list[str]:
        """Every chunk id, sorted; no texts, metadata or vectors are read (cheap for large knowledge bases)."""
        return sorted(self.collection.get(include=[])["ids"])

    def chunks(self, ids: Sequence[str]) -> list[tuple[str, str, dict[str, Any]]]:
        """(id, text, metadata) of the given chunks, in the order asked; ids no longer stored are left out."""
        found: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for start in range(0, len(ids), WRITE_BATCH):
            result = self.collection.get(ids=list(ids[start : start + WRITE_BATCH]), include=["documents", "metadatas"])
            documents = result["documents"] or []
            metadatas = result["metadatas"] or []
            for chunk, text, metadata in zip(result["ids"], documents, metadatas, strict=True):
                found[chunk] = (chunk, text or "", dict(metadata or {}))
        return [found[chunk] for chunk in ids if chunk in found]

    def query(self, vector: Sequence[float], top_k: int) -> list[Hit]:
        result = self.collection.query(
            query_embeddings=np.asarray([vector], dtype=np.float32),
            n_results=top_k,
            include=["documents", "metadatas", "distances"],
        )
        ids = result["ids"][0]
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            Hit(chunk, text or "", float(distance), dict(metadata or {}))
            for chunk, text, metadata, distance in zip(ids, documents, metadatas, distances, strict=True)
        ]


class VectorStore:
    """A Chroma PersistentClient (telemetry off) shared by the whole process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.client: ClientAPI = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        self._lock = threading.Lock()

    def open(self, kb: str, *, model_id: str, dimension: int, create: bool = True) -> KnowledgeBaseIndex | None:
        """The collection of `kb`, created on first use; refused if another embedding model built it.

        Chroma's default embedding function would download a model: collections get none
        (`embedding_function=None`), and every vector comes from the workbench's own embedding model.
        """
        name = collection_name(kb)
        with self._lock:
            try:
                collection = self.client.get_collection(name, embedding_function=None)
            except NotFoundError:
                if not create:
                    return None
                collection = self.client.create_collection(
                    name,
                    metadata={MODEL_KEY: model_id, DIMENSION_KEY: dimension, KB_KEY: kb},
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
        _check_model(kb, collection, model_id, dimension)
        return KnowledgeBaseIndex(kb, collection)

    def reopened(self) -> VectorStore:
        """A client that reads the collections from disk again, seeing what other processes wrote.

        Chroma shares one in-memory system per path in a process; clearing that cache makes the next client
        load afresh. Handles of the old client keep working until they are dropped, so queries in flight finish.
        """
        from chromadb.api.shared_system_client import SharedSystemClient

        with self._lock:
            SharedSystemClient.clear_system_cache()
            return VectorStore(self.path)

    def drop(self, kb: str) -> None:
        with self._lock:
            try:
                self.client.delete_collection(collection_name(kb))
            except NotFoundError:
                return


def _check_model(kb: str, collection: Collection, model_id: str, dimension: int) -> None:
    metadata = collection.metadata or {}
    built_with = metadata.get(MODEL_KEY)
    if built_with is None:
        raise RagError(f"the Chroma collection {collection.name} was not made by the workbench (no model recorded)")
    if built_with != model_id:
        raise EmbeddingModelMismatch(kb, str(built_with), model_id)
    if metadata.get(DIMENSION_KEY) != dimension:
        raise RagError(
            f"knowledge base {kb!r} holds {metadata.get(DIMENSION_KEY)}-dimensional vectors, but {model_id} "
            f"gives {dimension}"
        )
