"""A playground dataset run through the faults an eval run rides out: a worker killed with -9 mid-run, and the
broker stopped and started again mid-run. Every cell ends stored exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.queue.conftest import MODEL, QueueWorld, configure, delete_queue
from tests.integration.queue.test_broker_outage import OwnRedis, redis, restart_mid_run  # noqa: F401 - the fixture, shared
from tests.integration.queue.test_workers import succeeded
from tests.workers import start_worker, stop_worker, wait_until
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.playground.variants import Variant

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]
ROWS = 24


def dataset_run(container: Container) -> str:
    variant = Variant(prompt_name="say", template_text="Say {{ word }}.", model_id=MODEL, max_tokens=4)
    return container.playground.create_run(
        user_id=None, variants=[variant], rows=[{"word": f"w{i}"} for i in range(ROWS)], kind="dataset"
    )


def assert_every_cell_once(container: Container, run_id: str) -> None:
    run = container.playground.run(run_id)
    assert (run.status, run.done_cells, run.live) == ("done", ROWS, False)
    cells = container.playground.cells(run_id)
    assert len(cells) == ROWS  # 0 duplicated
    assert {(cell.row_index, cell.position) for cell in cells} == {(row, 0) for row in range(ROWS)}  # 0 lost
    assert all(cell.error is None for cell in cells)


@pytest.mark.parametrize("world", ["amqp"], indirect=True)  # RabbitMQ redelivers a dead worker's task at once
def test_a_worker_killed_mid_run_loses_and_repeats_no_cell(world: QueueWorld, tmp_path: Path) -> None:
    run_id = dataset_run(world.container)
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    first = start_worker(logs[0], "--concurrency", "1", "--name", "w1@test")
    second = start_worker(logs[1], "--concurrency", "1", "--name", "w2@test")
    try:
        assert world.container.playground_jobs.start(run_id)
        wait_until(lambda: succeeded(logs[0]) >= 2 and succeeded(logs[1]) >= 1, what="both workers to work cells")
        first.kill()
        first.wait(10)
        wait_until(lambda: world.container.playground.run(run_id).status == "done", timeout=240,
                   what="the run to finish on the survivor")  # fmt: skip
    finally:
        stop_worker(first)
        assert stop_worker(second) == 0
    assert_every_cell_once(world.container, run_id)


def test_a_playground_run_rides_out_a_broker_restart(
    redis: OwnRedis,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    mongo_url: str,
    mongo_database_name: str,
    tmp_path: Path,
) -> None:
    configure(monkeypatch, redis.url, mongo_url, mongo_database_name)
    container = build_container(get_settings(), register_atexit=False)
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    workers = [start_worker(log, "--concurrency", "1") for log in logs]
    try:
        run_id = dataset_run(container)
        assert container.playground_jobs.start(run_id)
        restart_mid_run(redis, container, logs)
        wait_until(lambda: container.playground.run(run_id).status == "done", timeout=240,
                   what="the run to finish after the broker came back")  # fmt: skip
        assert all(worker.poll() is None for worker in workers)  # they reconnected; none gave up
        assert_every_cell_once(container, run_id)
    finally:
        for worker in workers:
            stop_worker(worker)
        delete_queue(get_settings())
        container.close()
