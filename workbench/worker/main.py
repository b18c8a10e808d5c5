"""A worker process: Celery's worker over the workbench's queue, with the services its tasks use.

Threads, not forked processes: one process holds one set of services (one SQL pool, one run-log writer, one
embedding model), and its tasks mostly wait on a model server. Run more worker processes, on any machines with the
same settings, to work more at once. SIGTERM (and Ctrl-C) is Celery's warm shutdown: no new task is taken, the
tasks in hand finish, are stored and acknowledged, then the run logs are flushed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import timedelta
from typing import Any

from celery.signals import worker_shutdown

from workbench.config import Settings
from workbench.evaluation.runs import EvalRunService
from workbench.playground.service import PlaygroundService
from workbench.queue.app import celery_app
from workbench.queue.client import TaskQueue
from workbench.worker.reconcile import Reconciler
from workbench.worker.tasks import register

log = logging.getLogger(__name__)


class WorkerContainer:
    """The worker's services, built once (the judge cache of the eval service lives as long as the worker)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._container: Any = None
        self._eval_runs: EvalRunService | None = None
        self._playground: PlaygroundService | None = None
        self._database_id: str | None = None
        self.refused: str | None = None  # why this worker stopped taking tasks

    def open(self) -> WorkerContainer:
        from workbench.bootstrap import build_container

        with self._lock:
            if self._container is None:
                self._container = build_container(self._settings, register_atexit=False)
                self._eval_runs = self._container.eval_runs
                self._playground = self._container.playground
                self._database_id = self._container.database_id
        return self

    @property
    def database_id(self) -> str:
        assert self._database_id is not None, "open() first"
        return self._database_id

    @property
    def database(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self._settings.sql_url).render_as_string(hide_password=True)

    def refuse(self, message: str) -> None:
        with self._lock:
            first, self.refused = self.refused is None, message
        if first:
            os.kill(os.getpid(), signal.SIGTERM)  # Celery's warm shutdown: the tasks in hand are handed back first

    @property
    def eval_runs(self) -> EvalRunService:
        assert self._eval_runs is not None, "open() first"
        return self._eval_runs

    @property
    def queue(self) -> TaskQueue:
        assert self._container is not None, "open() first"
        queue: TaskQueue = self._container.queue
        return queue

    @property
    def playground(self) -> PlaygroundService:
        assert self._playground is not None, "open() first"
        return self._playground

    def close(self, **_: Any) -> None:
        with self._lock:
            container, self._container = self._container, None
        if container is not None:
            container.close()


def default_name() -> str:
    return f"workbench-{os.getpid()}@{socket.gethostname()}"


def run_worker(
    settings: Settings, *, concurrency: int | None = None, name: str | None = None, loglevel: str = "INFO"
) -> None:
    """Work the queue's tasks until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=loglevel, format="[%(asctime)s %(levelname)s %(processName)s] %(name)s: %(message)s")
    app = celery_app(settings)
    services = WorkerContainer(settings).open()  # a misconfigured worker says so now, not at its first task
    register(app, lambda: services, retries=settings.queue.task_retries)
    quiet_for = timedelta(seconds=settings.queue.visibility_timeout_s)
    reconciler = Reconciler(services.queue, services.eval_runs, services.playground, quiet_for,
                            every=max(5.0, settings.queue.visibility_timeout_s / 4)).start()  # fmt: skip
    worker_shutdown.connect(lambda **_: reconciler.stop(), weak=False)
    worker_shutdown.connect(services.close, weak=False)
    argv = [
        "worker", "--pool=threads", f"--concurrency={concurrency or settings.queue.worker_concurrency}",
        f"--loglevel={loglevel}", "-Q", settings.queue.name, "--without-gossip", "--without-mingle",
        "-n", name or default_name(),
    ]  # fmt: skip
    log.info("worker on queue %s, database %s", settings.queue.name, services.database)
    try:
        app.worker_main(argv)
    except SystemExit:
        if services.refused is None:
            raise
    finally:
        reconciler.stop()
        services.close()
    if services.refused is not None:
        raise SystemExit(f"workbench worker stopped: {services.refused}")
