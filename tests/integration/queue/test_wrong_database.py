"""A worker started with settings that point at another database: it refuses the run's tasks with a message that
says so, hands them back to the queue and stops; a worker with the app's settings then works the whole run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.evaluation_fakes import SAMPLE_ITEMS
from tests.integration.queue.conftest import BROKERS, MODEL, broker_answers, configure, delete_queue
from tests.workers import start_worker, stop_worker, wait_until
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalDatasetService

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]
CONFIG = EvalConfig(model=MODEL, knowledge_base=None, max_tokens=4, metrics=("exact_match",))


@pytest.fixture
def app_side(monkeypatch: pytest.MonkeyPatch, mongo_url: str, mongo_database_name: str) -> Iterator[Container]:
    if not broker_answers(BROKERS["redis"]):
        if IN_CI:
            pytest.fail("Redis does not answer at 127.0.0.1:6379")
        pytest.skip("Redis does not answer at 127.0.0.1:6379")
    configure(monkeypatch, BROKERS["redis"], mongo_url, mongo_database_name)
    container = build_container(get_settings(), register_atexit=False)
    EvalDatasetService(container.uow).import_items("facts", SAMPLE_ITEMS, source="test", actor="ci")
    try:
        yield container
    finally:
        container.close()
        delete_queue(container.settings)


def test_a_worker_on_another_database_refuses_the_tasks_and_stops(app_side: Container, tmp_path: Path) -> None:
    runs = app_side.eval_runs
    (run,) = runs.create_run("facts", CONFIG, actor="ci")
    assert app_side.eval_jobs.start(run.id)
    sent = app_side.queue.depth()
    assert sent == len(SAMPLE_ITEMS)

    # The same broker and queue, but its own data folder: its embedded SQLite is another database.
    elsewhere = {**os.environ, "WORKBENCH_DATA_DIR": str(tmp_path / "another-machine")}
    wrong = start_worker(tmp_path / "wrong.log", "--concurrency", "1", env=elsewhere)
    try:
        assert wrong.wait(120) != 0
    finally:
        stop_worker(wrong)
    said = (tmp_path / "wrong.log").read_text(errors="replace")
    assert f"but run {run.id} was sent from another database (id {app_side.database_id})" in said
    assert "start workers with the app's settings" in said
    assert app_side.queue.depth() == sent  # every task handed back
    assert runs.run(run.id).done_count == 0

    right = start_worker(tmp_path / "right.log", "--concurrency", "1")
    try:
        wait_until(lambda: runs.run(run.id).status == "completed", timeout=240, what="the run to complete")
    finally:
        assert stop_worker(right) == 0
    done = runs.run(run.id)
    assert (done.done_count, done.failed_count) == (len(SAMPLE_ITEMS), 0)
