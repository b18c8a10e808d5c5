"""Eval datasets and their versions and items; eval runs, results, scores and summaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.domain.runs import EvalRunStatus
from workbench.storage.sql.models.base import Base, UTCDateTime


class EvalDatasetRow(Base):
    __tablename__ = "eval_datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvalDatasetVersionRow(Base):
    """An immutable set of items; a change to a dataset is a new version, so runs keep what they measured."""

    __tablename__ = "eval_dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version", name="uq_eval_dataset_versions_dataset_version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("eval_datasets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # import | golden | generator | sample
    source_detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # file, sha256, mapping, golden ref
    item_count: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvalItemRow(Base):
    """One question of a dataset version. `item_key` (a hash of the question) pairs items across versions."""

    __tablename__ = "eval_items"
    __table_args__ = (UniqueConstraint("version_id", "position", name="uq_eval_items_version_position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("eval_dataset_versions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    item_key: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    reference_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    reference_contexts: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # unmapped columns, source ids


class EvalRunRow(Base):
    """A dataset version run through one pipeline configuration. `config_hash` groups repeats of one configuration."""

    __tablename__ = "eval_runs"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'stopped', 'completed', 'failed')", name="status_known"),
        Index("ix_eval_runs_version_created", "version_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("eval_dataset_versions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)  # EvalConfig.to_dict() as resolved at creation
    config_hash: Mapped[str] = mapped_column(String(64), index=True)
    repeat: Mapped[int] = mapped_column(Integer, default=1)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # library versions, host
    status: Mapped[str] = mapped_column(String(16), default=EvalRunStatus.PENDING.value)
    item_count: Mapped[int] = mapped_column(Integer)
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)  # items whose answer could not be produced
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    dispatch_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # while worked: see PlaygroundRunRow
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EvalResultRow(Base):
    """What the pipeline produced for one item in one run: one per run and item, so resuming never scores twice."""

    __tablename__ = "eval_results"
    __table_args__ = (
        UniqueConstraint("run_id", "item_id", name="uq_eval_results_run_item"),
        CheckConstraint("status IN ('ok', 'failed')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(ForeignKey("eval_items.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text, default="")
    contexts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # text, source, score
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvalScoreRow(Base):
    """One metric of one item in one run: a value, or a failure with its cause (never a silent NaN)."""

    __tablename__ = "eval_scores"
    __table_args__ = (
        UniqueConstraint("run_id", "metric", "item_id", name="uq_eval_scores_run_metric_item"),
        CheckConstraint("status IN ('ok', 'failed', 'skipped')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(ForeignKey("eval_items.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(32))
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class EvalSummaryRow(Base):
    """A run's aggregate of one metric, refreshed while the run goes on and when it stops or ends: the dashboard
    reads these."""

    __tablename__ = "eval_summaries"
    __table_args__ = (UniqueConstraint("run_id", "metric", name="uq_eval_summaries_run_metric"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(64))
    n_ok: Mapped[int] = mapped_column(Integer)
    n_failed: Mapped[int] = mapped_column(Integer)
    n_skipped: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    failures: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # cause -> count
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Any row of the evaluation aggregate: what its repository's `add` accepts.
EvaluationRow = (
    EvalDatasetRow | EvalDatasetVersionRow | EvalItemRow | EvalRunRow | EvalResultRow | EvalScoreRow | EvalSummaryRow
)
