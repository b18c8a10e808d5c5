"""QueuedRuns over the fake repositories: a start sends one task per missing unit, a queue that does not answer
leaves the run failed with the reason (and resumable), and a run being worked is not sent twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from tests.evaluation_fakes import SAMPLE_ITEMS, ScriptedPipeline
from tests.fakes.uow import FakeUnitOfWork
from tests.playground_fakes import Recorder
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalDatasetService
from workbench.evaluation.runs import EvalRunService
from workbench.services.queued_runs import QueuedRuns, QueueError


class Broker:
    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.sent: list[tuple[str, list[Any]]] = []

    def send(self, task: str, arglists: Iterable[Sequence[Any]]) -> int:
        if self.down:
            raise RuntimeError("The task queue at redis://q:6379/0 does not answer.")
        batch = [(task, list(args)) for args in arglists]
        self.sent += batch
        return len(batch)


@pytest.fixture
def service() -> EvalRunService:
    store = FakeUnitOfWork()

    def uow() -> FakeUnitOfWork:
        return store

    EvalDatasetService(uow).import_items("facts", SAMPLE_ITEMS, source="test", actor="ana")
    return EvalRunService(uow, ScriptedPipeline(), Recorder())


def test_a_start_sends_one_task_per_missing_item_and_only_once(service: EvalRunService) -> None:
    broker = Broker()
    jobs = QueuedRuns(service, broker.send, "workbench.eval.item")
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    assert jobs.start(run.id) and jobs.is_running(run.id)
    assert len(broker.sent) == 12 and {task for task, _ in broker.sent} == {"workbench.eval.item"}
    dispatch_id = service.run(run.id).dispatch_id
    assert all(args[:2] == [run.id, dispatch_id] for _, args in broker.sent)
    assert not jobs.start(run.id) and len(broker.sent) == 12  # being worked: not sent again
    for _, (run_id, dispatch, item_id) in broker.sent[:5]:  # as workers would
        service.work_item(run_id, dispatch, item_id)
    jobs.stop(run.id)
    assert not jobs.is_running(run.id) and jobs.wait(run.id, timeout=0)
    assert jobs.start(run.id)
    assert len(broker.sent) == 12 + 7  # the resume sends only what is missing


def test_a_queue_that_does_not_answer_leaves_the_run_failed_with_the_reason(service: EvalRunService) -> None:
    broker = Broker(down=True)
    jobs = QueuedRuns(service, broker.send, "workbench.eval.item")
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    with pytest.raises(QueueError, match=r"does not answer.*resume it once the queue is back"):
        jobs.start(run.id)
    failed = service.run(run.id)
    assert (failed.status, failed.live, failed.resumable) == ("failed", False, True)
    assert "does not answer" in (jobs.error(run.id) or "")
    broker.down = False
    assert jobs.start(run.id) and len(broker.sent) == 12
