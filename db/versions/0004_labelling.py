"""Feedback labelling: rubrics and their versions, queues and members, items, assignments, labels,
adjudications and golden datasets.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workbench.storage.sql.models import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rubrics",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rubrics"),
        sa.UniqueConstraint("name", name="uq_rubrics_name"),
    )
    op.create_table(
        "rubric_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("rubric_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rubric_id"], ["rubrics.id"], name="fk_rubric_versions_rubric_id_rubrics", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rubric_versions"),
        sa.UniqueConstraint("rubric_id", "version", name="uq_rubric_versions_rubric_version"),
    )
    op.create_table(
        "label_queues",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rubric_version_id", sa.String(length=32), nullable=False),
        sa.Column("annotators_per_item", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_label_queues_status_known"),
        sa.CheckConstraint("annotators_per_item BETWEEN 1 AND 20", name="ck_label_queues_annotators_range"),
        sa.ForeignKeyConstraint(
            ["rubric_version_id"],
            ["rubric_versions.id"],
            name="fk_label_queues_rubric_version_id_rubric_versions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_label_queues"),
        sa.UniqueConstraint("name", name="uq_label_queues_name"),
    )
    op.create_index("ix_label_queues_rubric_version_id", "label_queues", ["rubric_version_id"])

    op.create_table(
        "golden_datasets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.String(length=32), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["label_queues.id"], name="fk_golden_datasets_queue_id_label_queues", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_golden_datasets"),
        sa.UniqueConstraint("name", "version", name="uq_golden_datasets_name_version"),
    )
    op.create_table(
        "label_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("queue_id", sa.String(length=32), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "source_kind IN ('chat', 'playground', 'eval', 'draft')", name="ck_label_items_source_known"
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["label_queues.id"], name="fk_label_items_queue_id_label_queues", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_label_items"),
        sa.UniqueConstraint("queue_id", "source_kind", "source_id", name="uq_label_items_queue_source"),
    )
    op.create_index("ix_label_items_queue_created", "label_items", ["queue_id", "created_at"])

    op.create_table(
        "label_queue_members",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("queue_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["label_queues.id"], name="fk_label_queue_members_queue_id_label_queues", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_label_queue_members_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_label_queue_members"),
        sa.UniqueConstraint("queue_id", "user_id", name="uq_label_queue_members_queue_user"),
    )
    op.create_index("ix_label_queue_members_user_id", "label_queue_members", ["user_id"])

    op.create_table(
        "adjudications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("reviewer_id", sa.String(length=32), nullable=True),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("chunk_relevance", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("method IN ('manual', 'majority')", name="ck_adjudications_method_known"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["label_items.id"], name="fk_adjudications_item_id_label_items", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name="fk_adjudications_reviewer_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_adjudications"),
        sa.UniqueConstraint("item_id", name="uq_adjudications_item_id"),
    )
    op.create_table(
        "golden_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("reference_answer", sa.Text(), nullable=False),
        sa.Column("reference_contexts", sa.JSON(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["golden_datasets.id"],
            name="fk_golden_items_dataset_id_golden_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_golden_items"),
        sa.UniqueConstraint("dataset_id", "position", name="uq_golden_items_dataset_position"),
    )
    op.create_table(
        "label_assignments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("queue_id", sa.String(length=32), nullable=False),
        sa.Column("annotator_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('assigned', 'submitted', 'skipped', 'flagged')", name="ck_label_assignments_status_known"
        ),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["users.id"], name="fk_label_assignments_annotator_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["label_items.id"], name="fk_label_assignments_item_id_label_items", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["label_queues.id"], name="fk_label_assignments_queue_id_label_queues", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_label_assignments"),
        sa.UniqueConstraint("item_id", "annotator_id", name="uq_label_assignments_item_annotator"),
    )
    op.create_index("ix_label_assignments_queue_annotator", "label_assignments", ["queue_id", "annotator_id", "status"])

    op.create_table(
        "labels",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("annotator_id", sa.String(length=32), nullable=False),
        sa.Column("rubric_version_id", sa.String(length=32), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("chunk_relevance", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["users.id"], name="fk_labels_annotator_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["label_assignments.id"],
            name="fk_labels_assignment_id_label_assignments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["label_items.id"], name="fk_labels_item_id_label_items", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rubric_version_id"],
            ["rubric_versions.id"],
            name="fk_labels_rubric_version_id_rubric_versions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_labels"),
        sa.UniqueConstraint("assignment_id", name="uq_labels_assignment_id"),
    )
    op.create_index("ix_labels_item_id", "labels", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_labels_item_id", table_name="labels")

    op.drop_table("labels")
    op.drop_index("ix_label_assignments_queue_annotator", table_name="label_assignments")

    op.drop_table("label_assignments")
    op.drop_table("golden_items")
    op.drop_table("adjudications")
    op.drop_index("ix_label_queue_members_user_id", table_name="label_queue_members")

    op.drop_table("label_queue_members")
    op.drop_index("ix_label_items_queue_created", table_name="label_items")

    op.drop_table("label_items")
    op.drop_table("golden_datasets")
    op.drop_index("ix_label_queues_rubric_version_id", table_name="label_queues")

    op.drop_table("label_queues")
    op.drop_table("rubric_versions")
    op.drop_table("rubrics")
