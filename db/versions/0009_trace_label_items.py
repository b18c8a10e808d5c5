"""Label items may come from a trace (the Run log page and the API add them): the source check allows 'trace'.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workbench.storage.sql.models import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "source_kind IN ('chat', 'playground', 'eval', 'draft')"
NEW = "source_kind IN ('chat', 'playground', 'eval', 'trace', 'draft')"


# 0004 named the check twice over (the naming convention prefixed a name that had the prefix already); the new
# check takes the name the model gives it.
OLD_NAME = "ck_label_items_ck_label_items_source_known"
NEW_NAME = "ck_label_items_source_known"


def _label_items(check_name: str, condition: str) -> sa.Table:
    """The table as it stands before the change: SQLite's batch mode copies it (no reflection, so the offline
    `alembic upgrade --sql` script works too)."""
    return sa.Table(
        "label_items", sa.MetaData(),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("queue_id", sa.String(length=32), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(condition, name=check_name),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["label_queues.id"], name="fk_label_items_queue_id_label_queues", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_label_items"),
        sa.UniqueConstraint("queue_id", "source_kind", "source_id", name="uq_label_items_queue_source"),
        sa.Index("ix_label_items_queue_created", "queue_id", "created_at"),
    )  # fmt: skip


def _replace_check(dropped: tuple[str, str], created: tuple[str, str]) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table with the new check (PostgreSQL alters it).
    with op.batch_alter_table("label_items", copy_from=_label_items(*dropped)) as batch:
        batch.drop_constraint(op.f(dropped[0]), type_="check")
        batch.create_check_constraint(op.f(created[0]), created[1])


def upgrade() -> None:
    _replace_check((OLD_NAME, OLD), (NEW_NAME, NEW))


def downgrade() -> None:
    op.execute("DELETE FROM label_items WHERE source_kind = 'trace'")
    _replace_check((NEW_NAME, NEW), (OLD_NAME, OLD))
