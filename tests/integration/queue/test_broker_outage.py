"""The broker going away mid-run: a Redis of the test's own (append-only file, so it keeps its tasks across a
restart, as the compose file's does) is stopped while two real workers work an eval run and started again on the
same port; the workers reconnect by themselves and the run ends with every item scored exactly once."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.queue.conftest import MODEL, configure, delete_queue
from tests.integration.queue.test_workers import succeeded
from tests.workers import start_worker, stop_worker, wait_until
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalDatasetService
from workbench.storage.runlog.embedded import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


class OwnRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                   "--appendonly", "yes", "--appendfsync", "always", "--save", ""]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, timeout=20, poll_s=0.1, what="redis-server to answer")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None

    def _answers(self) -> bool:
        ping = ["redis-cli", "-p", str(self.port), "ping"]
        result = subprocess.run(ping, check=False, capture_output=True, text=True)
        return result.stdout.strip() == "PONG"


def restart_mid_run(redis: OwnRedis, container: Container, logs: list[Path]) -> None:
    """Once the workers have stored three units, stop the broker, see the app find it away, and start it again on
    the same port and data: tasks wait in its append-only file; acknowledgements in flight fail."""
    wait_until(lambda: sum(succeeded(log) for log in logs) >= 3, what="the first units")
    redis.stop()
    time.sleep(3)
    assert not container.queue.status().reachable
    redis.start()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (Debian's redis-server package)")
    server = OwnRedis(tmp_path / "redis")
    server.folder.mkdir()
    server.start()
    yield server
    server.stop()


def test_workers_ride_out_a_broker_restart_and_lose_nothing(
    redis: OwnRedis, monkeypatch: pytest.MonkeyPatch, mongo_url: str, mongo_database_name: str, tmp_path: Path
) -> None:
    configure(monkeypatch, redis.url, mongo_url, mongo_database_name)
    container = build_container(get_settings(), register_atexit=False)
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    workers = [start_worker(log, "--concurrency", "1") for log in logs]
    try:
        from tests.evaluation_fakes import SAMPLE_ITEMS

        EvalDatasetService(container.uow).import_items("facts", SAMPLE_ITEMS, source="test", actor="ci")
        config = EvalConfig(model=MODEL, knowledge_base=None, max_tokens=8, metrics=("exact_match",))
        (run,) = container.eval_runs.create_run("facts", config, actor="ci")
        assert container.eval_jobs.start(run.id)
        restart_mid_run(redis, container, logs)
        wait_until(lambda: container.eval_runs.run(run.id).status == "completed", timeout=240,
                   what="the run to complete after the broker came back")  # fmt: skip
        assert all(worker.poll() is None for worker in workers)  # they reconnected; none gave up
        with container.uow() as uow:
            items = [result.item_id for result in uow.evaluation.results(run.id)]
        assert len(items) == len(set(items)) == 12
    finally:
        for worker in workers:
            stop_worker(worker)
        delete_queue(get_settings())
        container.close()
