"""RagEngine's knowledge-base records on the in-memory unit of work: nothing here loads a model or opens Chroma."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeUnitOfWork
from workbench.config.rag import LOCAL_MODEL_ID, RagSettings
from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.rag.engine import RagEngine
from workbench.rag.errors import (
    EmbeddingModelMismatch,
    InvalidKnowledgeBase,
    KnowledgeBaseExists,
    KnowledgeBaseNotFound,
)
from workbench.storage.sql.models import KbDocumentRow


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def engine(uow: FakeUnitOfWork, tmp_path: Path) -> RagEngine:
    return RagEngine(RagSettings(), tmp_path, lambda: uow)


def test_create_and_list(engine: RagEngine, uow: FakeUnitOfWork, tmp_path: Path) -> None:
    assert engine.list_knowledge_bases() == []
    created = engine.create_knowledge_base("  Product docs ", description=" specs ")
    assert (created.name, created.description, created.embedding_model) == ("Product docs", "specs", LOCAL_MODEL_ID)
    assert (created.chunk_size, created.chunk_overlap) == (256, 32)
    engine.create_knowledge_base("faq", chunk_size=128, chunk_overlap=0)
    assert [kb.name for kb in engine.list_knowledge_bases()] == ["Product docs", "faq"]
    assert uow.commits == 2
    assert not engine.loaded  # creating and listing never loads the embedding model
    assert engine.chroma_path == (tmp_path / "chroma").resolve()


def test_counts_come_from_ok_documents(engine: RagEngine, uow: FakeUnitOfWork) -> None:
    kb = engine.create_knowledge_base("docs")
    rows = [("a.md", "ok", 3), ("b.md", "ok", 4), ("c.pdf", "failed", 0)]
    uow.seed(*[KbDocumentRow(id=new_id(), kb_id=kb.id, source=source, content_sha256="x", size_bytes=1,
                             mime_type="text/markdown", chunk_count=chunks, status=status, ingested_at=utcnow())
               for source, status, chunks in rows])  # fmt: skip
    listed = engine.get_knowledge_base("docs")
    assert (listed.document_count, listed.chunk_count) == (2, 7)
    assert [(doc.source, doc.status) for doc in engine.documents("docs")] == [
        ("a.md", "ok"), ("b.md", "ok"), ("c.pdf", "failed"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "size", "overlap", "message"),
    [
        ("", None, None, "invalid knowledge base name"),
        ("-leading-dash", None, None, "invalid knowledge base name"),
        ("x" * 65, None, None, "invalid knowledge base name"),
        ("slash/name", None, None, "invalid knowledge base name"),
        ("ok", 16, 0, "chunk size 16"),
        ("ok", 100, 100, "chunk overlap 100"),
        ("ok", 100, -1, "chunk overlap -1"),
    ],
)
def test_refused_names_and_chunking(
    engine: RagEngine, name: str, size: int | None, overlap: int | None, message: str
) -> None:
    with pytest.raises(InvalidKnowledgeBase, match=message):
        engine.create_knowledge_base(name, size, overlap)


def test_duplicates_and_missing(engine: RagEngine) -> None:
    engine.create_knowledge_base("docs")
    with pytest.raises(KnowledgeBaseExists):
        engine.create_knowledge_base("docs")
    with pytest.raises(KnowledgeBaseNotFound, match="workbench ingest PATH --kb nope"):
        engine.retrieve("nope", "question")


def test_ensure_knowledge_base(engine: RagEngine) -> None:
    kb, created = engine.ensure_knowledge_base("docs", 128, 16)
    assert created
    assert engine.ensure_knowledge_base("docs") == (kb, False)
    assert engine.ensure_knowledge_base("docs", 128) == (kb, False)
    with pytest.raises(InvalidKnowledgeBase, match="chunks with size 128 and overlap 16"):
        engine.ensure_knowledge_base("docs", 256, 16)


def test_a_knowledge_base_of_another_embedding_model_is_refused_before_loading(
    uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    RagEngine(RagSettings(), tmp_path, lambda: uow).create_knowledge_base("docs")
    hosted = RagEngine(RagSettings(embedding_provider="openai"), tmp_path, lambda: uow)
    with pytest.raises(EmbeddingModelMismatch, match="built with the embedding model 'all-MiniLM-L6-v2-onnx-int8'"):
        hosted.retrieve("docs", "question")
    with pytest.raises(EmbeddingModelMismatch):
        hosted.ingest("docs", [("a.txt", b"text")])
    with pytest.raises(EmbeddingModelMismatch):
        hosted.delete_document("docs", "a.txt")
    assert not hosted.loaded
