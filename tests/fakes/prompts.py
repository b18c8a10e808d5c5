"""The in-memory repository of the prompt registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tests.fakes.tables import Tables
from workbench.storage.sql.models import PromptLabelRow, PromptVersionRow


class FakePromptRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add_version(self, row: PromptVersionRow) -> None:
        self._tables.add(row)

    def add_label(self, row: PromptLabelRow) -> None:
        self._tables.add(row)

    def delete_label(self, row: PromptLabelRow) -> None:
        self._tables.delete(row)

    def names(self) -> Sequence[tuple[str, int, int, datetime]]:
        by_name: dict[str, list[PromptVersionRow]] = {}
        for row in self._tables.where(PromptVersionRow):
            by_name.setdefault(row.name, []).append(row)
        return [
            (name, max(r.version for r in rows), len(rows), max(r.created_at for r in rows))
            for name, rows in sorted(by_name.items())
        ]

    def versions(self, name: str) -> Sequence[PromptVersionRow]:
        return sorted(self._tables.where(PromptVersionRow, name=name), key=lambda row: row.version, reverse=True)

    def version(self, name: str, version: int) -> PromptVersionRow | None:
        return self._tables.first(PromptVersionRow, name=name, version=version)

    def version_by_id(self, version_id: str) -> PromptVersionRow | None:
        return self._tables.get(PromptVersionRow, version_id)

    def version_by_content(self, name: str, content_sha256: str) -> PromptVersionRow | None:
        return self._tables.first(PromptVersionRow, name=name, content_sha256=content_sha256)

    def latest(self, name: str, source: str | None = None) -> PromptVersionRow | None:
        rows = [row for row in self.versions(name) if source is None or row.source == source]
        return rows[0] if rows else None

    def label(self, name: str, label: str) -> PromptLabelRow | None:
        return self._tables.first(PromptLabelRow, name=name, label=label)

    def labels(self, name: str | None = None) -> Sequence[tuple[PromptLabelRow, int]]:
        found = []
        for row in self._tables.where(PromptLabelRow):
            version = self._tables.get(PromptVersionRow, row.version_id)
            if version is not None and (name is None or row.name == name):
                found.append((row, version.version))
        return sorted(found, key=lambda pair: (pair[0].name, pair[0].label))
