"""Typed SQLAlchemy models for the relational records. Alembic migrations in db/ mirror these."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names so migrations behave the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware datetimes (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_user_updated", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="New conversation")
    knowledge_base: Mapped[str | None] = mapped_column(String(128), nullable=True)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    prompt_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    messages: Mapped[list[MessageRow]] = relationship(
        back_populates="conversation", order_by="MessageRow.seq", cascade="all, delete-orphan"
    )


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        Index("ix_messages_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    prompt_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    prompt_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    input_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation: Mapped[ConversationRow] = relationship(back_populates="messages")


class FeedbackRow(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        # One opinion per person per message; a second click updates it.
        UniqueConstraint("message_id", "user_id", name="uq_feedback_message_user"),
        CheckConstraint("rating IN (-1, 1)", name="rating_sign"),
        Index("ix_feedback_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)  # +1 thumbs up, -1 thumbs down
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class KnowledgeBaseRow(Base):
    """A named document collection; its chunks live in one Chroma collection built by one embedding model."""

    __tablename__ = "knowledge_bases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    embedding_model: Mapped[str] = mapped_column(String(255))
    chunk_size: Mapped[int] = mapped_column(Integer)
    chunk_overlap: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class KbDocumentRow(Base):
    """One ingested file of a knowledge base; the content hash decides whether a re-run embeds it again."""

    __tablename__ = "kb_documents"
    __table_args__ = (
        UniqueConstraint("kb_id", "source", name="uq_kb_documents_kb_source"),
        CheckConstraint("status IN ('ok', 'failed')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kb_id: Mapped[str] = mapped_column(ForeignKey("knowledge_bases.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(512))
    content_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(128))
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


class PlaygroundRunRow(Base):
    """A playground session or dataset run: variants x input rows, each pair one cell.

    The lease (owner + expiry) lets exactly one runner work on a run at a time, across processes; a crashed
    runner's lease expires and the run can be resumed.
    """

    __tablename__ = "playground_runs"
    __table_args__ = (
        Index("ix_playground_runs_user_created", "user_id", "created_at"),
        CheckConstraint("kind IN ('interactive', 'dataset')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'running', 'stopped', 'done', 'failed')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    dataset_name: Mapped[str | None] = mapped_column(String(512), nullable=True)
    dataset_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # template variable -> dataset column
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    stop_requested: Mapped[bool] = mapped_column(default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PlaygroundVariantRow(Base):
    """One column of a run: the exact template text used (a saved version or a draft), a model and parameters."""

    __tablename__ = "playground_variants"
    __table_args__ = (UniqueConstraint("run_id", "position", name="uq_playground_variants_run_position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("playground_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    prompt_name: Mapped[str] = mapped_column(String(128))
    prompt_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: an unsaved draft
    template_text: Mapped[str] = mapped_column(Text)
    model_id: Mapped[str] = mapped_column(String(128))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # temperature, max_tokens, top_p
    system_prompt: Mapped[str | None] = mapped_column(Text, nullable=True)  # replaces the template's system


class PlaygroundInputRow(Base):
    """One input row of a run (the mapped dataset row, or the form's values), kept so a run can resume alone."""

    __tablename__ = "playground_inputs"
    __table_args__ = (UniqueConstraint("run_id", "row_index", name="uq_playground_inputs_run_row"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("playground_runs.id", ondelete="CASCADE"))
    row_index: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PlaygroundCellRow(Base):
    """The finished result of one variant on one input row; the unique key makes every cell happen once."""

    __tablename__ = "playground_cells"
    __table_args__ = (
        UniqueConstraint("run_id", "row_index", "position", name="uq_playground_cells_run_row_position"),
        CheckConstraint("status IN ('ok', 'error', 'timeout')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)  # also the run-log record's id
    run_id: Mapped[str] = mapped_column(ForeignKey("playground_runs.id", ondelete="CASCADE"))
    row_index: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    output: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    input_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tokens_estimated: Mapped[bool] = mapped_column(default=False)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The labelling tables live in their own module; importing it here registers them on Base.metadata wherever the
# models are loaded (the app, Alembic, the schema tests).
from workbench.storage.sql import evaluation_tables as _evaluation_tables  # noqa: E402, F401
from workbench.storage.sql import labelling_tables as _labelling_tables  # noqa: E402, F401
