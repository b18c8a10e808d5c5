"""Dataset runs in background threads, so a run goes on while its page is closed or the browser reloads.

One per process (the container holds it). The run's state lives in SQL, so any page in any process can show a
run's progress by counting its cells; this object only knows which runs this process is working on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.playground.service import PlaygroundService, RunBusy

log = logging.getLogger(__name__)


@dataclass
class _Job:
    thread: threading.Thread
    stop: threading.Event
    error: str | None = None


@dataclass
class PlaygroundJobs:
    service: PlaygroundService
    _jobs: dict[str, _Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    def start(
        self, run_id: str, *, retry_failed: bool = False, on_delta: Callable[[int, int, str], None] | None = None
    ) -> bool:
        """Start (or resume) a run in the background; False when this process already works on it.

        on_delta(row, position, text) receives answers as they stream (from worker threads).
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the app is shutting down")
            job = self._jobs.get(run_id)
            if job is not None and job.thread.is_alive():
                return False
            stop = threading.Event()
            job = _Job(threading.Thread(target=self._run, args=(run_id, stop, retry_failed, on_delta), daemon=True,
                                        name=f"playground-run-{run_id[:8]}"), stop)  # fmt: skip
            self._jobs[run_id] = job
            job.thread.start()
            return True

    def stop(self, run_id: str) -> None:
        """Finish the cells in progress and start no more (also when another process runs it)."""
        with self._lock:
            job = self._jobs.get(run_id)
        if job is not None:
            job.stop.set()
        self.service.request_stop(run_id)

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

    def _run(
        self,
        run_id: str,
        stop: threading.Event,
        retry_failed: bool,
        on_delta: Callable[[int, int, str], None] | None,
    ) -> None:
        try:
            self.service.execute(run_id, stop=stop, retry_failed=retry_failed, on_delta=on_delta)
        except RunBusy as exc:
            self._fail(run_id, str(exc))
        except Exception as exc:  # recorded on the run and shown on the page
            log.exception("playground run %s failed", run_id)
            self._fail(run_id, f"{type(exc).__name__}: {exc}")

    def _fail(self, run_id: str, message: str) -> None:
        with self._lock:
            job = self._jobs.get(run_id)
            if job is not None:
                job.error = message
