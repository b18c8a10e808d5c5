"""The in-memory repositories of knowledge bases and their documents."""

from __future__ import annotations

from collections.abc import Sequence

from tests.fakes.tables import Tables
from workbench.storage.sql.models import KbDocumentRow, KnowledgeBaseRow


class FakeKnowledgeBaseRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, kb: KnowledgeBaseRow) -> None:
        self._tables.add(kb)

    def get(self, kb_id: str) -> KnowledgeBaseRow | None:
        return self._tables.get(KnowledgeBaseRow, kb_id)

    def get_by_name(self, name: str) -> KnowledgeBaseRow | None:
        return self._tables.first(KnowledgeBaseRow, name=name)

    def list(self) -> Sequence[KnowledgeBaseRow]:
        return sorted(self._tables.where(KnowledgeBaseRow), key=lambda row: row.name)

    def delete(self, kb: KnowledgeBaseRow) -> None:
        self._tables.delete(kb)  # its documents go too (ON DELETE CASCADE)


class FakeKbDocumentRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, document: KbDocumentRow) -> None:
        self._tables.add(document)

    def get(self, kb_id: str, source: str) -> KbDocumentRow | None:
        return self._tables.first(KbDocumentRow, kb_id=kb_id, source=source)

    def list_for_kb(self, kb_id: str) -> Sequence[KbDocumentRow]:
        return sorted(self._tables.where(KbDocumentRow, kb_id=kb_id), key=lambda row: row.source)

    def delete(self, document: KbDocumentRow) -> None:
        self._tables.delete(document)

    def totals(self) -> dict[str, tuple[int, int]]:
        totals: dict[str, tuple[int, int]] = {}
        for row in self._tables.where(KbDocumentRow, status="ok"):
            docs, chunks = totals.get(row.kb_id, (0, 0))
            totals[row.kb_id] = (docs + 1, chunks + row.chunk_count)
        return totals
