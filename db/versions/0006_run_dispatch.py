"""Runs are worked as tasks on a queue: a dispatch id per run replaces the lease and the stop flag.

A run being worked holds the id of its current dispatch; tasks of any other dispatch (sent before a stop or a
resume) find it changed and do nothing. Runs left `running` under the old leases are marked `stopped`, so they
can be resumed on the queue.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workbench.storage.sql.models import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("playground_runs", "eval_runs")


def upgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(f"UPDATE {table} SET status = 'stopped' WHERE status = 'running'"))
        # Plain ALTER TABLE (SQLite has dropped columns since 3.35): no table copy, and an offline script works.
        op.add_column(table, sa.Column("dispatch_id", sa.String(length=32), nullable=True))
        op.add_column(table, sa.Column("dispatched_at", UTCDateTime(), nullable=True))
        for column in ("lease_owner", "lease_expires_at", "stop_requested"):
            op.drop_column(table, column)


def downgrade() -> None:
    owner_length = {"playground_runs": 64, "eval_runs": 80}
    for table in TABLES:
        op.add_column(table, sa.Column("stop_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
        op.add_column(table, sa.Column("lease_owner", sa.String(length=owner_length[table]), nullable=True))
        op.add_column(table, sa.Column("lease_expires_at", UTCDateTime(), nullable=True))
        op.drop_column(table, "dispatched_at")
        op.drop_column(table, "dispatch_id")
