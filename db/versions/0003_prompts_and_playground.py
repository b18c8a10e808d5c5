"""Prompt registry (versions and labels) and playground runs (variants, inputs, cells).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workbench.storage.sql.models import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "playground_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dataset_name", sa.String(length=512), nullable=True),
        sa.Column("dataset_sha256", sa.String(length=64), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('interactive', 'dataset')", name="ck_playground_runs_kind_known"),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'stopped', 'done', 'failed')", name="ck_playground_runs_status_known"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_playground_runs_user_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_playground_runs"),
    )
    op.create_index("ix_playground_runs_user_created", "playground_runs", ["user_id", "created_at"])

    op.create_table(
        "prompt_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("source IN ('file', 'ui', 'cli')", name="ck_prompt_versions_source_known"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name="fk_prompt_versions_author_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prompt_versions"),
        sa.UniqueConstraint("name", "content_sha256", name="uq_prompt_versions_name_content"),
        sa.UniqueConstraint("name", "version", name="uq_prompt_versions_name_version"),
    )
    op.create_table(
        "playground_cells",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("tokens_estimated", sa.Boolean(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('ok', 'error', 'timeout')", name="ck_playground_cells_status_known"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["playground_runs.id"], name="fk_playground_cells_run_id_playground_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_playground_cells"),
        sa.UniqueConstraint("run_id", "row_index", "position", name="uq_playground_cells_run_row_position"),
    )
    op.create_table(
        "playground_inputs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["playground_runs.id"], name="fk_playground_inputs_run_id_playground_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_playground_inputs"),
        sa.UniqueConstraint("run_id", "row_index", name="uq_playground_inputs_run_row"),
    )
    op.create_table(
        "playground_variants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prompt_name", sa.String(length=128), nullable=False),
        sa.Column("prompt_version", sa.Integer(), nullable=True),
        sa.Column("template_text", sa.Text(), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["playground_runs.id"], name="fk_playground_variants_run_id_playground_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_playground_variants"),
        sa.UniqueConstraint("run_id", "position", name="uq_playground_variants_run_position"),
    )
    op.create_table(
        "prompt_labels",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("moved_by", sa.String(length=128), nullable=False),
        sa.Column("moved_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["prompt_versions.id"],
            name="fk_prompt_labels_version_id_prompt_versions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prompt_labels"),
        sa.UniqueConstraint("name", "label", name="uq_prompt_labels_name_label"),
    )
    op.create_index("ix_prompt_labels_version_id", "prompt_labels", ["version_id"])


def downgrade() -> None:
    op.drop_index("ix_prompt_labels_version_id", table_name="prompt_labels")

    op.drop_table("prompt_labels")
    op.drop_table("playground_variants")
    op.drop_table("playground_inputs")
    op.drop_table("playground_cells")
    op.drop_table("prompt_versions")
    op.drop_index("ix_playground_runs_user_created", table_name="playground_runs")

    op.drop_table("playground_runs")
