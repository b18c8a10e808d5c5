"""The SQL repository of playground runs: their variants, input rows, cells and dispatch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from workbench.domain.clock import utcnow
from workbench.domain.runs import CellStatus, PlaygroundRunStatus
from workbench.storage.sql.models import PlaygroundCellRow, PlaygroundInputRow, PlaygroundRunRow, PlaygroundVariantRow
from workbench.storage.sql.repositories.dispatch import begin_dispatch, end_dispatch


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

    def has_cell(self, run_id: str, row_index: int, position: int) -> bool:
        query = select(PlaygroundCellRow.id).where(
            PlaygroundCellRow.run_id == run_id, PlaygroundCellRow.row_index == row_index,
            PlaygroundCellRow.position == position,
        )  # fmt: skip
        return self._session.scalar(query.limit(1)) is not None

    def variant(self, run_id: str, position: int) -> PlaygroundVariantRow | None:
        query = select(PlaygroundVariantRow).where(
            PlaygroundVariantRow.run_id == run_id, PlaygroundVariantRow.position == position
        )
        return self._session.scalars(query).first()

    def input_row(self, run_id: str, row_index: int) -> PlaygroundInputRow | None:
        query = select(PlaygroundInputRow).where(
            PlaygroundInputRow.run_id == run_id, PlaygroundInputRow.row_index == row_index
        )
        return self._session.scalars(query).first()

    def begin_dispatch(self, run_id: str, dispatch_id: str, now: datetime) -> bool:
        values = {"status": PlaygroundRunStatus.RUNNING, "error": None, "finished_at": None, "updated_at": now}
        return begin_dispatch(self._session, PlaygroundRunRow, run_id, dispatch_id, now, values)

    def end_dispatch(
        self, run_id: str, dispatch_id: str | None, status: str, error: str | None, finished_at: datetime | None
    ) -> bool:
        values = {"status": status, "error": error, "finished_at": finished_at, "updated_at": utcnow()}
        return end_dispatch(self._session, PlaygroundRunRow, run_id, dispatch_id, values)

    def dispatched_runs(self) -> Sequence[PlaygroundRunRow]:
        return self._session.scalars(select(PlaygroundRunRow).where(PlaygroundRunRow.dispatch_id.is_not(None))).all()

    def last_cell_at(self, run_id: str) -> datetime | None:
        return self._session.scalar(
            select(func.max(PlaygroundCellRow.created_at)).where(PlaygroundCellRow.run_id == run_id)
        )
