"""Real `workbench worker` processes for tests: started over the test's environment (its settings), stopped with
SIGTERM (Celery's warm shutdown) or killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def start_worker(log_file: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "worker", "--loglevel", "INFO", *args],
            cwd=os.getcwd(), env=dict(env if env is not None else os.environ), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop_worker(process: subprocess.Popen[bytes], timeout: float = 60) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


@contextmanager
def running_worker(log_file: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """One worker over the current environment for the duration of the block."""
    process = start_worker(log_file, *args)
    try:
        yield process
    finally:
        stop_worker(process)


def wait_until(condition: object, timeout: float = 120, poll_s: float = 0.25, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll_s)


def answers_ok(url: str) -> bool:
    """True when GET url answers 200 now (for wait_until: a server coming up)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
