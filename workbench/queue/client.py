"""Sending tasks and reading the queue's state (depth, workers alive) for the pages and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from kombu.exceptions import KombuError
from kombu.transport.virtual import Channel as VirtualChannel

log = logging.getLogger(__name__)


class QueueUnavailable(RuntimeError):
    """The broker did not answer; the message says where it was looked for and what to do."""


@dataclass(frozen=True)
class QueueStatus:
    broker: str  # where, without credentials
    reachable: bool
    depth: int | None = None  # tasks waiting for a worker
    workers: list[str] = field(default_factory=list)  # names of the workers that answered a ping
    error: str | None = None


class TaskQueue:
    def __init__(
        self,
        app: Celery,
        broker_display: str,
        *,
        queue: str,
        timeout_s: float = 3.0,
        database_id: Callable[[], str] | None = None,
    ) -> None:
        self.app = app
        self.broker = broker_display
        self.queue = queue
        self._timeout = timeout_s
        # Every task names the database its run lives in: a worker connected to another one refuses it.
        self._database_id = database_id

    def send(self, name: str, arglists: Iterable[Sequence[Any]]) -> int:
        """Publish one task per argument list over one connection; returns how many were sent."""
        sent = 0
        kwargs = {"database": self._database_id()} if self._database_id is not None else {}
        try:
            with self.app.producer_or_acquire() as producer:
                for args in arglists:
                    self.app.send_task(name, args=list(args), kwargs=kwargs, queue=self.queue, producer=producer)
                    sent += 1
        except (KombuError, OSError) as exc:
            raise QueueUnavailable(self._unreachable(exc, sent)) from exc
        return sent

    def depth(self) -> int:
        """Tasks waiting for a worker; raises QueueUnavailable when the broker does not answer. No ping: cheap
        enough for a worker to ask often (a ping is answered by every worker)."""
        try:
            with self.app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1, timeout=self._timeout)
                return self._depth(conn, self.queue)
        except (KombuError, OSError) as exc:
            raise QueueUnavailable(self._unreachable(exc, 0)) from exc

    def status(self) -> QueueStatus:
        """Depth and live workers; never raises (an unreachable broker is a status)."""
        try:
            depth = self.depth()
            replies = self.app.control.ping(timeout=min(1.0, self._timeout))
        except QueueUnavailable as exc:
            return QueueStatus(self.broker, False, error=str(exc))
        except (KombuError, OSError) as exc:  # the broker went away between the two
            return QueueStatus(self.broker, False, error=self._unreachable(exc, 0))
        workers = sorted(name for reply in replies for name in reply)
        return QueueStatus(self.broker, True, depth, workers)

    @staticmethod
    def _depth(conn: Any, queue: str) -> int:
        channel = conn.default_channel
        if isinstance(channel, VirtualChannel):
            # Redis and the filesystem: declaring is free and creates nothing, and a passive declare is wrong on
            # Redis with a key prefix (kombu asks EXISTS of the unprefixed key, so it finds "no such queue").
            _, count, _ = channel.queue_declare(queue)  # type: ignore[no-untyped-call]
            return int(count)
        try:
            _, count, _ = channel.queue_declare(queue, passive=True)
        except Exception:  # noqa: BLE001 - "no such queue": no worker has declared it yet, nothing waits
            return 0
        return int(count)

    def _unreachable(self, exc: BaseException, sent: int) -> str:
        done = f" ({sent} task(s) were sent before it went away)" if sent else ""
        return (
            f"The task queue at {self.broker} does not answer ({type(exc).__name__}: {exc}){done}. "
            "Check that the broker runs and that WORKBENCH_QUEUE__BROKER_URL points at it."
        )

    def close(self) -> None:
        self.app.close()
