"""Knowledge-base and document records on SQLite and PostgreSQL (a cheap hashing embedding; real Chroma)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from tests.rag_fakes import HashEmbedding
from workbench.config.rag import RagSettings
from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.rag.engine import RagEngine
from workbench.storage.sql.models import KbDocumentRow
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = pytest.mark.integration


@pytest.fixture
def rag(make_uow: Callable[[], SqlUnitOfWork], tmp_path: Path) -> RagEngine:
    return RagEngine(RagSettings(), tmp_path, make_uow, embedding=HashEmbedding())


def test_documents_are_recorded_and_updated(rag: RagEngine) -> None:
    kb = rag.create_knowledge_base("records", chunk_size=64, chunk_overlap=8, description="tests")
    report = rag.ingest("records", [("a.txt", b"alpha " * 300), ("b.md", b"# B\n\nbeta"), ("c.bin", b"\x00")])
    assert sorted(report.added) == ["a.txt", "b.md"]
    docs = {doc.source: doc for doc in rag.documents("records")}
    assert docs["a.txt"].chunk_count > 1
    assert docs["a.txt"].size_bytes == 1800
    assert docs["a.txt"].mime_type == "text/plain"
    assert len(docs["a.txt"].content_sha256) == 64
    assert docs["b.md"].chunk_count == 1
    assert (docs["c.bin"].status, docs["c.bin"].chunk_count) == ("failed", 0)
    assert docs["a.txt"].ingested_at.tzinfo is not None

    listed = rag.get_knowledge_base("records")
    assert (listed.document_count, listed.chunk_count) == (2, docs["a.txt"].chunk_count + 1)
    assert listed.updated_at > kb.updated_at
    assert (listed.embedding_model, listed.description) == ("hash-embedding-v1", "tests")

    replaced = rag.ingest("records", [("b.md", b"# B\n\nbeta, second edition")])
    assert replaced.replaced == ["b.md"]
    after = {doc.source: doc for doc in rag.documents("records")}
    assert after["b.md"].content_sha256 != docs["b.md"].content_sha256


def test_one_record_per_source_and_cascade(rag: RagEngine, make_uow: Callable[[], SqlUnitOfWork]) -> None:
    kb = rag.create_knowledge_base("unique")
    rag.ingest("unique", [("a.txt", b"alpha")])
    with pytest.raises(IntegrityError), make_uow() as uow:
        uow.kb_documents.add(
            KbDocumentRow(id=new_id(), kb_id=kb.id, source="a.txt", content_sha256="x", size_bytes=1,
                          mime_type="text/plain", chunk_count=1, status="ok", ingested_at=utcnow())
        )  # fmt: skip
        uow.commit()
    with pytest.raises(IntegrityError), make_uow() as uow:
        uow.kb_documents.add(
            KbDocumentRow(id=new_id(), kb_id=kb.id, source="z.txt", content_sha256="x", size_bytes=1,
                          mime_type="text/plain", chunk_count=1, status="pending", ingested_at=utcnow())
        )  # fmt: skip
        uow.commit()

    rag.delete_knowledge_base("unique")
    with make_uow() as uow:
        assert uow.knowledge_bases.get_by_name("unique") is None
        assert list(uow.kb_documents.list_for_kb(kb.id)) == []
