"""Runs as tasks on a real broker (Redis and RabbitMQ), worked by real `workbench worker` processes over real
SQLite, the MongoDB-wire run log and a real local model: two workers finish one eval run together, one of them
killed with -9 mid-run, and every item ends scored exactly once; a stop drops the queued cells of a playground run,
and a resume finishes it without repeating one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.integration.queue.conftest import MODEL, QueueWorld
from tests.workers import start_worker, stop_worker, wait_until
from workbench.evaluation.config import EvalConfig
from workbench.playground.variants import Variant

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]
CONFIG = EvalConfig(model=MODEL, knowledge_base=None, max_tokens=8, metrics=("exact_match", "string_similarity"))


def succeeded(log: Path) -> int:
    return log.read_text(errors="replace").count("succeeded in")


def test_two_workers_finish_a_run_and_a_killed_one_loses_and_repeats_nothing(world: QueueWorld, tmp_path: Path) -> None:
    runs = world.container.eval_runs
    (run,) = runs.create_run("facts", CONFIG, actor="ci")
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    first = start_worker(logs[0], "--concurrency", "1", "--name", "w1@test")
    second = start_worker(logs[1], "--concurrency", "1", "--name", "w2@test")
    try:
        assert world.container.eval_jobs.start(run.id)
        wait_until(lambda: succeeded(logs[0]) >= 2 and succeeded(logs[1]) >= 1, what="both workers to work items")
        first.kill()  # -9: its task in hand is neither stored nor acknowledged; the broker gives it to the other
        first.wait(10)
        wait_until(lambda: runs.run(run.id).status == "completed", timeout=240, what="the run to complete")
    finally:
        stop_worker(first)
        assert stop_worker(second) == 0  # SIGTERM: a warm shutdown
    done = runs.run(run.id)
    assert (done.done_count, done.failed_count, done.live) == (12, 0, False)
    with world.container.uow() as uow:
        items = [result.item_id for result in uow.evaluation.results(run.id)]
        scores = uow.evaluation.scores([run.id])
    assert len(items) == len(set(items)) == 12  # 0 lost, 0 duplicated
    per_item = Counter((score[1], score[2]) for score in scores)
    assert len(per_item) == 12 * 2 and set(per_item.values()) == {1}


def test_a_stop_drops_the_queued_cells_and_a_resume_repeats_none(world: QueueWorld, tmp_path: Path) -> None:
    playground, jobs = world.container.playground, world.container.playground_jobs
    variant = Variant(prompt_name="say", template_text="Say {{ word }}.", model_id=MODEL, max_tokens=4)
    run_id = playground.create_run(
        user_id=None, variants=[variant], rows=[{"word": f"w{i}"} for i in range(16)], kind="dataset"
    )
    worker = start_worker(tmp_path / "worker.log", "--concurrency", "1")
    try:
        assert jobs.start(run_id)
        assert not jobs.start(run_id)  # worked already: not sent twice
        wait_until(lambda: playground.run(run_id).done_cells >= 2, what="the first cells")
        jobs.stop(run_id)
        stopped = playground.run(run_id)
        assert (stopped.status, stopped.live) == ("stopped", False)
        wait_until(lambda: world.container.queue.status().depth == 0, what="the queued cells to be dropped")
        settled = playground.run(run_id).done_cells
        assert settled < 16  # the cells in hand when it stopped were finished, no more were started
        before = {(c.row_index, c.position): c.id for c in playground.cells(run_id)}

        assert jobs.start(run_id)  # resume: only the missing cells are sent
        wait_until(lambda: playground.run(run_id).status == "done", timeout=240, what="the run to finish")
    finally:
        assert stop_worker(worker) == 0
    cells = playground.cells(run_id)
    assert len(cells) == 16 and len({(c.row_index, c.position) for c in cells}) == 16
    assert {(c.row_index, c.position): c.id for c in cells if (c.row_index, c.position) in before} == before
