"""RagEngine: the one object services and pages use for knowledge bases, ingestion and retrieval.

Process-wide and thread-safe. The Chroma client and the embedding model are created on first use, so building
the container (and opening a page that only lists knowledge bases) loads neither. Importing this module pulls in
neither llama_index nor chromadb; they are imported when first needed.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.config.rag import RagSettings
from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.rag.errors import (
    EmbeddingModelMismatch,
    InvalidKnowledgeBase,
    KnowledgeBaseExists,
    KnowledgeBaseNotFound,
)
from workbench.rag.records import (
    DocumentInfo,
    IngestReport,
    KnowledgeBase,
    ProgressCallback,
    Retrieval,
    Source,
)
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import KbDocumentRow, KnowledgeBaseRow

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from workbench.rag.vector_store import KnowledgeBaseIndex, VectorStore

KB_NAME = re.compile(r"^\w[\w .-]{0,63}$")


@dataclass(frozen=True, slots=True)
class SampledChunk:
    """A stored chunk picked at random (the question generator's passages): a RetrievedChunk without a score,
    since no query chose it."""

    source: str
    text: str
    chunk_id: str
    metadata: dict[str, Any]


class RagEngine:
    """Knowledge bases (SQL records + one Chroma collection each), ingestion and retrieval."""

    def __init__(
        self,
        settings: RagSettings,
        data_dir: Path,
        uow_factory: Callable[[], UnitOfWork],
        *,
        embedding: BaseEmbedding | None = None,
    ) -> None:
        """`embedding` replaces the configured model (tests and benchmarks); it is otherwise built on first use."""
        self.settings = settings
        self.chroma_path = (settings.chroma_path or data_dir / "chroma").expanduser().resolve()
        self._uow_factory = uow_factory
        self._embedding = embedding
        if embedding is None:
            self.model_id = settings.embedding_model_id
        else:
            from workbench.rag.embeddings import model_id_of

            self.model_id = model_id_of(embedding)
        self._dimension: int | None = None
        self._store: VectorStore | None = None
        self._indexes: dict[tuple[str, str], KnowledgeBaseIndex] = {}  # (kb name, kb id) -> collection handle
        self._seen: dict[str, datetime] = {}  # kb id -> updated_at of the last change this process knows of
        self._lock = threading.RLock()
        self._kb_locks: dict[str, threading.Lock] = {}

    # Lazily created resources ---------------------------------------------------------------

    @property
    def embedding(self) -> BaseEmbedding:
        """The embedding model of ingestion and queries alike (loaded on first use)."""
        if self._embedding is None:
            with self._lock:
                if self._embedding is None:
                    from workbench.rag.embeddings import build_embedding

                    self._embedding = build_embedding(self.settings)
        return self._embedding

    @property
    def vector_store(self) -> VectorStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from workbench.rag.vector_store import VectorStore

                    self._store = VectorStore(self.chroma_path)
        return self._store

    @property
    def loaded(self) -> bool:
        """Whether the embedding model is in memory (for a status page)."""
        return self._embedding is not None

    def _index(self, kb: KnowledgeBase, *, create: bool) -> KnowledgeBaseIndex | None:
        """The collection of `kb`; reopened when another process (the CLI, another app worker) changed it.

        Chroma keeps a collection's vector index in the memory of each process and does not see what another
        process adds: a newer `updated_at` in SQL than this process knows of means the index on disk moved on.
        """
        seen = self._seen.get(kb.id)
        if seen is not None and kb.updated_at > seen:
            with self._lock:
                if self._store is not None:
                    self._store = self._store.reopened()
                self._indexes.clear()
                self._seen.clear()
        key = (kb.name, kb.id)
        index = self._indexes.get(key)
        if index is not None:
            return index
        embedding = self.embedding
        with self._lock:
            self._seen.setdefault(kb.id, kb.updated_at)
            if self._dimension is None:
                from workbench.rag.embeddings import dimension_of

                self._dimension = dimension_of(embedding)
            index = self.vector_store.open(kb.name, model_id=self.model_id, dimension=self._dimension, create=create)
            if index is not None:
                self._indexes[key] = index
        return index

    def _kb_lock(self, name: str) -> threading.Lock:
        with self._lock:
            return self._kb_locks.setdefault(name, threading.Lock())

    # Knowledge bases ------------------------------------------------------------------------

    def list_knowledge_bases(self) -> list[KnowledgeBase]:
        """Every knowledge base by name, with its count of documents ingested and their chunks."""
        with self._uow_factory() as uow:
            totals = uow.kb_documents.totals()
            return [_knowledge_base(row, *totals.get(row.id, (0, 0))) for row in uow.knowledge_bases.list()]

    def get_knowledge_base(self, name: str) -> KnowledgeBase:
        with self._uow_factory() as uow:
            row = uow.knowledge_bases.get_by_name(name)
            if row is None:
                raise KnowledgeBaseNotFound(name)
            documents, chunks = uow.kb_documents.totals().get(row.id, (0, 0))
            return _knowledge_base(row, documents, chunks)

    def create_knowledge_base(
        self, name: str, chunk_size: int | None = None, chunk_overlap: int | None = None, description: str = ""
    ) -> KnowledgeBase:
        """A new, empty knowledge base recording the configured embedding model (nothing is loaded here)."""
        name = name.strip()
        size = chunk_size if chunk_size is not None else self.settings.chunk_size
        overlap = chunk_overlap if chunk_overlap is not None else self.settings.chunk_overlap
        _validate(name, size, overlap)
        with self._uow_factory() as uow:
            if uow.knowledge_bases.get_by_name(name) is not None:
                raise KnowledgeBaseExists(name)
            now = utcnow()
            row = KnowledgeBaseRow(
                id=new_id(),
                name=name,
                description=description.strip(),
                embedding_model=self.model_id,
                chunk_size=size,
                chunk_overlap=overlap,
                created_at=now,
                updated_at=now,
            )
            uow.knowledge_bases.add(row)
            uow.commit()
            return _knowledge_base(row, 0, 0)

    def ensure_knowledge_base(
        self, name: str, chunk_size: int | None = None, chunk_overlap: int | None = None
    ) -> tuple[KnowledgeBase, bool]:
        """(the knowledge base, whether it was created now); chunk settings given must match an existing one."""
        try:
            kb = self.get_knowledge_base(name.strip())
        except KnowledgeBaseNotFound:
            try:
                return self.create_knowledge_base(name, chunk_size, chunk_overlap), True
            except KnowledgeBaseExists:  # created by another thread or process just now
                kb = self.get_knowledge_base(name.strip())
        wanted = (chunk_size or kb.chunk_size, kb.chunk_overlap if chunk_overlap is None else chunk_overlap)
        if wanted != (kb.chunk_size, kb.chunk_overlap):
            raise InvalidKnowledgeBase(
                f"knowledge base {kb.name!r} chunks with size {kb.chunk_size} and overlap {kb.chunk_overlap}; "
                "drop the chunk options or use a new knowledge base"
            )
        return kb, False

    def delete_knowledge_base(self, name: str) -> None:
        """Drop the knowledge base, its document records and its Chroma collection."""
        with self._kb_lock(name):
            kb = self.get_knowledge_base(name)
            self.vector_store.drop(kb.name)
            with self._lock:
                self._indexes.pop((kb.name, kb.id), None)
            with self._uow_factory() as uow:
                row = uow.knowledge_bases.get(kb.id)
                if row is not None:
                    uow.knowledge_bases.delete(row)
                uow.commit()

    # Documents ---------------------------------------------------------------------------------

    def ingest(
        self,
        kb: str,
        sources: Sequence[Source],
        *,
        sync: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Ingest files, folders and `(name, bytes)` uploads into an existing knowledge base.

        Unchanged files are skipped without embedding, changed ones replace their chunks, and with `sync=True`
        the knowledge base keeps only this run's files (files deleted from a re-ingested folder go). Bad files are
        listed in the report; the batch goes on.
        """
        from workbench.rag.ingestion import ingest

        record = self._checked(kb)
        with self._kb_lock(record.name):
            index = self._index(record, create=True)
            assert index is not None
            try:
                return ingest(
                    sources,
                    record,
                    embedding=self.embedding,
                    index=index,
                    uow_factory=self._uow_factory,
                    max_bytes=self.settings.max_file_bytes,
                    sync=sync,
                    progress=progress,
                )
            finally:
                self._saw_own_change(record.name)

    def documents(self, kb: str) -> list[DocumentInfo]:
        record = self.get_knowledge_base(kb)
        with self._uow_factory() as uow:
            return [_document(row) for row in uow.kb_documents.list_for_kb(record.id)]

    def delete_document(self, kb: str, source: str) -> bool:
        """Remove one document's chunks and record; False when the knowledge base has no such document."""
        record = self._checked(kb)
        with self._kb_lock(record.name):
            with self._uow_factory() as uow:
                row = uow.kb_documents.get(record.id, source)
                if row is None:
                    return False
            index = self._index(record, create=False)
            if index is not None:
                index.delete_sources([source])
            with self._uow_factory() as uow:
                row = uow.kb_documents.get(record.id, source)
                if row is not None:
                    uow.kb_documents.delete(row)
                kb_row = uow.knowledge_bases.get(record.id)
                if kb_row is not None:
                    kb_row.updated_at = utcnow()  # tells other processes to reload the index
                uow.commit()
            self._saw_own_change(record.name)
            return True

    # Retrieval ---------------------------------------------------------------------------------

    def retrieve(self, kb: str, query: str, top_k: int | None = None) -> Retrieval:
        """The chunks of `kb` most similar to `query`, best first, with the time the call took."""
        from workbench.rag.retrieval import retrieve

        record = self._checked(kb)
        k = top_k or self.settings.top_k
        if k < 1:
            raise ValueError("top_k must be at least 1")
        index = self._index(record, create=False)
        return retrieve(record.name, query, k, embedding=self.embedding, index=index, model_id=self.model_id)

    def sample_chunks(self, kb: str, count: int, seed: int = 0) -> list[SampledChunk]:
        """Up to `count` distinct chunks of `kb` picked at random; the same seed and content pick the same ones.

        Only the ids of the whole knowledge base are read (sorted, so Chroma's storage order does not matter),
        then the texts of the chosen few. An empty knowledge base gives none.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        record = self._checked(kb)
        index = self._index(record, create=False)
        if index is None:
            return []
        ids = index.all_ids()
        chosen = random.Random(seed).sample(ids, min(count, len(ids)))
        return [
            SampledChunk(source=str(metadata.get("source", "")), text=text, chunk_id=chunk, metadata=metadata)
            for chunk, text, metadata in index.chunks(chosen)
        ]

    def close(self) -> None:
        """Forget the collection handles and the model (Chroma keeps nothing that needs flushing)."""
        with self._lock:
            self._indexes.clear()
            self._store = None

    # Helpers -------------------------------------------------------------------------------------

    def _saw_own_change(self, name: str) -> None:
        """Remember this process's own write, so that it does not read as another process's change."""
        try:
            kb = self._checked(name)
        except KnowledgeBaseNotFound:
            return
        with self._lock:
            self._seen[kb.id] = kb.updated_at

    def _checked(self, name: str) -> KnowledgeBase:
        """The knowledge base, refused before any model is loaded if another embedding model built it."""
        with self._uow_factory() as uow:  # no document counts: this runs on every retrieval
            row = uow.knowledge_bases.get_by_name(name)
            if row is None:
                raise KnowledgeBaseNotFound(name)
            kb = _knowledge_base(row, 0, 0)
        if kb.embedding_model != self.model_id:
            raise EmbeddingModelMismatch(kb.name, kb.embedding_model, self.model_id)
        return kb


def _validate(name: str, chunk_size: int, chunk_overlap: int) -> None:
    if not KB_NAME.match(name):
        raise InvalidKnowledgeBase(
            f"invalid knowledge base name {name!r}: 1 to 64 letters, digits, spaces, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    if not 32 <= chunk_size <= 8192:
        raise InvalidKnowledgeBase(f"chunk size {chunk_size} is outside 32..8192 tokens")
    if not 0 <= chunk_overlap < chunk_size:
        raise InvalidKnowledgeBase(f"chunk overlap {chunk_overlap} must be at least 0 and below the chunk size")


def _knowledge_base(row: KnowledgeBaseRow, documents: int, chunks: int) -> KnowledgeBase:
    return KnowledgeBase(
        id=row.id,
        name=row.name,
        description=row.description,
        embedding_model=row.embedding_model,
        chunk_size=row.chunk_size,
        chunk_overlap=row.chunk_overlap,
        created_at=row.created_at,
        updated_at=row.updated_at,
        document_count=documents,
        chunk_count=chunks,
    )


def _document(row: KbDocumentRow) -> DocumentInfo:
    return DocumentInfo(
        source=row.source,
        content_sha256=row.content_sha256,
        size_bytes=row.size_bytes,
        mime_type=row.mime_type,
        chunk_count=row.chunk_count,
        status=row.status,
        error=row.error,
        ingested_at=row.ingested_at,
    )
