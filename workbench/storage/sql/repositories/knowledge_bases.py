"""The SQL repositories of knowledge bases and the documents ingested into each."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.storage.sql.models import KbDocumentRow, KnowledgeBaseRow


class SqlKnowledgeBaseRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, kb: KnowledgeBaseRow) -> None:
        self._session.add(kb)

    def get(self, kb_id: str) -> KnowledgeBaseRow | None:
        return self._session.get(KnowledgeBaseRow, kb_id)

    def get_by_name(self, name: str) -> KnowledgeBaseRow | None:
        return self._session.scalar(select(KnowledgeBaseRow).where(KnowledgeBaseRow.name == name))

    def list(self) -> Sequence[KnowledgeBaseRow]:
        return self._session.scalars(select(KnowledgeBaseRow).order_by(KnowledgeBaseRow.name)).all()

    def delete(self, kb: KnowledgeBaseRow) -> None:
        self._session.delete(kb)


class SqlKbDocumentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, document: KbDocumentRow) -> None:
        self._session.add(document)

    def get(self, kb_id: str, source: str) -> KbDocumentRow | None:
        query = select(KbDocumentRow).where(KbDocumentRow.kb_id == kb_id, KbDocumentRow.source == source)
        return self._session.scalar(query)

    def list_for_kb(self, kb_id: str) -> Sequence[KbDocumentRow]:
        query = select(KbDocumentRow).where(KbDocumentRow.kb_id == kb_id).order_by(KbDocumentRow.source)
        return self._session.scalars(query).all()

    def delete(self, document: KbDocumentRow) -> None:
        self._session.delete(document)

    def totals(self) -> dict[str, tuple[int, int]]:
        """kb id -> (documents ingested ok, their chunks), for every knowledge base with documents."""
        query = (
            select(KbDocumentRow.kb_id, func.count(), func.coalesce(func.sum(KbDocumentRow.chunk_count), 0))
            .where(KbDocumentRow.status == "ok")
            .group_by(KbDocumentRow.kb_id)
        )
        return {kb_id: (int(docs), int(chunks)) for kb_id, docs, chunks in self._session.execute(query)}
