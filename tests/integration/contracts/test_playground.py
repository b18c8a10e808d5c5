"""The playground repository's contract (runs, variants, inputs, cells, the dispatch), on the fake, SQLite and
PostgreSQL."""

from __future__ import annotations

from tests.factories import (
    playground_cell_row,
    playground_input_row,
    playground_run_row,
    playground_variant_row,
    random_user,
)
from tests.integration.contracts.backends import Backend, at
from workbench.storage.sql.models import PlaygroundRunRow


def _run(backend: Backend, **overrides: object) -> PlaygroundRunRow:
    run = playground_run_row(**overrides)
    backend.seed(run)
    return run


def test_a_run_with_its_variants_and_inputs_in_order(backend: Backend) -> None:
    run = playground_run_row(title="Compare", kind="dataset", row_count=3)
    with backend.make_uow() as uow:
        uow.playground.add_run(
            run,
            [playground_variant_row(run.id, p, model_id=f"m{p}") for p in (1, 0)],
            [playground_input_row(run.id, i, values={"q": f"q{i}"}) for i in (2, 0, 1)],
        )
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.playground.get(run.id)
        assert stored is not None
        assert (stored.title, stored.kind, stored.row_count) == ("Compare", "dataset", 3)
        assert (stored.status, stored.dispatch_id, stored.concurrency, stored.mapping) == ("pending", None, 1, {})
        assert [v.model_id for v in uow.playground.variants(run.id)] == ["m0", "m1"]
        assert [i.values for i in uow.playground.inputs(run.id)] == [{"q": "q0"}, {"q": "q1"}, {"q": "q2"}]
        assert uow.playground.get("missing") is None
        assert uow.playground.variant_counts([run.id, "missing"]) == {run.id: 2}


def test_list_runs_newest_first_by_user_and_limited(backend: Backend) -> None:
    ana, bob = random_user(), random_user()
    backend.seed(ana, bob, *[playground_run_row(user_id=ana.id, title=f"a{m}", created_at=at(m)) for m in (1, 3, 2)],
                 playground_run_row(user_id=bob.id, title="b", created_at=at(4)))  # fmt: skip
    with backend.make_uow() as uow:
        assert [r.title for r in uow.playground.list_runs()] == ["b", "a3", "a2", "a1"]
        assert [r.title for r in uow.playground.list_runs(ana.id)] == ["a3", "a2", "a1"]
        assert [r.title for r in uow.playground.list_runs(ana.id, limit=2)] == ["a3", "a2"]
        assert uow.playground.list_runs("nobody") == []


def test_cells_in_grid_order_counts_and_retrying_the_failed(backend: Backend) -> None:
    run, other = _run(backend), _run(backend)
    with backend.make_uow() as uow:
        for row, position, status in [(1, 0, "ok"), (0, 1, "error"), (0, 0, "ok"), (1, 1, "timeout")]:
            uow.playground.add_cell(
                playground_cell_row(run.id, row, position, status=status, output=f"{row}{position}")
            )
        uow.playground.add_cell(playground_cell_row(other.id, 0, 0, status="error"))
        uow.commit()
    with backend.make_uow() as uow:
        assert [c.output for c in uow.playground.cells(run.id)] == ["00", "01", "10", "11"]
        assert uow.playground.done_keys(run.id) == {(0, 0), (0, 1), (1, 0), (1, 1)}  # failed cells are done too
        assert uow.playground.cell_counts([run.id, other.id]) == {run.id: {"ok": 2, "error": 1, "timeout": 1},
                                                                  other.id: {"error": 1}}  # fmt: skip
        assert uow.playground.cell_counts(["missing"]) == {}
        assert uow.playground.delete_failed_cells(run.id) == 2
        uow.commit()
    with backend.make_uow() as uow:
        assert uow.playground.done_keys(run.id) == {(0, 0), (1, 0)}
        assert uow.playground.cell_counts([other.id]) == {other.id: {"error": 1}}


def test_a_cell_is_stored_once(backend: Backend) -> None:
    run = _run(backend)
    backend.seed(playground_cell_row(run.id, 0, 0))
    with backend.conflict(), backend.make_uow() as uow:
        uow.playground.add_cell(playground_cell_row(run.id, 0, 0, status="error"))
        uow.commit()
    with backend.make_uow() as uow:
        assert [c.status for c in uow.playground.cells(run.id)] == ["ok"]


def test_one_dispatch_at_a_time_ended_only_by_its_holder(backend: Backend) -> None:
    run = _run(backend)
    with backend.make_uow() as uow:
        assert uow.playground.begin_dispatch(run.id, "d1", at(0))
        assert not uow.playground.begin_dispatch(run.id, "d2", at(5))  # worked already
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.playground.get(run.id)
        assert stored is not None
        assert (stored.status, stored.dispatch_id) == ("running", "d1")
        assert not uow.playground.end_dispatch(run.id, "d0", "done", None, at(22))  # an old dispatch's task
        assert uow.playground.end_dispatch(run.id, "d1", "failed", "boom", at(23))
        assert not uow.playground.end_dispatch(run.id, None, "stopped", None, None)  # ended: nothing to stop
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.playground.get(run.id)
        assert stored is not None
        assert (stored.status, stored.error, stored.finished_at, stored.dispatch_id) == ("failed", "boom", at(23), None)
        assert stored.updated_at > run.updated_at
        assert not uow.playground.begin_dispatch("missing", "d3", at(0))
