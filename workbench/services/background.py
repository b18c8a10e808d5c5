"""Long runs (playground dataset runs, eval runs) in background threads, so a run goes on while its page is closed
or the browser reloads.

One per kind of run and process (the container holds them). A run's state lives in SQL, so any page in any process
can show its progress; this object only knows which runs this process is working on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class _Job:
    thread: threading.Thread
    stop: threading.Event
    error: str | None = None


@dataclass
class BackgroundRuns:
    # A resumable run service's execute(run_id, *, stop, retry_failed, **callbacks) and request_stop(run_id)
    # (PlaygroundService, EvalRunService).
    execute: Callable[..., Any]
    request_stop: Callable[[str], None]
    kind: str = "run"  # names the threads and log lines
    _jobs: dict[str, _Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    def start(self, run_id: str, *, retry_failed: bool = False, **callbacks: Any) -> bool:
        """Start (or resume) a run in the background; False when this process already works on it.

        callbacks go to the service's execute (e.g. the playground's on_delta), called from worker threads.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the app is shutting down")
            job = self._jobs.get(run_id)
            if job is not None and job.thread.is_alive():
                return False
            stop = threading.Event()
            job = _Job(threading.Thread(target=self._run, args=(run_id, stop, retry_failed, callbacks), daemon=True,
                                        name=f"{self.kind}-{run_id[:8]}"), stop)  # fmt: skip
            self._jobs[run_id] = job
            job.thread.start()
            return True

    def stop(self, run_id: str) -> None:
        """Finish the cells in progress and start no more (also when another process runs it)."""
        with self._lock:
            job = self._jobs.get(run_id)
        if job is not None:
            job.stop.set()
        self.request_stop(run_id)

    def is_running(self, run_id: str) -> bool:
        with self._lock:
            job = self._jobs.get(run_id)
            return job is not None and job.thread.is_alive()

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """Wait for this process's work on the run to end; True when it has."""
        with self._lock:
            job = self._jobs.get(run_id)
        if job is not None:
            job.thread.join(timeout)
        return not self.is_running(run_id)

    def error(self, run_id: str) -> str | None:
        """Why this process's last attempt at the run ended early (None when it did not)."""
        with self._lock:
            job = self._jobs.get(run_id)
            return None if job is None else job.error

    def close(self, timeout: float = 30.0) -> None:
        """Stop every run (cells in progress finish and are stored) and wait for them."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs.values())
        for job in jobs:
            job.stop.set()
        for job in jobs:
            job.thread.join(timeout=timeout)

    def _run(self, run_id: str, stop: threading.Event, retry_failed: bool, callbacks: dict[str, Any]) -> None:
        try:
            self.execute(run_id, stop=stop, retry_failed=retry_failed, **callbacks)
        except ValueError as exc:  # the services' own errors (another runner holds it, …): said as they are
            self._fail(run_id, str(exc))
        except Exception as exc:  # recorded on the run and shown on the page
            log.exception("%s %s failed", self.kind, run_id)
            self._fail(run_id, f"{type(exc).__name__}: {exc}")

    def _fail(self, run_id: str, message: str) -> None:
        with self._lock:
            job = self._jobs.get(run_id)
            if job is not None:
                job.error = message
