"""The in-memory knowledge-base repositories keep the constraints the SQL schema has."""

from __future__ import annotations

import pytest

from tests.fakes import FakeIntegrityError, FakeUnitOfWork
from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.storage.sql.models import KbDocumentRow, KnowledgeBaseRow


def kb_row(name: str) -> KnowledgeBaseRow:
    now = utcnow()
    return KnowledgeBaseRow(id=new_id(), name=name, description="", embedding_model="m", chunk_size=256,
                            chunk_overlap=32, created_at=now, updated_at=now)  # fmt: skip


def document_row(kb_id: str, source: str, status: str = "ok", chunks: int = 2) -> KbDocumentRow:
    return KbDocumentRow(id=new_id(), kb_id=kb_id, source=source, content_sha256="x", size_bytes=1,
                         mime_type="text/plain", chunk_count=chunks, status=status, ingested_at=utcnow())  # fmt: skip


def test_unique_names_and_sources() -> None:
    kb = kb_row("docs")
    uow = FakeUnitOfWork().seed(kb, document_row(kb.id, "a.md"))
    with pytest.raises(FakeIntegrityError), uow:
        uow.knowledge_bases.add(kb_row("docs"))
        uow.commit()
    with pytest.raises(FakeIntegrityError), uow:
        uow.kb_documents.add(document_row(kb.id, "a.md"))
        uow.commit()
    with uow:
        other = kb_row("other")
        uow.knowledge_bases.add(other)
        uow.kb_documents.add(document_row(other.id, "a.md"))  # the same source in another KB is fine
        uow.commit()
    assert len(uow.rows("kb_documents")) == 2


def test_lookups_totals_and_cascade() -> None:
    kb, other = kb_row("b-docs"), kb_row("a-docs")
    uow = FakeUnitOfWork().seed(
        kb, other, document_row(kb.id, "z.md", chunks=3), document_row(kb.id, "y.md", chunks=4),
        document_row(kb.id, "x.pdf", status="failed", chunks=0), document_row(other.id, "a.md"),
    )  # fmt: skip
    with uow:
        assert [row.name for row in uow.knowledge_bases.list()] == ["a-docs", "b-docs"]
        assert uow.knowledge_bases.get_by_name("b-docs") is not None
        assert [row.source for row in uow.kb_documents.list_for_kb(kb.id)] == ["x.pdf", "y.md", "z.md"]
        assert uow.kb_documents.totals() == {kb.id: (2, 7), other.id: (1, 2)}
        found = uow.knowledge_bases.get(kb.id)
        assert found is not None
        uow.knowledge_bases.delete(found)
        uow.commit()
    assert [row.kb_id for row in uow.rows("kb_documents")] == [other.id]
