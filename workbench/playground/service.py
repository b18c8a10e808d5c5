"""Playground runs: every variant over every input row, each pair one cell, stored in SQL as it finishes.

The same code serves the side-by-side try on the Playground page (one row, the form's values, streamed) and
dataset runs (many rows, bounded concurrency, a progress callback). A run is resumable: its variants and input
rows are stored with it, a finished cell is never worked on again (the unique key (run, row, variant) holds it).
Dataset runs are worked as tasks by queue workers (one per cell); each start or resume is a dispatch the run holds
while worked, so a stop drops the tasks still queued. How one cell is worked, stored and
logged is in `cells`; the records handed out are in `records`.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.domain.runs import Dispatch, PlaygroundRunStatus
from workbench.domain.runs import quiet_for as runs_quiet_for
from workbench.domain.work import work_in_threads
from workbench.playground.cells import CellWorker, OnDelta, RunLogSink, Runtime
from workbench.playground.creation import new_run
from workbench.playground.errors import PlaygroundError, RunBusy
from workbench.playground.export import grid_csv
from workbench.playground.records import Cell, RunSnapshot, RunView, cell_of, run_view, variant_of
from workbench.playground.variants import Variant
from workbench.prompting.templates import PromptTemplate, TemplateError
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import PlaygroundRunRow

# The records and errors callers get from this service are importable from here too.
__all__ = ["Cell", "PlaygroundError", "PlaygroundService", "RunBusy", "RunSnapshot", "RunView"]

log = logging.getLogger(__name__)


class PlaygroundService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        runtime: Runtime,
        runlog: RunLogSink,
        *,
        max_concurrency: int = 4,
        max_rows: int = 5_000,
    ) -> None:
        self._uow = uow_factory
        self._cells = CellWorker(uow_factory, runtime, runlog)
        self.max_concurrency = max_concurrency
        self.max_rows = max_rows

    # Creating ---------------------------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        user_id: str | None,
        variants: Sequence[Variant],
        rows: Sequence[Mapping[str, Any]],
        kind: str = "dataset",
        title: str = "",
        mapping: Mapping[str, str] | None = None,
        dataset_name: str | None = None,
        dataset_sha256: str | None = None,
        concurrency: int = 1,
    ) -> str:
        """Store a run with its variants and input rows (values per template variable); returns its id."""
        planned = new_run(
            user_id=user_id, variants=variants, rows=rows, kind=kind, title=title, mapping=mapping,
            dataset_name=dataset_name, dataset_sha256=dataset_sha256, concurrency=concurrency,
            max_rows=self.max_rows, max_concurrency=self.max_concurrency,
        )  # fmt: skip
        with self._uow() as uow:
            uow.playground.add_run(planned.run, planned.variants, planned.inputs)
            uow.commit()
        return planned.run.id

    # Running ----------------------------------------------------------------------------------------------------
    # A run is worked as one task per missing cell (`work_cell`), by queue workers or by `execute` here. Each start
    # or resume is a dispatch: the run holds its id while worked, and a task of another dispatch does nothing.

    def dispatch(self, run_id: str, *, retry_failed: bool = False) -> Dispatch:
        """Give the run a new dispatch over its missing cells (units [row, position], row by row: the first rows
        of every variant finish first, so a stopped run is comparable so far). Raises RunBusy when it is being
        worked already; a run with nothing left to do is recorded as done at once."""
        dispatch_id, now = new_id(), utcnow()
        with self._uow() as uow:
            run = uow.playground.get(run_id)
            if run is None:
                raise PlaygroundError(f"There is no playground run {run_id}.")
            if not uow.playground.begin_dispatch(run_id, dispatch_id, now):
                uow.rollback()
                raise RunBusy(f"Run '{run.title}' is being worked on already. Stop it first, or wait until it ends.")
            if retry_failed:
                uow.playground.delete_failed_cells(run_id)
            units = _missing_cells(uow, run)
            if not units:
                uow.playground.end_dispatch(run_id, dispatch_id, PlaygroundRunStatus.DONE, None, utcnow())
            uow.commit()
        return Dispatch(run_id, dispatch_id, units)

    def work_cell(
        self, run_id: str, dispatch_id: str, row: int, position: int, on_delta: OnDelta | None = None
    ) -> Cell | None:
        """Work and store one cell of a dispatch (one queue task); safe to run twice. None when there was nothing
        to do: the run was stopped, resumed anew or deleted, or the cell is stored already."""
        with self._uow() as uow:
            run = uow.playground.get(run_id)
            if run is None or run.dispatch_id != dispatch_id:
                return None
            variant_row = uow.playground.variant(run_id, position)
            inputs = uow.playground.input_row(run_id, row)
            stored = uow.playground.has_cell(run_id, row, position)
            uow.commit()  # expire_on_commit is off: the rows read stay readable after the session
        cell = None
        if variant_row is not None and inputs is not None and not stored:
            variant = variant_of(variant_row)
            template: PromptTemplate | TemplateError
            try:
                template = variant.template
            except TemplateError as exc:
                template = exc
            cell = self._cells.work(run, variant, template, row, position, dict(inputs.values), on_delta)
        self._after_cell(run_id, dispatch_id, run.row_count)
        return cell

    def execute(
        self,
        run_id: str,
        *,
        stop: threading.Event | None = None,
        on_cell: Callable[[Cell], None] | None = None,
        on_delta: OnDelta | None = None,
        retry_failed: bool = False,
    ) -> RunView:
        """Work the run's missing cells in this process, `concurrency` at a time, until done or stopped; returns
        the run after.

        stop: set it (or call request_stop from anywhere) to finish the cells in progress and start no more.
        on_cell(cell) after each stored cell; on_delta(row, position, text) as answers stream (worker threads).
        retry_failed: work the cells that ended in an error or timeout again.
        Raises RunBusy when it is being worked already.
        """
        stop = stop or threading.Event()
        dispatch = self.dispatch(run_id, retry_failed=retry_failed)
        with self._uow() as uow:
            run = uow.playground.get(run_id)
            concurrency = run.concurrency if run is not None else 1
        units = [partial(self.work_cell, run_id, dispatch.id, unit[0], unit[1], on_delta) for unit in dispatch.units]
        try:
            for cell in work_in_threads(units, concurrency, stop, f"playground-{run_id[:8]}"):
                if cell is not None and on_cell is not None:
                    on_cell(cell)
        except KeyboardInterrupt:  # Ctrl-C: a stop, not a failure
            self._end_quietly(run_id, dispatch.id, PlaygroundRunStatus.STOPPED)
            raise
        except BaseException as exc:
            self._end_quietly(run_id, dispatch.id, PlaygroundRunStatus.FAILED, _failure_text(exc))
            raise
        if stop.is_set():
            self._end_quietly(run_id, dispatch.id, PlaygroundRunStatus.STOPPED)
        return self.run(run_id)

    def request_stop(self, run_id: str) -> None:
        """Stop the run wherever it is worked: queued cells are not started; those in progress finish and are
        stored."""
        with self._uow() as uow:
            uow.playground.end_dispatch(run_id, None, PlaygroundRunStatus.STOPPED, None, None)
            uow.commit()

    def fail(self, run_id: str, dispatch_id: str, message: str) -> None:
        """Record that a dispatch could not go on (a task failed for good, the queue did not take it): resumable."""
        self._end_quietly(run_id, dispatch_id, PlaygroundRunStatus.FAILED, message[:2000])

    def stalled(self, quiet_for: timedelta) -> list[Dispatch]:
        """Runs being worked with no cell for `quiet_for` since their dispatch began, with their missing cells
        under their current dispatch (see workbench.worker.reconcile)."""
        now, found = utcnow(), []
        with self._uow() as uow:
            for run in uow.playground.dispatched_runs():
                last = uow.playground.last_cell_at(run.id)
                if run.dispatch_id is None or not runs_quiet_for(last, run.dispatched_at, now, quiet_for):
                    continue
                units = _missing_cells(uow, run)
                if units:
                    found.append(Dispatch(run.id, run.dispatch_id, units))
        return found

    def progress(self, run_id: str) -> tuple[bool, str | None]:
        """(being worked, why its last dispatch failed) in one read."""
        with self._uow() as uow:
            run = uow.playground.get(run_id)
            if run is None:
                raise PlaygroundError(f"There is no playground run {run_id}.")
            return run.dispatch_id is not None, run.error

    def _after_cell(self, run_id: str, dispatch_id: str, row_count: int) -> None:
        """Count after the cell's own commit (the last worker to commit sees every cell); record the end when every
        cell is stored."""
        with self._uow() as uow:
            done = sum(uow.playground.cell_counts([run_id]).get(run_id, {}).values())
            if done >= row_count * len(uow.playground.variants(run_id)):
                uow.playground.end_dispatch(run_id, dispatch_id, PlaygroundRunStatus.DONE, None, utcnow())
            uow.commit()

    def _end_quietly(
        self, run_id: str, dispatch_id: str, status: PlaygroundRunStatus, error: str | None = None
    ) -> None:  # fmt: skip
        try:
            with self._uow() as uow:
                uow.playground.end_dispatch(run_id, dispatch_id, status, error, None)
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - the run stays resumable: Stop, then Resume, ends it by hand
            log.warning("playground run %s: could not record the end of the run: %s", run_id, exc)

    # Reading ----------------------------------------------------------------------------------------------------

    def runs(self, user_id: str | None = None, limit: int = 50) -> list[RunView]:
        with self._uow() as uow:
            rows = uow.playground.list_runs(user_id, limit)
            ids = [row.id for row in rows]
            counts, variants = uow.playground.cell_counts(ids), uow.playground.variant_counts(ids)
            return [run_view(row, variants.get(row.id, 0), counts.get(row.id, {})) for row in rows]

    def snapshot(self, run_id: str) -> RunSnapshot:
        """The run, its variants, inputs and finished cells, consistent with each other."""
        with self._uow() as uow:
            row = uow.playground.get(run_id)
            if row is None:
                raise PlaygroundError(f"There is no playground run {run_id}.")
            variants = [variant_of(v) for v in uow.playground.variants(run_id)]
            cells = [cell_of(c) for c in uow.playground.cells(run_id)]
            # Counted from the cells read here, so the progress and the grid always agree.
            counts: dict[str, int] = dict(Counter(cell.status for cell in cells))
            return RunSnapshot(
                run=run_view(row, len(variants), counts),
                variants=variants,
                inputs=[dict(i.values) for i in uow.playground.inputs(run_id)],
                cells=cells,
            )

    def run(self, run_id: str) -> RunView:
        with self._uow() as uow:
            row = uow.playground.get(run_id)
            if row is None:
                raise PlaygroundError(f"There is no playground run {run_id}.")
            counts = uow.playground.cell_counts([run_id]).get(run_id, {})
            return run_view(row, len(uow.playground.variants(run_id)), counts)

    def variants(self, run_id: str) -> list[Variant]:
        with self._uow() as uow:
            return [variant_of(row) for row in uow.playground.variants(run_id)]

    def inputs(self, run_id: str) -> list[dict[str, Any]]:
        with self._uow() as uow:
            return [dict(row.values) for row in uow.playground.inputs(run_id)]

    def cells(self, run_id: str) -> list[Cell]:
        with self._uow() as uow:
            return [cell_of(row) for row in uow.playground.cells(run_id)]

    def export_csv(self, run_id: str) -> str:
        """The grid as CSV: one line per input row, its values, then per variant output, status and figures."""
        return grid_csv(self.snapshot(run_id))


def _missing_cells(uow: UnitOfWork, run: PlaygroundRunRow) -> list[list[Any]]:
    """The task units [row, position] of the run's missing cells, row by row."""
    positions = sorted(v.position for v in uow.playground.variants(run.id))
    done = uow.playground.done_keys(run.id)
    return [[row, position] for row in range(run.row_count) for position in positions if (row, position) not in done]


def _failure_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
