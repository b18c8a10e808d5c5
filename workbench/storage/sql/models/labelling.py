"""Rubrics, queues, items, assignments, labels, adjudications and golden datasets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.storage.sql.models.base import Base, UTCDateTime


class RubricRow(Base):
    __tablename__ = "rubrics"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RubricVersionRow(Base):
    """The fields of a rubric as they were at one time; labels point here, so edits never change them."""

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("rubric_id", "version", name="uq_rubric_versions_rubric_version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    rubric_id: Mapped[str] = mapped_column(ForeignKey("rubrics.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # Rubric.to_dict()
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabelQueueRow(Base):
    __tablename__ = "label_queues"
    __table_args__ = (
        CheckConstraint("annotators_per_item BETWEEN 1 AND 20", name="annotators_range"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    rubric_version_id: Mapped[str] = mapped_column(ForeignKey("rubric_versions.id", ondelete="CASCADE"), index=True)
    annotators_per_item: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabelQueueMemberRow(Base):
    """An annotator of a queue: only members are given its items."""

    __tablename__ = "label_queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "user_id", name="uq_label_queue_members_queue_user"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    queue_id: Mapped[str] = mapped_column(ForeignKey("label_queues.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabelItemRow(Base):
    """One thing to label, with a snapshot of what the annotator sees; in a queue once per source record."""

    __tablename__ = "label_items"
    __table_args__ = (
        UniqueConstraint("queue_id", "source_kind", "source_id", name="uq_label_items_queue_source"),
        CheckConstraint("source_kind IN ('chat', 'playground', 'eval', 'trace', 'draft')", name="source_known"),
        Index("ix_label_items_queue_created", "queue_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    queue_id: Mapped[str] = mapped_column(ForeignKey("label_queues.id", ondelete="CASCADE"))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # question, history, answer, chunks, metadata
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabelAssignmentRow(Base):
    """An item given to one annotator. Skipped assignments do not count towards the item's annotators."""

    __tablename__ = "label_assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "annotator_id", name="uq_label_assignments_item_annotator"),
        CheckConstraint("status IN ('assigned', 'submitted', 'skipped', 'flagged')", name="status_known"),
        Index("ix_label_assignments_queue_annotator", "queue_id", "annotator_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(ForeignKey("label_items.id", ondelete="CASCADE"))
    queue_id: Mapped[str] = mapped_column(ForeignKey("label_queues.id", ondelete="CASCADE"))
    annotator_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why skipped or flagged
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LabelRow(Base):
    """One annotator's label of one item, under the rubric version of its queue; revisable until adjudication."""

    __tablename__ = "labels"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("label_assignments.id", ondelete="CASCADE"), unique=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("label_items.id", ondelete="CASCADE"), index=True)
    annotator_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rubric_version_id: Mapped[str] = mapped_column(ForeignKey("rubric_versions.id", ondelete="CASCADE"))
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    chunk_relevance: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdjudicationRow(Base):
    """The final label of an item, set by a reviewer (or the majority they accepted), and who decided."""

    __tablename__ = "adjudications"
    __table_args__ = (CheckConstraint("method IN ('manual', 'majority')", name="method_known"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(ForeignKey("label_items.id", ondelete="CASCADE"), unique=True)
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    reviewer: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(16))
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    chunk_relevance: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoldenDatasetRow(Base):
    """A versioned export of adjudicated items: what the evaluation uses as references."""

    __tablename__ = "golden_datasets"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_golden_datasets_name_version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    queue_id: Mapped[str | None] = mapped_column(ForeignKey("label_queues.id", ondelete="SET NULL"), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    item_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoldenItemRow(Base):
    __tablename__ = "golden_items"
    __table_args__ = (UniqueConstraint("dataset_id", "position", name="uq_golden_items_dataset_position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("golden_datasets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    reference_answer: Mapped[str] = mapped_column(Text, default="")
    reference_contexts: Mapped[list[str]] = mapped_column(JSON, default=list)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # queue, item, source kind and id


# Any row of the labelling aggregate: what its repository's `add` accepts.
LabellingRow = (
    RubricRow | RubricVersionRow | LabelQueueRow | LabelQueueMemberRow | LabelItemRow | LabelAssignmentRow | LabelRow
    | AdjudicationRow | GoldenDatasetRow | GoldenItemRow
)  # fmt: skip
