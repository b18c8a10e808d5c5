"""Working a run's units in this process: a bounded thread pool that a stop event drains (`execute` of both kinds
of run, when no queue worker is wanted: the CLI's default, the playground's side-by-side try, tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


def work_in_threads(
    units: Sequence[Callable[[], T]], concurrency: int, stop: threading.Event, name: str
) -> Iterator[T]:  # fmt: skip
    """Call the units, `concurrency` at a time, yielding each result as it comes. Once `stop` is set no unit is
    started; those in progress finish. On an error the loop ends after the units in progress, then it is raised."""
    pending = iter(units)
    in_flight: set[Future[T]] = set()
    limit = max(1, concurrency)
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix=name) as pool:
        while True:
            while len(in_flight) < limit and not stop.is_set():
                unit = next(pending, None)
                if unit is None:
                    break
                in_flight.add(pool.submit(unit))
            if not in_flight:
                return
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
