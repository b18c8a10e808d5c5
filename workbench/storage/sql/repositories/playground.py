"""The SQL repository of playground runs: their variants, input rows, cells and lease."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from workbench.domain.clock import utcnow
from workbench.domain.runs import CellStatus
from workbench.storage.sql.models import PlaygroundCellRow, PlaygroundInputRow, PlaygroundRunRow, PlaygroundVariantRow


class SqlPlaygroundRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_run(
        self, run: PlaygroundRunRow, variants: Sequence[PlaygroundVariantRow], inputs: Sequence[PlaygroundInputRow]
    ) -> None:
        self._session.add(run)
        self._session.flush()  # the run first: its variants and inputs refer to it (no ORM relationships here)
        self._session.add_all([*variants, *inputs])

    def add_cell(self, cell: PlaygroundCellRow) -> None:
        self._session.add(cell)

    def get(self, run_id: str) -> PlaygroundRunRow | None:
        return self._session.get(PlaygroundRunRow, run_id)

    def list_runs(self, user_id: str | None = None, limit: int = 50) -> Sequence[PlaygroundRunRow]:
        query = select(PlaygroundRunRow)
        if user_id is not None:
            query = query.where(PlaygroundRunRow.user_id == user_id)
        return self._session.scalars(query.order_by(PlaygroundRunRow.created_at.desc()).limit(limit)).all()

    def variants(self, run_id: str) -> Sequence[PlaygroundVariantRow]:
        query = select(PlaygroundVariantRow).where(PlaygroundVariantRow.run_id == run_id)
        return self._session.scalars(query.order_by(PlaygroundVariantRow.position)).all()

    def inputs(self, run_id: str) -> Sequence[PlaygroundInputRow]:
        query = select(PlaygroundInputRow).where(PlaygroundInputRow.run_id == run_id)
        return self._session.scalars(query.order_by(PlaygroundInputRow.row_index)).all()

    def cells(self, run_id: str) -> Sequence[PlaygroundCellRow]:
        query = select(PlaygroundCellRow).where(PlaygroundCellRow.run_id == run_id)
        return self._session.scalars(query.order_by(PlaygroundCellRow.row_index, PlaygroundCellRow.position)).all()

    def done_keys(self, run_id: str) -> set[tuple[int, int]]:
        """(row index, variant position) of every finished cell."""
        query = select(PlaygroundCellRow.row_index, PlaygroundCellRow.position).where(
            PlaygroundCellRow.run_id == run_id
        )
        return {(int(row), int(position)) for row, position in self._session.execute(query)}

    def cell_counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """run id -> {status: number of cells}."""
        query = (
            select(PlaygroundCellRow.run_id, PlaygroundCellRow.status, func.count())
            .where(PlaygroundCellRow.run_id.in_(list(run_ids)))
            .group_by(PlaygroundCellRow.run_id, PlaygroundCellRow.status)
        )
        counts: dict[str, dict[str, int]] = {}
        for run_id, status, count in self._session.execute(query):
            counts.setdefault(run_id, {})[status] = int(count)
        return counts

    def variant_counts(self, run_ids: Sequence[str]) -> dict[str, int]:
        query = (
            select(PlaygroundVariantRow.run_id, func.count())
            .where(PlaygroundVariantRow.run_id.in_(list(run_ids)))
            .group_by(PlaygroundVariantRow.run_id)
        )
        return {run_id: int(count) for run_id, count in self._session.execute(query)}

    def delete_failed_cells(self, run_id: str) -> int:
        failed = PlaygroundCellRow.status != CellStatus.OK
        query = delete(PlaygroundCellRow).where(PlaygroundCellRow.run_id == run_id, failed)
        return int(self._session.execute(query).rowcount or 0)  # type: ignore[attr-defined]

    def claim(self, run_id: str, owner: str, now: datetime, expires_at: datetime) -> bool:
        """Take the run's lease when it is free, expired or already ours; True when taken (atomic)."""
        query = (
            update(PlaygroundRunRow)
            .where(
                PlaygroundRunRow.id == run_id,
                or_(
                    PlaygroundRunRow.lease_owner.is_(None),
                    PlaygroundRunRow.lease_owner == owner,
                    and_(PlaygroundRunRow.lease_expires_at.is_not(None), PlaygroundRunRow.lease_expires_at < now),
                ),
            )
            .values(lease_owner=owner, lease_expires_at=expires_at, stop_requested=False)
            .execution_options(synchronize_session=False)
        )
        return bool(self._session.execute(query).rowcount)  # type: ignore[attr-defined]

    def renew(self, run_id: str, owner: str, expires_at: datetime) -> bool:
        """Extend our lease; False when it was taken from us (we then stop)."""
        query = (
            update(PlaygroundRunRow)
            .where(PlaygroundRunRow.id == run_id, PlaygroundRunRow.lease_owner == owner)
            .values(lease_expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
        return bool(self._session.execute(query).rowcount)  # type: ignore[attr-defined]

    def release(self, run_id: str, owner: str, status: str, error: str | None, finished_at: datetime | None) -> bool:
        """Record how the run ended and free its lease, only while `owner` holds it; True when it did."""
        query = (
            update(PlaygroundRunRow)
            .where(PlaygroundRunRow.id == run_id, PlaygroundRunRow.lease_owner == owner)
            .values(status=status, error=error, finished_at=finished_at, lease_owner=None, lease_expires_at=None,
                    stop_requested=False, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return bool(self._session.execute(query).rowcount)  # type: ignore[attr-defined]

    def stop_requested(self, run_id: str) -> bool:
        return bool(self._session.scalar(select(PlaygroundRunRow.stop_requested).where(PlaygroundRunRow.id == run_id)))
