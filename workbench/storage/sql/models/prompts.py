"""Prompt versions (immutable) and the labels that point at them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.storage.sql.models.base import Base, UTCDateTime


class PromptVersionRow(Base):
    """One immutable content of a prompt template. Saving the same content again finds this row, never a copy."""

    __tablename__ = "prompt_versions"
    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_prompt_versions_name_version"),
        UniqueConstraint("name", "content_sha256", name="uq_prompt_versions_name_content"),
        CheckConstraint("source IN ('file', 'ui', 'cli')", name="source_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    author: Mapped[str] = mapped_column(String(128))  # a username, or the file a version was picked up from
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PromptLabelRow(Base):
    """A movable name (production, staging, …) pointing at one version of a prompt."""

    __tablename__ = "prompt_labels"
    __table_args__ = (UniqueConstraint("name", "label", name="uq_prompt_labels_name_label"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(32))
    version_id: Mapped[str] = mapped_column(ForeignKey("prompt_versions.id", ondelete="CASCADE"), index=True)
    moved_by: Mapped[str] = mapped_column(String(128))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
