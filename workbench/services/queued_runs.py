"""Long runs (playground dataset runs, eval runs) as tasks for queue workers: start, stop and follow them.

Starting a run gives it a new dispatch in SQL and sends one task per unit of work (an eval item, a playground
cell). Workers in any process or machine work the tasks; the run's state stays in SQL, so every page and command
shows its progress. Stopping clears the dispatch: tasks still queued find it changed and do nothing, tasks in
progress finish and are stored. Resuming is a new dispatch over what is not done yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from workbench.domain.runs import Dispatch, RunBeingWorked


class QueueError(RuntimeError):
    """The queue did not take the run's tasks (the message says why); the run is kept and can be resumed."""


class DispatchedRuns(Protocol):
    """A run service whose runs are worked as tasks (EvalRunService, PlaygroundService)."""

    def dispatch(self, run_id: str, *, retry_failed: bool = False) -> Dispatch: ...
    def fail(self, run_id: str, dispatch_id: str, message: str) -> None: ...
    def request_stop(self, run_id: str) -> None: ...
    def progress(self, run_id: str) -> tuple[bool, str | None]: ...  # (being worked, why it failed)


# send(task name, argument lists) -> how many were sent; raises RuntimeError when the queue does not answer.
Send = Callable[[str, Iterable[Sequence[Any]]], int]


class QueuedRuns:
    def __init__(self, service: DispatchedRuns, send: Send, task: str) -> None:
        self._service = service
        self._send = send
        self.task = task

    def start(self, run_id: str, *, retry_failed: bool = False) -> bool:
        """Send the run's missing work to the queue; False when it is being worked already.

        Raises QueueError when the broker does not take the tasks (the run is then marked failed, resumable).
        """
        working, _ = self._service.progress(run_id)
        if working:
            return False
        try:
            dispatch = self._service.dispatch(run_id, retry_failed=retry_failed)
        except RunBeingWorked:  # started elsewhere a moment ago
            return False
        try:
            self._send(self.task, ([run_id, dispatch.id, *unit] for unit in dispatch.units))
        except RuntimeError as exc:
            message = f"{exc} The run is kept: resume it once the queue is back."
            self._service.fail(run_id, dispatch.id, message)
            raise QueueError(message) from exc
        return True

    def stop(self, run_id: str) -> None:
        """Start no more of the run's tasks, wherever they are worked; those in progress finish and are stored."""
        self._service.request_stop(run_id)

    def is_running(self, run_id: str) -> bool:
        return self._service.progress(run_id)[0]

    def error(self, run_id: str) -> str | None:
        """Why the run's last dispatch ended early (None when it did not)."""
        return self._service.progress(run_id)[1]

    def wait(self, run_id: str, timeout: float | None = None, poll_s: float = 0.2) -> bool:
        """Wait until no worker works the run any more; True when so."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_running(run_id):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)
        return True


class RunJobs(Protocol):
    """What the pages do with long runs, worked by queue workers (QueuedRuns) or in this process (BackgroundRuns)."""

    def start(self, run_id: str, *, retry_failed: bool = False) -> bool: ...
    def stop(self, run_id: str) -> None: ...
    def is_running(self, run_id: str) -> bool: ...
    def error(self, run_id: str) -> str | None: ...
