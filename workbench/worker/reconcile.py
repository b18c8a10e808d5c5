"""Tasks that no broker holds any more are sent again: the one way a queued item could otherwise be lost.

Redis takes a task off its list and then records it as taken in two steps; a worker killed between them leaves a
task that no one will deliver again. The filesystem queue of the embedded default has no record of taken tasks at
all. So each worker, when the queue is empty, looks for runs being worked that stored nothing for a while
(`queue.visibility_timeout_s`) and sends their missing units again under the run's current dispatch. A unit sent
twice is stored once (its result is keyed); the cost is at most one answer computed twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Protocol

from workbench.domain.runs import Dispatch
from workbench.queue.app import EVAL_ITEM, PLAYGROUND_CELL
from workbench.queue.client import TaskQueue

log = logging.getLogger(__name__)


class Stalling(Protocol):
    def stalled(self, quiet_for: timedelta) -> list[Dispatch]: ...


def resend_stalled(queue: TaskQueue, eval_runs: Stalling, playground: Stalling, quiet_for: timedelta) -> int:
    """One sweep: when nothing waits in the queue, send the missing units of quiet runs again; how many were sent."""
    if queue.depth():  # tasks wait: their runs are not stalled, only behind
        return 0
    sent = 0
    for task, service in ((EVAL_ITEM, eval_runs), (PLAYGROUND_CELL, playground)):
        for dispatch in service.stalled(quiet_for):
            log.warning("run %s stored nothing for %s: sending its %d missing unit(s) again", dispatch.run_id,
                        quiet_for, len(dispatch.units))  # fmt: skip
            sent += queue.send(task, ([dispatch.run_id, dispatch.id, *unit] for unit in dispatch.units))
    return sent


class Reconciler:
    """A daemon thread of the worker that sweeps every `every` seconds until stopped."""

    def __init__(
        self, queue: TaskQueue, eval_runs: Stalling, playground: Stalling, quiet_for: timedelta, every: float
    ) -> None:  # fmt: skip
        self._args = (queue, eval_runs, playground, quiet_for)
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reconcile", daemon=True)

    def start(self) -> Reconciler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                resend_stalled(*self._args)
            except Exception as exc:  # noqa: BLE001 - the database or broker is away: the next sweep tries again
                log.warning("looking for stalled runs failed: %s", exc)
