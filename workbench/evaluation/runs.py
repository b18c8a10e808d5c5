"""Eval runs: a dataset version run through one pinned pipeline configuration, item by item, resumable.

Each item is answered, scored and stored in one transaction; a unique key on (run, item) means a resumed or
concurrently claimed run can never score an item twice. A lease (conditional UPDATE + heartbeat) keeps a run to
one runner across processes. A run's per-metric summaries are recomputed every SUMMARY_REFRESH_S while it goes on
and when it stops or ends, so the dashboard reads aggregates instead of every score. How one item is answered,
scored and stored is in `scoring`; the record handed out is `run_view.RunView`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta
from typing import Any

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.domain.runs import EvalRunStatus
from workbench.evaluation.config import EvalConfig, config_hash
from workbench.evaluation.datasets import EvalDatasetError, EvalItem, eval_item
from workbench.evaluation.environment import library_versions, resumed_environment
from workbench.evaluation.metrics import METRICS
from workbench.evaluation.run_view import RunView, run_view
from workbench.evaluation.scoring import ItemScorer, Judge, Pipeline, RunLogSink
from workbench.evaluation.summaries import summarise
from workbench.services.leases import LeaseHeartbeat, renewal, runner_name
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


class RunBusy(EvalRunError):
    """Another runner holds the run's lease."""


class EvalRunService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        pipeline: Pipeline,
        runlog: RunLogSink,
        *,
        judge_for: Callable[[str], Judge] | None = None,
        concurrency: int = 1,
        lease_s: float = 30.0,
    ) -> None:
        self._uow = uow_factory
        self._pipeline = pipeline
        self._items = ItemScorer(uow_factory, pipeline, runlog)
        self._judge_for = judge_for
        self.concurrency = max(1, concurrency)
        self.lease = timedelta(seconds=lease_s)

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

    def execute(
        self,
        run_id: str,
        *,
        stop: threading.Event | None = None,
        on_item: Callable[[int, int], None] | None = None,
        retry_failed: bool = False,
        owner: str | None = None,
    ) -> RunView:
        """Work the run's unscored items until done or stopped; returns the run after. Safe to call again.

        on_item(done, total) after each stored item (from worker threads). Raises RunBusy when another runner
        holds the run. Ctrl-C stops like a stop request: the items in progress are finished and stored.
        """
        owner = owner or runner_name()
        stop = stop or threading.Event()
        judge = self._judge(self.run(run_id).config)  # before the claim: a judge that cannot be built leaves no lease
        run, items = self._claim(run_id, owner, retry_failed)
        failure: BaseException | None = None
        renew = renewal(self._uow, lambda uow: uow.evaluation, run_id, owner, self.lease)
        beat = LeaseHeartbeat(f"eval run {run_id}", renew, self.lease, stop)
        try:
            with beat:
                self._work(run, items, judge, stop, on_item)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self._release(run_id, owner, failure, beat.lost)
        return self.run(run_id)

    def request_stop(self, run_id: str) -> None:
        """Ask whoever works this run (here or in another process) to stop after the items in progress."""
        with self._uow() as uow:
            uow.evaluation.request_stop(run_id)
            uow.commit()

    def _claim(self, run_id: str, owner: str, retry_failed: bool) -> tuple[EvalRunRow, list[EvalItem]]:
        now = utcnow()
        with self._uow() as uow:
            run = uow.evaluation.run(run_id)
            if run is None:
                raise EvalRunError(f"There is no eval run {run_id}.")
            if not uow.evaluation.claim(run_id, owner, now, now + self.lease):
                uow.rollback()
                raise RunBusy(
                    f"Run '{run.name}' is being worked on elsewhere ({run.lease_owner}). Stop it there, or wait "
                    "until its lease ends and resume it."
                )
            environment = resumed_environment(run.environment, now)
            if environment is not None:
                run.environment = environment
            if retry_failed:
                uow.evaluation.delete_failed_results(run_id)
                uow.evaluation.set_counts(run_id)
            done = uow.evaluation.done_item_ids(run_id)
            items = [eval_item(row) for row in uow.evaluation.items(run.version_id) if row.id not in done]
            uow.commit()  # expire_on_commit is off: the run's loaded fields stay readable after the session
        return run, items

    def _judge(self, config: dict[str, Any]) -> Judge | None:
        if not any(METRICS[m].needs_judge for m in config["metrics"]):
            return None
        if self._judge_for is None:
            raise EvalRunError("This run asks for judged metrics but no judge can be built here.")
        return self._judge_for(config["judge_model"])

    def _work(
        self, run: EvalRunRow, items: list[EvalItem], judge: Judge | None, stop: threading.Event,
        on_item: Callable[[int, int], None] | None,
    ) -> None:  # fmt: skip
        pending: Iterator[EvalItem] = iter(items)
        in_flight: set[Future[None]] = set()
        done = run.item_count - len(items)
        refreshed = time.monotonic()
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"eval-{run.id[:8]}") as pool:
            while True:
                while len(in_flight) < self.concurrency and not stop.is_set():
                    item = next(pending, None)
                    if item is None:
                        break
                    in_flight.add(pool.submit(self._items.work, run, item, judge))
                if not in_flight:
                    return
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    done += 1
                    if on_item is not None:
                        on_item(done, run.item_count)
                if time.monotonic() - refreshed > SUMMARY_REFRESH_S:  # the dashboard shows means while it runs
                    self._refresh_quietly(run.id)
                    refreshed = time.monotonic()

    def _release(self, run_id: str, owner: str, failure: BaseException | None, lost: bool) -> None:
        if lost:
            return  # someone else holds the run now: its state is theirs to record
        try:
            with self._uow() as uow:
                run = uow.evaluation.run(run_id)
                if run is None:
                    return
                done, _ = uow.evaluation.set_counts(run_id)
                error = None
                if isinstance(failure, KeyboardInterrupt):  # Ctrl-C: a stop, not a failure
                    status = EvalRunStatus.STOPPED
                elif failure is not None:
                    status, error = EvalRunStatus.FAILED, f"{type(failure).__name__}: {failure}"[:2000]
                else:
                    status = EvalRunStatus.COMPLETED if done >= run.item_count else EvalRunStatus.STOPPED
                finished_at = utcnow() if status == EvalRunStatus.COMPLETED else None
                if not uow.evaluation.release(run_id, owner, status, error, finished_at):
                    uow.rollback()  # the lease went to another runner: the run's state and summaries are theirs
                    return
                # Final summaries in the same transaction, so only the lease holder writes them.
                uow.evaluation.replace_summaries(run_id, summarise(run_id, uow.evaluation.metric_values(run_id)))
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - the lease expires by itself; the run stays resumable
            log.warning("eval run %s: could not record the end of the run: %s", run_id, exc)

    # Summaries and reading --------------------------------------------------------------------------------------

    def _refresh_quietly(self, run_id: str) -> None:
        """A refresh for the dashboard's sake never fails the run; the final one is written on release."""
        try:
            self.refresh_summaries(run_id)
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


def _default_name(resolved: dict[str, Any]) -> str:
    where = f"{resolved['knowledge_base']} k={resolved['top_k']}" if resolved.get("knowledge_base") else "no retrieval"
    return f"{resolved['model']} · {resolved['prompt']} v{resolved['prompt_version']} · {where}"
