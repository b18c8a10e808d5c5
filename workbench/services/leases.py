"""The heartbeat that keeps a resumable run's lease: one runner per run across processes.

A run is claimed with an atomic conditional UPDATE (the repositories' `claim`); while it is worked, this thread
renews the lease every third of its length and looks for a stop request from any process. Losing the lease (it
expired and another runner took it) or a stop request sets the run's stop event, so the runner finishes the
items in progress and starts no more.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol

from workbench.storage.ports import UnitOfWork

log = logging.getLogger(__name__)


def runner_name() -> str:
    """Who holds a lease: host, process and a random part (two runners in one process differ too)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# renew() -> (still ours, stop requested); it runs in its own transaction.
Renew = Callable[[], tuple[bool, bool]]


class LeasedRuns(Protocol):
    """A repository of runs with a lease (playground runs, eval runs)."""

    def renew(self, run_id: str, owner: str, expires_at: datetime) -> bool: ...
    def stop_requested(self, run_id: str) -> bool: ...


def renewal(
    uow_factory: Callable[[], UnitOfWork], runs: Callable[[UnitOfWork], LeasedRuns], run_id: str, owner: str,
    lease: timedelta,
) -> Renew:  # fmt: skip
    """The heartbeat's renew for one run: extend `owner`'s lease and read the stop request, in one transaction."""

    def renew() -> tuple[bool, bool]:
        with uow_factory() as uow:
            kept = runs(uow).renew(run_id, owner, datetime.now(UTC) + lease)
            requested = runs(uow).stop_requested(run_id)
            uow.commit()
        return kept, requested

    return renew


class LeaseHeartbeat:
    """`with LeaseHeartbeat(name, renew, lease, stop) as beat:` work…; afterwards `beat.lost` says whether the
    lease was taken over (the run's state then belongs to the new owner)."""

    def __init__(self, name: str, renew: Renew, lease: timedelta, stop: threading.Event) -> None:
        self.name = name
        self._renew = renew
        self._stop = stop
        self._interval = max(0.5, min(5.0, lease.total_seconds() / 3))  # also how soon a stop request is seen
        self._finished = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{name}", daemon=True)

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def __enter__(self) -> LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._finished.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._finished.wait(self._interval):
            try:
                kept, requested = self._renew()
            except Exception as exc:  # noqa: BLE001 - a database hiccup: try again on the next beat
                log.warning("%s: renewing the lease failed: %s", self.name, exc)
                continue
            if not kept:
                log.warning("%s: lease lost to another runner; stopping", self.name)
                self._lost.set()
                self._stop.set()
            elif requested:
                self._stop.set()
