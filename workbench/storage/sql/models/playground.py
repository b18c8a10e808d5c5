"""Playground runs: variants by input rows, one cell per pair."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.domain.runs import PlaygroundRunStatus
from workbench.storage.sql.models.base import Base, UTCDateTime


class PlaygroundRunRow(Base):
    """A playground session or dataset run: variants x input rows, each pair one cell.

    While a run is worked, `dispatch_id` holds the id of its current dispatch (one start or resume); the tasks of
    any other dispatch find it changed and do nothing. A stopped, failed or finished run holds none.
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
    status: Mapped[str] = mapped_column(String(16), default=PlaygroundRunStatus.PENDING.value)
    dataset_name: Mapped[str | None] = mapped_column(String(512), nullable=True)
    dataset_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # template variable -> dataset column
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    dispatch_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # when the last began
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
