"""Slows password guessing: after a few failures a username is locked for a short, growing time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = 5,
        base_lock_s: float = 30.0,
        max_lock_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_failures = max_failures
        self._base_lock_s = base_lock_s
        self._max_lock_s = max_lock_s
        self._clock = clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def seconds_locked(self, username: str) -> float:
        with self._lock:
            entry = self._failures.get(username.strip().lower())
            return max(0.0, entry.locked_until - self._clock()) if entry else 0.0

    def failed(self, username: str) -> None:
        with self._lock:
            entry = self._failures.setdefault(username.strip().lower(), _Failures())
            entry.count += 1
            if entry.count >= self._max_failures:
                doublings = entry.count - self._max_failures
                lock = min(self._max_lock_s, self._base_lock_s * 2**doublings)
                entry.locked_until = self._clock() + lock

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username.strip().lower(), None)
