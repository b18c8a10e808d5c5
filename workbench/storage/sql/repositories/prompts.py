"""The SQL repository of the prompt registry: immutable versions and the labels that point at them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.storage.sql.models import PromptLabelRow, PromptVersionRow


class SqlPromptRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_version(self, row: PromptVersionRow) -> None:
        self._session.add(row)

    def add_label(self, row: PromptLabelRow) -> None:
        self._session.add(row)

    def delete_label(self, row: PromptLabelRow) -> None:
        self._session.delete(row)

    def names(self) -> Sequence[tuple[str, int, int, datetime]]:
        """(name, latest version, number of versions, last change) of every prompt, by name."""
        query = (
            select(
                PromptVersionRow.name,
                func.max(PromptVersionRow.version),
                func.count(),
                func.max(PromptVersionRow.created_at),
            )
            .group_by(PromptVersionRow.name)
            .order_by(PromptVersionRow.name)
        )
        return [(name, int(latest), int(count), at) for name, latest, count, at in self._session.execute(query)]

    def versions(self, name: str) -> Sequence[PromptVersionRow]:
        query = select(PromptVersionRow).where(PromptVersionRow.name == name).order_by(PromptVersionRow.version.desc())
        return self._session.scalars(query).all()

    def version(self, name: str, version: int) -> PromptVersionRow | None:
        query = select(PromptVersionRow).where(PromptVersionRow.name == name, PromptVersionRow.version == version)
        return self._session.scalar(query)

    def version_by_id(self, version_id: str) -> PromptVersionRow | None:
        return self._session.get(PromptVersionRow, version_id)

    def version_by_content(self, name: str, content_sha256: str) -> PromptVersionRow | None:
        query = select(PromptVersionRow).where(
            PromptVersionRow.name == name, PromptVersionRow.content_sha256 == content_sha256
        )
        return self._session.scalar(query)

    def latest(self, name: str, source: str | None = None) -> PromptVersionRow | None:
        query = select(PromptVersionRow).where(PromptVersionRow.name == name)
        if source is not None:
            query = query.where(PromptVersionRow.source == source)
        return self._session.scalar(query.order_by(PromptVersionRow.version.desc()).limit(1))

    def label(self, name: str, label: str) -> PromptLabelRow | None:
        query = select(PromptLabelRow).where(PromptLabelRow.name == name, PromptLabelRow.label == label)
        return self._session.scalar(query)

    def labels(self, name: str | None = None) -> Sequence[tuple[PromptLabelRow, int]]:
        """Labels with the version number they point at; of one prompt, or of all."""
        query = select(PromptLabelRow, PromptVersionRow.version).join(
            PromptVersionRow, PromptVersionRow.id == PromptLabelRow.version_id
        )
        if name is not None:
            query = query.where(PromptLabelRow.name == name)
        rows = self._session.execute(query.order_by(PromptLabelRow.name, PromptLabelRow.label))
        return [(label, int(version)) for label, version in rows]
