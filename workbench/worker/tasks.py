"""The tasks a worker works: one eval item, one playground cell. Both are idempotent (their results are keyed),
so a redelivered task (its worker died, the broker lost the acknowledgement) stores nothing twice.

A task whose cause may pass (the database went away for a moment) is retried with growing pauses; after the last
retry, or at once for a cause that will not pass (the run's judge cannot be built), the run is marked failed with
the reason and stays resumable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from celery import Celery, Task
from celery.exceptions import Reject

from workbench.evaluation.runs import EvalRunError, EvalRunService
from workbench.playground.service import PlaygroundError, PlaygroundService
from workbench.queue.app import EVAL_ITEM, PLAYGROUND_CELL

log = logging.getLogger(__name__)

# Errors that say the run cannot go on as configured: retrying them would only repeat the message.
PERMANENT = (EvalRunError, PlaygroundError)


class WorkerServices(Protocol):
    """The services a worker's tasks use, built once per worker process."""

    @property
    def eval_runs(self) -> EvalRunService: ...
    @property
    def playground(self) -> PlaygroundService: ...
    @property
    def database_id(self) -> str: ...
    @property
    def database(self) -> str: ...  # where, without credentials

    def refuse(self, message: str) -> None:
        """Stop taking tasks: this worker is connected to the wrong database."""


class _Failer(Protocol):
    def fail(self, run_id: str, dispatch_id: str, message: str) -> None: ...


def register(app: Celery, services: Callable[[], WorkerServices], *, retries: int) -> None:
    """Define the tasks on `app`; `services()` gives the worker's services (built on first use)."""

    @app.task(name=EVAL_ITEM, bind=True, max_retries=retries)  # type: ignore[untyped-decorator]
    def eval_item(self: Task, run_id: str, dispatch_id: str, item_id: str, database: str | None = None) -> bool:
        _same_database(services(), run_id, database)
        runs = services().eval_runs
        return bool(_guarded(self, runs, run_id, dispatch_id, lambda: runs.work_item(run_id, dispatch_id, item_id)))

    @app.task(name=PLAYGROUND_CELL, bind=True, max_retries=retries)  # type: ignore[untyped-decorator]
    def playground_cell(
        self: Task, run_id: str, dispatch_id: str, row: int, position: int, database: str | None = None
    ) -> bool:
        _same_database(services(), run_id, database)
        playground = services().playground
        cell = _guarded(self, playground, run_id, dispatch_id,
                        lambda: playground.work_cell(run_id, dispatch_id, row, position))  # fmt: skip
        return cell is not None


def _same_database(services: WorkerServices, run_id: str, database: str | None) -> None:
    """A task from another database (the worker's settings differ from the app's) goes back to the queue for a
    worker that has the run, and this worker stops, saying why, rather than report every run it is sent missing."""
    if database is None or database == services.database_id:
        return
    message = (
        f"this worker works on the database {services.database} (id {services.database_id}), but run {run_id} "
        f"was sent from another database (id {database}): start workers with the app's settings "
        "(WORKBENCH_DATABASE_URL, the run log, the models). The task goes back to the queue; this worker stops."
    )
    log.error(message)
    services.refuse(message)
    raise Reject(message, requeue=True)


def _guarded(task: Task, runs: _Failer, run_id: str, dispatch_id: str, work: Callable[[], Any]) -> Any:
    try:
        return work()
    except PERMANENT as exc:
        log.warning("run %s: %s", run_id, exc)
        _fail(runs, run_id, dispatch_id, str(exc))
        return None
    except Exception as exc:
        if task.request.retries >= (task.max_retries or 0):
            log.exception("run %s: task failed after %d retries", run_id, task.request.retries)
            _fail(runs, run_id, dispatch_id, f"{type(exc).__name__}: {exc}")
            raise
        pause = min(30.0, 2.0**task.request.retries)
        log.warning("run %s: task failed (%s); retry in %.0f s", run_id, exc, pause)
        raise task.retry(exc=exc, countdown=pause) from exc


def _fail(runs: _Failer, run_id: str, dispatch_id: str, message: str) -> None:
    try:
        runs.fail(run_id, dispatch_id, message)
    except Exception as exc:  # noqa: BLE001 - the database is away too: the run stays running until stopped
        log.warning("run %s: could not record the failure: %s", run_id, exc)
