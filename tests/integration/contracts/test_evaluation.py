"""The evaluation repository's contract (datasets, versions, items, runs and their dispatch, results, scores and
summaries), on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import (
    eval_dataset_row,
    eval_item_row,
    eval_result_row,
    eval_run_row,
    eval_score_row,
    eval_summary_row,
    eval_version_row,
)
from tests.integration.contracts.backends import Backend, at
from workbench.storage.sql.models import EvalDatasetVersionRow, EvalItemRow, EvalRunRow


@dataclass
class Run:
    version: EvalDatasetVersionRow
    items: list[EvalItemRow]
    run: EvalRunRow


@pytest.fixture
def run(backend: Backend) -> Run:
    """A dataset version of three items and one run of it."""
    dataset = eval_dataset_row("qa")
    version = eval_version_row(dataset.id, 1, item_count=3)
    items = [eval_item_row(version.id, position) for position in range(3)]
    row = eval_run_row(version.id, item_count=3, created_at=at(0))
    backend.seed(dataset, version, *items, row)
    return Run(version, items, row)


def test_datasets_versions_and_items(backend: Backend) -> None:
    qa, faq = eval_dataset_row("qa", description="questions"), eval_dataset_row("faq")
    versions = [eval_version_row(qa.id, n, source_detail={"file": f"v{n}.csv"}) for n in (1, 3, 2)]
    with backend.make_uow() as uow:
        uow.evaluation.add_all([qa, faq])
        uow.evaluation.flush()
        for row in versions:
            uow.evaluation.add(row)
        uow.evaluation.flush()
        uow.evaluation.add_all([eval_item_row(versions[0].id, p, item_key=f"k{p}", tags=["t"]) for p in (2, 0, 1)])
        uow.evaluation.add(eval_item_row(versions[1].id, 0, item_key="k1"))
        uow.commit()
    with backend.make_uow() as uow:
        assert [row.name for row in uow.evaluation.datasets()] == ["faq", "qa"]
        found = uow.evaluation.dataset_by_name("qa")
        assert found is not None
        assert (found.id, found.description) == (qa.id, "questions")
        assert uow.evaluation.dataset_by_name("missing") is None
        assert [row.version for row in uow.evaluation.versions(qa.id)] == [3, 2, 1]
        assert [row.version for row in uow.evaluation.versions()] == [3, 2, 1]
        assert uow.evaluation.versions(faq.id) == []
        latest, first = uow.evaluation.version_of(qa.id), uow.evaluation.version_of(qa.id, 1)
        assert latest is not None
        assert first is not None
        assert (latest.version, first.source_detail) == (3, {"file": "v1.csv"})
        assert uow.evaluation.version_of(qa.id, 9) is None
        assert uow.evaluation.version_of(faq.id) is None
        items = uow.evaluation.items(versions[0].id)
        assert [(row.position, row.item_key, row.tags) for row in items] == [(0, "k0", ["t"]), (1, "k1", ["t"]),
                                                                             (2, "k2", ["t"])]  # fmt: skip
        with_key = uow.evaluation.items_with_key([versions[0].id, versions[1].id], "k1")
        assert sorted(row.version_id for row in with_key) == sorted([versions[0].id, versions[1].id])
        assert uow.evaluation.items_with_key([versions[2].id], "k1") == []
        assert uow.evaluation.dataset_names([versions[0].id, versions[1].id, "missing"]) == {
            versions[0].id: ("qa", 1), versions[1].id: ("qa", 3),
        }  # fmt: skip


def test_dataset_names_versions_and_positions_are_unique(backend: Backend) -> None:
    dataset = eval_dataset_row("qa")
    version = eval_version_row(dataset.id, 1)
    backend.seed(dataset, version, eval_item_row(version.id, 0))
    for row in (eval_dataset_row("qa"), eval_version_row(dataset.id, 1), eval_item_row(version.id, 0)):
        with backend.conflict(), backend.make_uow() as uow:
            uow.evaluation.add(row)
            uow.evaluation.flush()


def test_runs_newest_first_with_filters_and_lookups(backend: Backend, run: Run) -> None:
    other = eval_dataset_row("other")
    other_version = eval_version_row(other.id, 1)
    runs = {
        "later": eval_run_row(run.version.id, created_by="ana", status="completed", created_at=at(2), repeat=2),
        "other": eval_run_row(other_version.id, created_by="bob", status="failed", created_at=at(1)),
        "newest": eval_run_row(run.version.id, created_by="bob", config_hash="d" * 64, created_at=at(3)),
    }
    backend.seed(other, other_version, *runs.values())
    names = {row.id: name for name, row in runs.items()} | {run.run.id: "first"}

    def listed(**filters: Any) -> list[str]:
        with backend.make_uow() as uow:
            return [names[row.id] for row in uow.evaluation.runs(**filters)]

    assert listed() == ["newest", "later", "other", "first"]
    assert listed(limit=2) == ["newest", "later"]
    assert listed(dataset_id=other.id) == ["other"]
    assert listed(version_ids=[run.version.id]) == ["newest", "later", "first"]
    assert listed(created_by="bob") == ["newest", "other"]
    assert listed(statuses=["completed", "failed"]) == ["later", "other"]
    assert listed(created_by="bob", dataset_id=run.version.dataset_id, statuses=["pending"]) == ["newest"]
    with backend.make_uow() as uow:
        stored = uow.evaluation.run(run.run.id)
        assert stored is not None
        assert (stored.status, stored.repeat, stored.done_count, stored.tags) == ("pending", 1, 0, [])
        assert uow.evaluation.run("missing") is None
        assert sorted(row.id for row in uow.evaluation.runs_by_id([run.run.id, runs["other"].id, "missing"])) == sorted(
            [run.run.id, runs["other"].id]
        )
        assert uow.evaluation.last_repeat(run.version.id, "c" * 64) == 2
        assert uow.evaluation.last_repeat(run.version.id, "e" * 64) == 0
        every = sorted(names)
        assert uow.evaluation.run_ids_starting("") == every[:2]
        assert uow.evaluation.run_ids_starting(every[3][:8], limit=5) == [every[3]]
        assert uow.evaluation.run_ids_starting("zzz") == []


def test_one_dispatch_at_a_time_ended_only_by_its_holder(backend: Backend, run: Run) -> None:
    run_id = run.run.id
    with backend.make_uow() as uow:
        assert not uow.evaluation.end_dispatch(run_id, None, "stopped", None, None)  # nobody works on it
        assert uow.evaluation.begin_dispatch(run_id, "d1", at(1))
        assert not uow.evaluation.begin_dispatch(run_id, "d2", at(2))  # worked already
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.evaluation.run(run_id)
        assert stored is not None
        assert (stored.status, stored.started_at, stored.dispatch_id) == ("running", at(1), "d1")
        assert not uow.evaluation.end_dispatch(run_id, "d0", "completed", None, at(21))  # an old dispatch's task
        assert uow.evaluation.end_dispatch(run_id, "d1", "failed", "judge down", at(22))
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.evaluation.run(run_id)
        assert stored is not None
        assert (stored.status, stored.error, stored.finished_at, stored.dispatch_id) == (
            "failed", "judge down", at(22), None,
        )  # fmt: skip
        assert uow.evaluation.begin_dispatch(run_id, "d2", at(30))  # a retry: the first start is kept
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.evaluation.run(run_id)
        assert stored is not None
        assert (stored.status, stored.started_at, stored.error, stored.finished_at) == ("running", at(1), None, None)
        assert uow.evaluation.end_dispatch(run_id, None, "stopped", None, None)  # a stop ends whichever holds it
        assert not uow.evaluation.begin_dispatch("missing", "d3", at(0))
        assert not uow.evaluation.end_dispatch("missing", None, "stopped", None, None)
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.evaluation.run(run_id)
        assert stored is not None
        assert (stored.status, stored.dispatch_id) == ("stopped", None)


def test_counts_tags_and_results(backend: Backend, run: Run) -> None:
    first, second, third = run.items
    backend.seed(
        eval_result_row(run.run.id, first, answer="a0", contexts=[{"text": "c", "source": "doc", "score": 0.5}]),
        eval_result_row(run.run.id, second, status="failed", error="timeout"),
    )
    with backend.make_uow() as uow:
        assert uow.evaluation.set_counts(run.run.id) == (2, 1)
        uow.evaluation.set_tags(run.run.id, ["baseline", "nightly"])
        uow.evaluation.add(eval_result_row(run.run.id, third))
        assert uow.evaluation.set_counts(run.run.id) == (3, 1)  # the pending result is counted
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.evaluation.run(run.run.id)
        assert stored is not None
        assert (stored.done_count, stored.failed_count, stored.tags) == (3, 1, ["baseline", "nightly"])
        assert uow.evaluation.done_item_ids(run.run.id) == {first.id, second.id, third.id}
        assert uow.evaluation.done_item_ids("missing") == set()
        assert sorted(row.item_key for row in uow.evaluation.results(run.run.id)) == ["key0", "key1", "key2"]
        [found] = uow.evaluation.results(run.run.id, ["key0"])
        assert (found.answer, found.contexts) == ("a0", [{"text": "c", "source": "doc", "score": 0.5}])
        assert uow.evaluation.results(run.run.id, []) == []


def test_a_result_per_run_and_item(backend: Backend, run: Run) -> None:
    backend.seed(eval_result_row(run.run.id, run.items[0]))
    with backend.conflict(), backend.make_uow() as uow:
        uow.evaluation.add(eval_result_row(run.run.id, run.items[0], status="failed"))
        uow.evaluation.flush()


def test_scores_as_tuples_rows_and_values_per_metric(backend: Backend, run: Run) -> None:
    first, second, _ = run.items
    other = eval_run_row(run.version.id)
    backend.seed(
        other,
        eval_score_row(run.run.id, first, "rouge_l", 0.5),
        eval_score_row(run.run.id, second, "rouge_l", None, cause="timeout"),
        eval_score_row(run.run.id, first, "faithfulness", 1.0),
        eval_score_row(other.id, first, "rouge_l", 0.25),
    )
    with backend.make_uow() as uow:
        assert sorted(uow.evaluation.scores([run.run.id, other.id], ["rouge_l"]), key=str) == sorted([
            (run.run.id, "key0", "rouge_l", 0.5, "ok", None),
            (run.run.id, "key1", "rouge_l", None, "failed", "timeout"),
            (other.id, "key0", "rouge_l", 0.25, "ok", None),
        ], key=str)  # fmt: skip
        assert sorted(uow.evaluation.scores([run.run.id], item_keys=["key0"]), key=str) == sorted([
            (run.run.id, "key0", "rouge_l", 0.5, "ok", None), (run.run.id, "key0", "faithfulness", 1.0, "ok", None),
        ], key=str)  # fmt: skip
        assert uow.evaluation.scores(["missing"]) == []
        metrics = sorted(row.metric for row in uow.evaluation.score_rows(run.run.id, ["key0"]))
        assert metrics == ["faithfulness", "rouge_l"]
        values = uow.evaluation.metric_values(run.run.id)
        assert {metric: sorted(found, key=str) for metric, found in values.items()} == {
            "rouge_l": sorted([(0.5, "ok", None), (None, "failed", "timeout")], key=str),
            "faithfulness": [(1.0, "ok", None)],
        }  # fmt: skip


def test_a_score_per_run_metric_and_item(backend: Backend, run: Run) -> None:
    backend.seed(eval_score_row(run.run.id, run.items[0], "rouge_l", 0.5))
    with backend.conflict(), backend.make_uow() as uow:
        uow.evaluation.add(eval_score_row(run.run.id, run.items[0], "rouge_l", 0.7))
        uow.commit()


def test_deleting_failed_results_forgets_their_items_scores(backend: Backend, run: Run) -> None:
    ok, failed_answer, failed_score = run.items
    other = eval_run_row(run.version.id)
    backend.seed(
        other,
        eval_result_row(run.run.id, ok), eval_score_row(run.run.id, ok, "rouge_l", 0.5),
        eval_result_row(run.run.id, failed_answer, status="failed"),
        eval_result_row(run.run.id, failed_score), eval_score_row(run.run.id, failed_score, "rouge_l", 0.5),
        eval_score_row(run.run.id, failed_score, "faithfulness", None),
        eval_result_row(other.id, failed_answer, status="failed"),
    )  # fmt: skip
    with backend.make_uow() as uow:
        uow.evaluation.delete_failed_results(run.run.id)
        uow.commit()
    with backend.make_uow() as uow:
        assert uow.evaluation.done_item_ids(run.run.id) == {ok.id}
        assert uow.evaluation.scores([run.run.id]) == [(run.run.id, "key0", "rouge_l", 0.5, "ok", None)]
        assert uow.evaluation.done_item_ids(other.id) == {failed_answer.id}  # another run's are kept


def test_summaries_are_replaced_per_run_and_read_by_metric(backend: Backend, run: Run) -> None:
    other = eval_run_row(run.version.id)
    backend.seed(other, eval_summary_row(run.run.id, "rouge_l", n_ok=1), eval_summary_row(other.id, "rouge_l"))
    with backend.make_uow() as uow:
        uow.evaluation.replace_summaries(run.run.id, [
            eval_summary_row(run.run.id, "rouge_l", n_ok=2, mean=0.5, failures={"timeout": 1}),
            eval_summary_row(run.run.id, "faithfulness", n_ok=3),
        ])  # fmt: skip
        uow.commit()
    with backend.make_uow() as uow:
        mine = uow.evaluation.summaries([run.run.id])
        assert [(row.metric, row.n_ok) for row in mine] == [("faithfulness", 3), ("rouge_l", 2)]
        assert (mine[1].mean, mine[1].failures) == (0.5, {"timeout": 1})
        assert sorted(row.run_id for row in uow.evaluation.summaries([run.run.id, other.id], ["rouge_l"])) == sorted(
            [run.run.id, other.id]
        )
        assert uow.evaluation.summaries(["missing"]) == []
