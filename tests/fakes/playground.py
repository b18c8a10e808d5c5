"""The in-memory repository of playground runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from tests.fakes import dispatch
from tests.fakes.tables import Tables
from workbench.domain.clock import utcnow
from workbench.storage.sql.models import PlaygroundCellRow, PlaygroundInputRow, PlaygroundRunRow, PlaygroundVariantRow


class FakePlaygroundRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add_run(
        self, run: PlaygroundRunRow, variants: Sequence[PlaygroundVariantRow], inputs: Sequence[PlaygroundInputRow]
    ) -> None:
        for row in (run, *variants, *inputs):
            self._tables.add(row)

    def add_cell(self, cell: PlaygroundCellRow) -> None:
        self._tables.add(cell)

    def get(self, run_id: str) -> PlaygroundRunRow | None:
        return self._tables.get(PlaygroundRunRow, run_id)

    def list_runs(self, user_id: str | None = None, limit: int = 50) -> Sequence[PlaygroundRunRow]:
        runs = self._tables.where(PlaygroundRunRow, lambda row: user_id is None or row.user_id == user_id)
        return sorted(runs, key=lambda row: row.created_at, reverse=True)[:limit]

    def variants(self, run_id: str) -> Sequence[PlaygroundVariantRow]:
        return sorted(self._tables.where(PlaygroundVariantRow, run_id=run_id), key=lambda row: row.position)

    def inputs(self, run_id: str) -> Sequence[PlaygroundInputRow]:
        return sorted(self._tables.where(PlaygroundInputRow, run_id=run_id), key=lambda row: row.row_index)

    def cells(self, run_id: str) -> Sequence[PlaygroundCellRow]:
        cells = self._tables.where(PlaygroundCellRow, run_id=run_id)
        return sorted(cells, key=lambda row: (row.row_index, row.position))

    def done_keys(self, run_id: str) -> set[tuple[int, int]]:
        return {(row.row_index, row.position) for row in self._tables.where(PlaygroundCellRow, run_id=run_id)}

    def cell_counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for row in self._tables.where(PlaygroundCellRow, lambda row: row.run_id in run_ids):
            by_status = counts.setdefault(row.run_id, {})
            by_status[row.status] = by_status.get(row.status, 0) + 1
        return counts

    def variant_counts(self, run_ids: Sequence[str]) -> dict[str, int]:
        return dict(Counter(row.run_id for row in self._tables.where(PlaygroundVariantRow) if row.run_id in run_ids))

    def delete_failed_cells(self, run_id: str) -> int:
        failed = self._tables.where(PlaygroundCellRow, lambda row: row.status != "ok", run_id=run_id)
        for row in failed:
            self._tables.delete(row)
        return len(failed)

    def has_cell(self, run_id: str, row_index: int, position: int) -> bool:
        return bool(self._tables.where(PlaygroundCellRow, run_id=run_id, row_index=row_index, position=position))

    def variant(self, run_id: str, position: int) -> PlaygroundVariantRow | None:
        return next(iter(self._tables.where(PlaygroundVariantRow, run_id=run_id, position=position)), None)

    def input_row(self, run_id: str, row_index: int) -> PlaygroundInputRow | None:
        return next(iter(self._tables.where(PlaygroundInputRow, run_id=run_id, row_index=row_index)), None)

    def begin_dispatch(self, run_id: str, dispatch_id: str, now: datetime) -> bool:
        values = {"status": "running", "error": None, "finished_at": None, "updated_at": now, "dispatched_at": now}
        return dispatch.begin(self.get(run_id), dispatch_id, **values)

    def end_dispatch(
        self, run_id: str, dispatch_id: str | None, status: str, error: str | None, finished_at: datetime | None
    ) -> bool:
        values = {"status": status, "error": error, "finished_at": finished_at, "updated_at": utcnow()}
        return dispatch.end(self.get(run_id), dispatch_id, **values)

    def dispatched_runs(self) -> Sequence[PlaygroundRunRow]:
        return self._tables.where(PlaygroundRunRow, lambda row: row.dispatch_id is not None)

    def last_cell_at(self, run_id: str) -> datetime | None:
        return max((row.created_at for row in self._tables.where(PlaygroundCellRow, run_id=run_id)), default=None)
