"""The contracts of the knowledge-base and document repositories, on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from tests.factories import kb_document_row, kb_row
from tests.integration.contracts.backends import Backend


def test_knowledge_bases_by_id_by_name_and_listed_by_name(backend: Backend) -> None:
    docs, notes = kb_row("docs", description="manuals"), kb_row("notes")
    with backend.make_uow() as uow:
        uow.knowledge_bases.add(notes)
        uow.knowledge_bases.add(docs)
        uow.commit()
    with backend.make_uow() as uow:
        assert [row.name for row in uow.knowledge_bases.list()] == ["docs", "notes"]
        found = uow.knowledge_bases.get_by_name("docs")
        assert found is not None
        assert (found.id, found.description, found.chunk_size) == (docs.id, "manuals", 256)
        assert uow.knowledge_bases.get(notes.id) is not None
        assert uow.knowledge_bases.get_by_name("missing") is None
        assert uow.knowledge_bases.get("missing") is None


def test_documents_by_source_and_totals_of_ok_documents(backend: Backend) -> None:
    kb, other, empty = kb_row("kb"), kb_row("other"), kb_row("empty")
    backend.seed(
        kb, other, empty,
        kb_document_row(kb.id, "z.md", chunk_count=3), kb_document_row(kb.id, "y.md", chunk_count=4),
        kb_document_row(kb.id, "x.pdf", status="failed", chunk_count=0, error="unreadable"),
        kb_document_row(other.id, "a.md", chunk_count=2),
    )  # fmt: skip
    with backend.make_uow() as uow:
        assert [row.source for row in uow.kb_documents.list_for_kb(kb.id)] == ["x.pdf", "y.md", "z.md"]
        assert uow.kb_documents.list_for_kb(empty.id) == []
        failed = uow.kb_documents.get(kb.id, "x.pdf")
        assert failed is not None
        assert (failed.status, failed.error) == ("failed", "unreadable")
        assert uow.kb_documents.get(other.id, "x.pdf") is None
        assert uow.kb_documents.totals() == {kb.id: (2, 7), other.id: (1, 2)}


def test_deleting_a_document_and_a_knowledge_base_with_its_documents(backend: Backend) -> None:
    kb, other = kb_row("kb"), kb_row("other")
    backend.seed(kb, other, kb_document_row(kb.id, "a.md"), kb_document_row(kb.id, "b.md"),
                 kb_document_row(other.id, "a.md"))  # fmt: skip
    with backend.make_uow() as uow:
        document = uow.kb_documents.get(kb.id, "a.md")
        assert document is not None
        uow.kb_documents.delete(document)
        uow.commit()
    with backend.make_uow() as uow:
        assert [row.source for row in uow.kb_documents.list_for_kb(kb.id)] == ["b.md"]
        found = uow.knowledge_bases.get(kb.id)
        assert found is not None
        uow.knowledge_bases.delete(found)
        uow.commit()
    with backend.make_uow() as uow:
        assert [row.name for row in uow.knowledge_bases.list()] == ["other"]
        assert uow.kb_documents.list_for_kb(kb.id) == []  # ON DELETE CASCADE
        assert uow.kb_documents.totals() == {other.id: (1, 2)}


def test_names_and_sources_per_knowledge_base_are_unique(backend: Backend) -> None:
    kb, other = kb_row("docs"), kb_row("other")
    backend.seed(kb, other, kb_document_row(kb.id, "a.md"))
    with backend.conflict(), backend.make_uow() as uow:
        uow.knowledge_bases.add(kb_row("docs"))
        uow.commit()
    with backend.conflict(), backend.make_uow() as uow:
        uow.kb_documents.add(kb_document_row(kb.id, "a.md"))
        uow.commit()
    with backend.make_uow() as uow:
        uow.kb_documents.add(kb_document_row(other.id, "a.md"))  # the same source in another KB is fine
        uow.commit()
    with backend.make_uow() as uow:
        assert uow.kb_documents.totals() == {kb.id: (1, 2), other.id: (1, 2)}
