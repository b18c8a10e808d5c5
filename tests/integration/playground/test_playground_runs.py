"""Playground runs on SQLite and PostgreSQL with a scripted model: every cell once, stop/crash and resume,
dispatches, errors per cell, concurrency bounds, streaming and CSV export."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.playground_fakes import EchoRuntime, Recorder
from workbench.playground.service import Cell, PlaygroundError, PlaygroundService, RunBusy
from workbench.playground.variants import Variant
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = pytest.mark.integration

TEMPLATE = """---
name: ask
variables: [question]
parameters:
  temperature: 0.2
  max_tokens: 50
system: Be brief.
---
Q: {{ question }}"""


def variant(model: str = "echo", **kwargs: object) -> Variant:
    return Variant(prompt_name="ask", template_text=TEMPLATE, model_id=model, prompt_version=1, **kwargs)  # type: ignore[arg-type]


def rows(n: int) -> list[dict[str, str]]:
    return [{"question": f"question {i}"} for i in range(n)]


@pytest.fixture
def runtime() -> EchoRuntime:
    return EchoRuntime()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(make_uow: Callable[[], SqlUnitOfWork], runtime: EchoRuntime, recorder: Recorder) -> PlaygroundService:
    return PlaygroundService(make_uow, runtime, recorder, max_concurrency=4, max_rows=100)


def keys(cells: list[Cell]) -> list[tuple[int, int]]:
    return sorted((c.row_index, c.position) for c in cells)


def test_every_variant_runs_on_every_row_once(service: PlaygroundService, recorder: Recorder) -> None:
    run_id = service.create_run(user_id=None, variants=[variant(), variant(temperature=0.9)], rows=rows(5),
                                concurrency=2, dataset_name="qs.csv", mapping={"question": "q"})  # fmt: skip
    run = service.execute(run_id)
    assert (run.status, run.done_cells, run.total_cells, run.progress) == ("done", 10, 10, 1.0)
    assert run.finished_at is not None and run.dispatch_id is None
    cells = service.cells(run_id)
    assert keys(cells) == [(r, p) for r in range(5) for p in range(2)]
    assert cells[0].output == "echo: Q: question 0"
    assert all(c.status == "ok" and c.latency_ms == 20.0 and c.ttft_ms == 5.0 for c in cells)
    # One run-log record per cell, sharing the cell's id, with the row and the variant.
    assert sorted(r.id for r in recorder.records) == sorted(c.id for c in cells)
    record = recorder.records[0]
    assert (record.run_id, record.prompt_name, record.prompt_version, record.metadata["channel"]) == (
        run_id, "ask", 1, "playground",
    )  # fmt: skip
    assert {r.parameters["temperature"] for r in recorder.records} == {0.2, 0.9}  # variant over template default
    assert service.execute(run_id).done_cells == 10  # running a finished run again does nothing
    assert len(recorder.records) == 10


def test_concurrency_is_bounded(make_uow: Callable[[], SqlUnitOfWork], recorder: Recorder) -> None:
    slow = EchoRuntime(delay_s=0.01)
    service = PlaygroundService(make_uow, slow, recorder, max_concurrency=4)
    run_id = service.create_run(user_id=None, variants=[variant(), variant()], rows=rows(6), concurrency=3)
    service.execute(run_id)
    assert 2 <= slow.max_in_flight <= 3
    with pytest.raises(PlaygroundError, match="between 1 and 4"):
        service.create_run(user_id=None, variants=[variant()], rows=rows(1), concurrency=5)


def test_a_stopped_run_resumes_without_repeating_cells(service: PlaygroundService, recorder: Recorder) -> None:
    run_id = service.create_run(user_id=None, variants=[variant(), variant()], rows=rows(8), concurrency=2)
    stop = threading.Event()
    seen: list[Cell] = []

    def on_cell(cell: Cell) -> None:
        seen.append(cell)
        if len(seen) == 5:
            stop.set()

    run = service.execute(run_id, stop=stop, on_cell=on_cell)
    assert run.status == "stopped"
    assert 5 <= run.done_cells < 16
    first = {c.id for c in service.cells(run_id)}
    run = service.execute(run_id)
    assert (run.status, run.done_cells) == ("done", 16)
    cells = service.cells(run_id)
    assert first <= {c.id for c in cells}  # finished cells kept, not redone
    assert keys(cells) == [(r, p) for r in range(8) for p in range(2)]
    assert len(recorder.records) == 16 == len({(r.metadata["row"], r.metadata["variant"]) for r in recorder.records})


def test_a_crashed_run_is_recorded_and_resumes(service: PlaygroundService, recorder: Recorder) -> None:
    run_id = service.create_run(user_id=None, variants=[variant()], rows=rows(6), concurrency=1)

    def crash(cell: Cell) -> None:
        if cell.row_index == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        service.execute(run_id, on_cell=crash)
    run = service.run(run_id)
    assert (run.status, run.done_cells) == ("failed", 3)
    assert run.error == "RuntimeError: power cut"
    assert service.execute(run_id).status == "done"
    assert len(recorder.records) == 6 == len(service.cells(run_id))


def test_a_run_has_one_runner_at_a_time(service: PlaygroundService) -> None:
    run_id = service.create_run(user_id=None, variants=[variant()], rows=rows(2))
    dispatch = service.dispatch(run_id)  # sent to the queue's workers, say
    assert [unit for unit in dispatch.units] == [[0, 0], [1, 0]]
    with pytest.raises(RunBusy, match="being worked on already"):
        service.execute(run_id)
    cell = service.work_cell(run_id, dispatch.id, 0, 0)
    assert cell is not None and cell.output == "echo: Q: question 0"
    assert service.work_cell(run_id, dispatch.id, 0, 0) is None  # delivered twice: stored once
    service.request_stop(run_id)
    assert service.work_cell(run_id, dispatch.id, 1, 0) is None  # a task of the stopped dispatch
    assert service.work_cell("deleted-run", dispatch.id, 1, 0) is None
    assert (service.run(run_id).status, service.run(run_id).done_cells) == ("stopped", 1)
    assert service.execute(run_id).status == "done"
    assert len(service.cells(run_id)) == 2


def test_a_stop_request_reaches_a_runner_in_another_service(
    make_uow: Callable[[], SqlUnitOfWork], recorder: Recorder
) -> None:
    slow = EchoRuntime(delay_s=0.05)
    runner = PlaygroundService(make_uow, slow, recorder)
    other = PlaygroundService(make_uow, slow, recorder)
    run_id = runner.create_run(user_id=None, variants=[variant()], rows=rows(60), concurrency=1)
    started = threading.Event()
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(runner.execute(run_id, on_cell=lambda c: started.set())))
    thread.start()
    assert started.wait(10)
    assert other.run(run_id).live  # seen from another process too: the run holds its dispatch
    other.request_stop(run_id)
    thread.join(30)
    run = runner.run(run_id)
    assert run.status == "stopped" and not run.live
    assert run.done_cells < 60
    snapshot = other.snapshot(run_id)
    assert (snapshot.run.id, len(snapshot.variants), len(snapshot.inputs), len(snapshot.cells)) == (
        run_id, 1, 60, run.done_cells,
    )  # fmt: skip
    assert [(r.id, r.variant_count) for r in other.runs()] == [(run_id, 1)]


def test_failures_stay_in_their_cells_and_can_be_retried(service: PlaygroundService, runtime: EchoRuntime) -> None:
    inputs = [{"question": "fine"}, {"question": "FAIL-ERROR"}, {"question": "FAIL-TIMEOUT"}, {"other": "x"}]
    run_id = service.create_run(user_id=None, variants=[variant(), variant("priced")], rows=inputs)
    run = service.execute(run_id)
    assert run.status == "done"
    assert run.counts == {"ok": 2, "error": 4, "timeout": 2}
    by_key = {(c.row_index, c.position): c for c in service.cells(run_id)}
    assert "server went away" in (by_key[1, 0].error or "")
    assert by_key[2, 0].status == "timeout"
    assert "question" in (by_key[3, 0].error or "")  # the missing variable is named
    assert by_key[0, 1].cost_usd == pytest.approx((10 * 1.0 + by_key[0, 1].output_tokens * 2.0) / 1e6)  # type: ignore[operator]
    assert by_key[0, 0].cost_usd is None  # a local model has no price
    calls = len(runtime.calls)
    assert calls == 6  # the row missing a variable never reached the model
    run = service.execute(run_id, retry_failed=True)
    assert len(runtime.calls) == calls + 4  # only the failed model calls again
    assert run.counts == {"ok": 2, "error": 4, "timeout": 2}


def test_streaming_deltas_reach_the_caller(service: PlaygroundService) -> None:
    run_id = service.create_run(user_id=None, variants=[variant(), variant()], rows=[{"question": "hi there"}],
                                kind="interactive", concurrency=2)  # fmt: skip
    deltas: dict[int, list[str]] = {0: [], 1: []}
    service.execute(run_id, on_delta=lambda row, position, text: deltas[position].append(text))
    assert "".join(deltas[0]) == "echo: Q: hi there" == "".join(deltas[1])
    assert len(deltas[0]) == 4
    assert service.run(run_id).title == "Try: hi there"


def test_export_is_the_grid(service: PlaygroundService) -> None:
    run_id = service.create_run(user_id=None, variants=[variant(), variant("priced")], rows=rows(3))
    service.execute(run_id)
    lines = list(csv.reader(io.StringIO(service.export_csv(run_id))))
    assert lines[0] == ["# variants", "v1: ask v1 · echo", "v2: ask v1 · priced"]
    header = lines[1]
    assert header[:2] == ["row", "question"]
    assert "v2 output" in header and "v1 latency_ms" in header
    assert len(lines) == 2 + 3
    assert lines[2][header.index("v2 output")] == "priced: Q: question 0"


def test_bad_runs_are_refused_before_anything_is_stored(service: PlaygroundService) -> None:
    with pytest.raises(PlaygroundError, match="between 1 and 4 variants"):
        service.create_run(user_id=None, variants=[variant()] * 5, rows=rows(1))
    with pytest.raises(PlaygroundError, match="no input rows"):
        service.create_run(user_id=None, variants=[variant()], rows=[])
    with pytest.raises(PlaygroundError, match="limit is 100"):
        service.create_run(user_id=None, variants=[variant()], rows=rows(101))
    with pytest.raises(PlaygroundError, match="temperature"):
        service.create_run(user_id=None, variants=[variant(temperature=3.0)], rows=rows(1))
    assert service.runs() == []


def test_ctrl_c_stops_the_run_and_keeps_its_cells(service: PlaygroundService) -> None:
    run_id = service.create_run(user_id=None, variants=[variant()], rows=rows(4))

    def interrupt(cell: Cell) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service.execute(run_id, on_cell=interrupt)
    run = service.run(run_id)
    assert (run.status, run.done_cells, run.error) == ("stopped", 1, None)
    with pytest.raises(PlaygroundError, match="no playground run"):
        service.export_csv("0" * 32)


def test_a_runner_whose_dispatch_was_replaced_stops_and_leaves_the_new_one_alone(
    make_uow: Callable[[], SqlUnitOfWork], recorder: Recorder
) -> None:
    slow = EchoRuntime(delay_s=0.05)
    runner = PlaygroundService(make_uow, slow, recorder)
    run_id = runner.create_run(user_id=None, variants=[variant()], rows=rows(80), concurrency=1)
    started = threading.Event()
    thread = threading.Thread(target=lambda: runner.execute(run_id, on_cell=lambda c: started.set()))
    thread.start()
    assert started.wait(10)
    elsewhere = PlaygroundService(make_uow, slow, recorder)
    elsewhere.request_stop(run_id)  # stopped and resumed elsewhere (on the queue, say)
    replaced = elsewhere.dispatch(run_id)
    thread.join(30)
    assert not thread.is_alive()
    after = runner.run(run_id)
    assert (after.dispatch_id, after.status) == (replaced.id, "running")  # untouched by the runner it replaced
    assert after.done_cells < 80


def test_a_quiet_dispatch_offers_its_missing_cells_again(service: PlaygroundService) -> None:
    run_id = service.create_run(user_id=None, variants=[variant(), variant(temperature=0.9)], rows=rows(2))
    dispatch = service.dispatch(run_id)
    assert service.work_cell(run_id, dispatch.id, 0, 0) is not None
    assert service.stalled(timedelta(hours=1)) == []
    [again] = service.stalled(timedelta(0))
    assert (again.run_id, again.id, again.units) == (run_id, dispatch.id, [[0, 1], [1, 0], [1, 1]])
