"""Playground runs: every variant over every input row, each pair one cell, stored in SQL as it finishes.

The same code serves the side-by-side try on the Playground page (one row, the form's values, streamed) and
dataset runs (many rows, bounded concurrency, a progress callback). A run is resumable: its variants and input
rows are stored with it, a finished cell is never worked on again (the unique key (run, row, variant) holds it),
and a lease keeps two runners, in this process or another, off the same run. How one cell is worked, stored and
logged is in `cells`; the records handed out are in `records`.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta
from typing import Any

from workbench.domain.clock import utcnow
from workbench.domain.runs import PlaygroundRunStatus
from workbench.playground.cells import CellWorker, OnDelta, RunLogSink, Runtime
from workbench.playground.creation import new_run
from workbench.playground.errors import PlaygroundError, RunBusy
from workbench.playground.export import grid_csv
from workbench.playground.records import Cell, RunSnapshot, RunView, cell_of, run_view, variant_of
from workbench.playground.variants import Variant
from workbench.prompting.templates import PromptTemplate, TemplateError
from workbench.services.leases import LeaseHeartbeat, renewal, runner_name
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
        lease_s: float = 30.0,
    ) -> None:
        self._uow = uow_factory
        self._cells = CellWorker(uow_factory, runtime, runlog)
        self.max_concurrency = max_concurrency
        self.max_rows = max_rows
        self.lease = timedelta(seconds=lease_s)

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

    def execute(
        self,
        run_id: str,
        *,
        stop: threading.Event | None = None,
        on_cell: Callable[[Cell], None] | None = None,
        on_delta: OnDelta | None = None,
        retry_failed: bool = False,
        owner: str | None = None,
    ) -> RunView:
        """Work the run's missing cells, `concurrency` at a time, until done or stopped; returns the run after.

        stop: set it (or call request_stop from anywhere) to finish the cells in progress and start no more.
        on_cell(cell) after each stored cell; on_delta(row, position, text) as answers stream (worker threads).
        retry_failed: work the cells that ended in an error or timeout again.
        Raises RunBusy when another runner holds the run.
        """
        owner = owner or runner_name()
        stop = stop or threading.Event()
        run, variants, inputs, todo = self._claim(run_id, owner, retry_failed)
        templates: dict[int, PromptTemplate | TemplateError] = {}
        for position, variant in variants.items():
            try:
                templates[position] = variant.template
            except TemplateError as exc:
                templates[position] = exc
        failure: BaseException | None = None
        renew = renewal(self._uow, lambda uow: uow.playground, run_id, owner, self.lease)
        beat = LeaseHeartbeat(f"playground run {run_id}", renew, self.lease, stop)
        try:
            with beat:
                self._work(run, variants, templates, inputs, todo, stop, on_cell, on_delta)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self._release(run_id, owner, failure, beat.lost)
        return self.run(run_id)

    def request_stop(self, run_id: str) -> None:
        """Ask whoever runs this run (here or in another process) to stop after the cells in progress."""
        with self._uow() as uow:
            run = uow.playground.get(run_id)
            if run is not None and run.lease_owner is not None:
                run.stop_requested = True
                uow.commit()

    def _claim(
        self, run_id: str, owner: str, retry_failed: bool
    ) -> tuple[PlaygroundRunRow, dict[int, Variant], dict[int, dict[str, Any]], list[tuple[int, int]]]:
        now = utcnow()
        with self._uow() as uow:
            run = uow.playground.get(run_id)
            if run is None:
                raise PlaygroundError(f"There is no playground run {run_id}.")
            if not uow.playground.claim(run_id, owner, now, now + self.lease):
                uow.rollback()
                until = run.lease_expires_at.strftime("%H:%M:%S UTC") if run.lease_expires_at else "soon"
                raise RunBusy(
                    f"Run '{run.title}' is being worked on elsewhere ({run.lease_owner}); its lease ends at {until}. "
                    "Stop it there, or wait until the lease ends and resume it."
                )
            if retry_failed:
                uow.playground.delete_failed_cells(run_id)
            run.status, run.error, run.finished_at = PlaygroundRunStatus.RUNNING, None, None
            variants = {row.position: variant_of(row) for row in uow.playground.variants(run_id)}
            inputs = {row.row_index: dict(row.values) for row in uow.playground.inputs(run_id)}
            done = uow.playground.done_keys(run_id)
            uow.commit()
        # Row by row: the first rows of every variant finish first, so a stopped run is comparable so far.
        todo = [
            (row, position) for row in sorted(inputs) for position in sorted(variants) if (row, position) not in done
        ]
        return run, variants, inputs, todo

    def _work(
        self,
        run: PlaygroundRunRow,
        variants: dict[int, Variant],
        templates: dict[int, PromptTemplate | TemplateError],
        inputs: dict[int, dict[str, Any]],
        todo: list[tuple[int, int]],
        stop: threading.Event,
        on_cell: Callable[[Cell], None] | None,
        on_delta: OnDelta | None,
    ) -> None:
        pending: Iterator[tuple[int, int]] = iter(todo)
        in_flight: set[Future[Cell]] = set()
        limit = max(1, run.concurrency)
        # On an error the loop ends; leaving the pool waits for the cells in progress, which are stored.
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix=f"playground-{run.id[:8]}") as pool:
            while True:
                while len(in_flight) < limit and not stop.is_set():
                    key = next(pending, None)
                    if key is None:
                        break
                    row, position = key
                    in_flight.add(
                        pool.submit(
                            self._cells.work,
                            run,
                            variants[position],
                            templates[position],
                            row,
                            position,
                            inputs[row],
                            on_delta,
                        )
                    )
                if not in_flight:
                    return
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    cell = future.result()
                    if on_cell is not None:
                        on_cell(cell)

    def _release(self, run_id: str, owner: str, failure: BaseException | None, lost: bool) -> None:
        if lost:
            return  # someone else holds the run now: its state is theirs to record
        try:
            with self._uow() as uow:
                run = uow.playground.get(run_id)
                if run is None:
                    return
                done = len(uow.playground.done_keys(run_id))
                total = run.row_count * len(uow.playground.variants(run_id))
                error = None
                if isinstance(failure, KeyboardInterrupt):  # Ctrl-C: a stop, not a failure
                    status = PlaygroundRunStatus.STOPPED
                elif failure is not None:
                    status, error = PlaygroundRunStatus.FAILED, _failure_text(failure)
                else:
                    status = PlaygroundRunStatus.DONE if done >= total else PlaygroundRunStatus.STOPPED
                finished_at = utcnow() if status == PlaygroundRunStatus.DONE else None
                # Conditional on still holding the lease: a runner that lost it never clears the new owner's.
                if not uow.playground.release(run_id, owner, status, error, finished_at):
                    uow.rollback()
                    return
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - the lease expires by itself; the run stays resumable
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


def _failure_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
