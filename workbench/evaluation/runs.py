"""Eval runs: a dataset version run through one pinned pipeline configuration, item by item, resumable.

Each item is one task: answered, scored and stored in one transaction, by a queue worker anywhere or by `execute`
in this process. A unique key on (run, item) means a task delivered twice, or a resumed run, never scores an item
twice. Each start or resume is a dispatch the run holds while worked; stopping clears it, so queued tasks of that
dispatch do nothing. A run's per-metric summaries are recomputed every SUMMARY_REFRESH_S while it goes on
and when it stops or ends, so the dashboard reads aggregates instead of every score. How one item is answered,
scored and stored is in `scoring`; the record handed out is `run_view.RunView`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.domain.runs import Dispatch, EvalRunStatus, RunBeingWorked
from workbench.domain.runs import quiet_for as runs_quiet_for
from workbench.domain.work import work_in_threads
from workbench.evaluation.config import EvalConfig, config_hash
from workbench.evaluation.datasets import EvalDatasetError, eval_item
from workbench.evaluation.environment import library_versions, resumed_environment
from workbench.evaluation.metrics import METRICS
from workbench.evaluation.run_view import RunView, run_view
from workbench.evaluation.scoring import ItemScorer, Judge, Pipeline, RunLogSink
from workbench.evaluation.summaries import summarise
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import EvalRunRow

# The record, protocols and view function callers use with this service are importable from here too.
__all__ = [
    "MAX_REPEATS", "EvalRunError", "EvalRunService", "Judge", "Pipeline", "RunBusy", "RunView", "run_view",
]  # fmt: skip

log = logging.getLogger(__name__)

MAX_REPEATS = 10
SUMMARY_REFRESH_S = 10.0  # how often a running run's summaries are recomputed (~tens of ms for 1,000 items)


class EvalRunError(ValueError):
    """A run that cannot be created or worked; the message says what to do."""


class RunBusy(EvalRunError, RunBeingWorked):
    """The run is being worked already (by queue workers or another process)."""


class EvalRunService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        pipeline: Pipeline,
        runlog: RunLogSink,
        *,
        judge_for: Callable[[str], Judge] | None = None,
        concurrency: int = 1,
    ) -> None:
        self._uow = uow_factory
        self._pipeline = pipeline
        self._items = ItemScorer(uow_factory, pipeline, runlog)
        self._judge_for = judge_for
        self.concurrency = max(1, concurrency)
        self._judges: dict[str, Judge] = {}
        self._lock = threading.Lock()  # guards _judges and _refreshed
        self._refreshed: dict[str, float] = {}  # run id -> when this process last refreshed its summaries

    # Creating ---------------------------------------------------------------------------------------------------

    def create_run(
        self, dataset: str, config: EvalConfig, *, actor: str, version: int | None = None, repeats: int = 1
    ) -> list[RunView]:
        """Pin the configuration and store `repeats` runs of it over a dataset version (numbered after any earlier
        repeats of the same configuration); returns them, first repeat first."""
        if not 1 <= repeats <= MAX_REPEATS:
            raise EvalRunError(f"Repeats must be between 1 and {MAX_REPEATS}.")
        resolved = self._pipeline.resolve(config)
        digest = config_hash(resolved)
        environment = library_versions()
        with self._uow() as uow:
            dataset_row = uow.evaluation.dataset_by_name(dataset.strip())
            version_row = uow.evaluation.version_of(dataset_row.id, version) if dataset_row else None
            if dataset_row is None:
                raise EvalDatasetError(f"There is no eval dataset '{dataset}'. Import it first (Eval datasets page).")
            if version_row is None:
                known = ", ".join(f"v{v.version}" for v in uow.evaluation.versions(dataset_row.id))
                raise EvalDatasetError(f"Dataset '{dataset}' has no version {version} (it has {known}).")
            first = uow.evaluation.last_repeat(version_row.id, digest) + 1
            name = config.name.strip() or _default_name(resolved)
            rows = [
                EvalRunRow(
                    id=new_id(),
                    version_id=version_row.id,
                    name=name[:200],
                    config=resolved,
                    config_hash=digest,
                    repeat=first + i,
                    tags=list(config.tags),
                    environment=environment,
                    status=EvalRunStatus.PENDING,
                    item_count=version_row.item_count,
                    created_by=actor,
                )
                for i in range(repeats)
            ]
            uow.evaluation.add_all(rows)
            uow.commit()
            ids = [row.id for row in rows]
        return [self.run(run_id) for run_id in ids]

    # Running ----------------------------------------------------------------------------------------------------
    # A run is worked as one task per unscored item (`work_item`), by queue workers or by `execute` here. Each
    # start or resume is a dispatch: the run holds its id while worked, and a task of another dispatch does nothing.

    def dispatch(self, run_id: str, *, retry_failed: bool = False) -> Dispatch:
        """Give the run a new dispatch over its unscored items (the task units). Raises RunBusy when it is being
        worked already; a run with nothing left to do is recorded as completed at once."""
        dispatch_id, now = new_id(), utcnow()
        with self._uow() as uow:
            run = uow.evaluation.run(run_id)
            if run is None:
                raise EvalRunError(f"There is no eval run {run_id}.")
            if not uow.evaluation.begin_dispatch(run_id, dispatch_id, now):
                uow.rollback()
                raise RunBusy(f"Run '{run.name}' is being worked on already. Stop it first, or wait until it ends.")
            environment = resumed_environment(run.environment, now)
            if environment is not None:
                run.environment = environment
            if retry_failed:
                uow.evaluation.delete_failed_results(run_id)
            done_count, _ = uow.evaluation.set_counts(run_id)
            units = _missing_items(uow, run)
            if not units and done_count >= run.item_count:
                self._end(uow, run_id, dispatch_id, EvalRunStatus.COMPLETED)
            uow.commit()
        return Dispatch(run_id, dispatch_id, units)

    def work_item(self, run_id: str, dispatch_id: str, item_id: str) -> bool:
        """Answer, score and store one item of a dispatch (one queue task); safe to run twice. False when there was
        nothing to do: the run was stopped, resumed anew or deleted, or the item is stored already."""
        with self._uow() as uow:
            run = uow.evaluation.run(run_id)
            if run is None or run.dispatch_id != dispatch_id:
                return False
            row = uow.evaluation.item(item_id)
            stored = uow.evaluation.has_result(run_id, item_id)
            uow.commit()  # expire_on_commit is off: the rows read stay readable after the session
        if row is not None and not stored:
            self._items.work(run, eval_item(row), self._judge(run.config))
        self._after_item(run, dispatch_id)
        return row is not None and not stored

    def execute(
        self,
        run_id: str,
        *,
        stop: threading.Event | None = None,
        on_item: Callable[[int, int], None] | None = None,
        retry_failed: bool = False,
    ) -> RunView:
        """Work the run's unscored items in this process, `concurrency` at a time, until done or stopped; returns
        the run after. Safe to call again.

        on_item(done, total) after each stored item (from worker threads). Raises RunBusy when it is being worked
        already. Ctrl-C stops like a stop request: the items in progress are finished and stored.
        """
        stop = stop or threading.Event()
        run = self.run(run_id)
        self._judge(run.config)  # a judge that cannot be built fails here, before the run is dispatched
        dispatch = self.dispatch(run_id, retry_failed=retry_failed)
        done = run.item_count - len(dispatch.units)
        try:
            units = [partial(self.work_item, run_id, dispatch.id, unit[0]) for unit in dispatch.units]
            for _ in work_in_threads(units, self.concurrency, stop, f"eval-{run_id[:8]}"):
                done += 1
                if on_item is not None:
                    on_item(done, run.item_count)
        except KeyboardInterrupt:
            self._end_quietly(run_id, dispatch.id, EvalRunStatus.STOPPED)
            raise
        except BaseException as exc:
            self._end_quietly(run_id, dispatch.id, EvalRunStatus.FAILED, f"{type(exc).__name__}: {exc}")
            raise
        if stop.is_set():
            self._end_quietly(run_id, dispatch.id, EvalRunStatus.STOPPED)
        return self.run(run_id)

    def request_stop(self, run_id: str) -> None:
        """Stop the run wherever it is worked: queued items are not started; those in progress finish and are
        stored."""
        with self._uow() as uow:
            self._end(uow, run_id, None, EvalRunStatus.STOPPED)
            uow.commit()

    def fail(self, run_id: str, dispatch_id: str, message: str) -> None:
        """Record that a dispatch could not go on (a task failed for good, the queue did not take it): resumable."""
        self._end_quietly(run_id, dispatch_id, EvalRunStatus.FAILED, message)

    def stalled(self, quiet_for: timedelta) -> list[Dispatch]:
        """Runs being worked with no result for `quiet_for` since their dispatch began, with their missing items
        under their current dispatch (see workbench.worker.reconcile)."""
        now, found = utcnow(), []
        with self._uow() as uow:
            for run in uow.evaluation.dispatched_runs():
                last = uow.evaluation.last_result_at(run.id)
                if run.dispatch_id is None or not runs_quiet_for(last, run.dispatched_at, now, quiet_for):
                    continue
                units = _missing_items(uow, run)
                if units:
                    found.append(Dispatch(run.id, run.dispatch_id, units))
        return found

    def progress(self, run_id: str) -> tuple[bool, str | None]:
        """(being worked, why its last dispatch failed) in one read."""
        view = self.run(run_id)
        return view.live, view.error

    def _judge(self, config: dict[str, Any]) -> Judge | None:
        """The judge of the run's judge model, built once per service and model (it may start a local model)."""
        if not any(METRICS[m].needs_judge for m in config["metrics"]):
            return None
        if self._judge_for is None:
            raise EvalRunError("This run asks for judged metrics but no judge can be built here.")
        model = config["judge_model"]
        with self._lock:
            if model not in self._judges:
                self._judges[model] = self._judge_for(model)
            return self._judges[model]

    def _after_item(self, run: EvalRunRow, dispatch_id: str) -> None:
        """Count again after the item's own commit (the last worker to commit sees every result) and record the
        end when every item is stored; refresh the summaries now and then while the run goes on."""
        with self._uow() as uow:
            done, _ = uow.evaluation.set_counts(run.id, grow_only=True)
            ended = done >= run.item_count and self._end(uow, run.id, dispatch_id, EvalRunStatus.COMPLETED)
            uow.commit()
        if not ended and self._refresh_due(run.id):  # the dashboard shows means while it runs
            self._refresh_quietly(run.id, dispatch_id)

    def _end(
        self, uow: UnitOfWork, run_id: str, dispatch_id: str | None, status: EvalRunStatus, error: str | None = None
    ) -> bool:
        """End the dispatch (None: whichever holds the run) with its final counts and summaries, in the caller's
        transaction; False when it was not held (ended already, or superseded), and then nothing is written."""
        finished_at = utcnow() if status == EvalRunStatus.COMPLETED else None
        if not uow.evaluation.end_dispatch(run_id, dispatch_id, status, error and error[:2000], finished_at):
            return False
        uow.evaluation.set_counts(run_id)
        # Final summaries in the same transaction, so only the one who ended the dispatch writes them.
        uow.evaluation.replace_summaries(run_id, summarise(run_id, uow.evaluation.metric_values(run_id)))
        return True

    def _end_quietly(self, run_id: str, dispatch_id: str, status: EvalRunStatus, error: str | None = None) -> None:
        try:
            with self._uow() as uow:
                self._end(uow, run_id, dispatch_id, status, error)
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - the run stays resumable: Stop, then Resume, ends it by hand
            log.warning("eval run %s: could not record the end of the run: %s", run_id, exc)

    def _refresh_due(self, run_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._refreshed.get(run_id, 0.0) < SUMMARY_REFRESH_S:
                return False
            self._refreshed[run_id] = now
            return True

    # Summaries and reading --------------------------------------------------------------------------------------

    def _refresh_quietly(self, run_id: str, dispatch_id: str) -> None:
        """A refresh for the dashboard's sake, only while `dispatch_id` still holds the run: a refresh that read
        the scores before another worker ended the run must not replace the final summaries it wrote. The run's
        row is locked first (SQLite's write lock, PostgreSQL's row lock), so the end and the refresh
        cannot interleave. It never fails the run."""
        try:
            with self._uow() as uow:
                uow.evaluation.lock_run(run_id)
                current = uow.evaluation.run(run_id)
                if current is None or current.dispatch_id != dispatch_id:
                    uow.rollback()
                    return
                uow.evaluation.replace_summaries(run_id, summarise(run_id, uow.evaluation.metric_values(run_id)))
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - a busy database or a concurrent refresh: the next one will do
            log.warning("eval run %s: refreshing its summaries failed: %s", run_id, exc)

    def refresh_summaries(self, run_id: str) -> None:
        """Recompute and store the run's per-metric summaries (mean, bootstrap CI, failures by cause)."""
        with self._uow() as uow:
            values = uow.evaluation.metric_values(run_id)
            uow.evaluation.replace_summaries(run_id, summarise(run_id, values))
            uow.commit()

    def run(self, run_id: str) -> RunView:
        with self._uow() as uow:
            row = uow.evaluation.run(run_id)
            if row is None:
                raise EvalRunError(f"There is no eval run {run_id}.")
            names = uow.evaluation.dataset_names([row.version_id])
            return run_view(row, names)

    def runs(
        self, *, ids: Sequence[str] = (), created_by: str | None = None, statuses: Sequence[str] | None = None,
        limit: int = 50,
    ) -> list[RunView]:  # fmt: skip
        """Runs newest first, without their scores or summaries: the given ids, plus those matching the filters
        (when any filter is given)."""
        with self._uow() as uow:
            rows = {r.id: r for r in uow.evaluation.runs_by_id(list(ids))} if ids else {}
            if created_by is not None or statuses is not None:
                found = uow.evaluation.runs(created_by=created_by, statuses=statuses, limit=limit)
                rows.update({r.id: r for r in found})
            names = uow.evaluation.dataset_names(sorted({r.version_id for r in rows.values()}))
            views = [run_view(r, names) for r in rows.values()]
        return sorted(views, key=lambda v: v.created_at, reverse=True)[:limit]

    def set_tags(self, run_id: str, tags: Sequence[str]) -> RunView:
        clean = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
        with self._uow() as uow:
            uow.evaluation.set_tags(run_id, clean)
            uow.commit()
        return self.run(run_id)


def _missing_items(uow: UnitOfWork, run: EvalRunRow) -> list[list[Any]]:
    """The task units of the run's items without a result, in dataset order."""
    done = uow.evaluation.done_item_ids(run.id)
    return [[row.id] for row in uow.evaluation.items(run.version_id) if row.id not in done]


def _default_name(resolved: dict[str, Any]) -> str:
    where = f"{resolved['knowledge_base']} k={resolved['top_k']}" if resolved.get("knowledge_base") else "no retrieval"
    return f"{resolved['model']} · {resolved['prompt']} v{resolved['prompt_version']} · {where}"
