"""Eval datasets, runs, summaries, comparisons and the gate over real SQL (SQLite and PostgreSQL), with a scripted
pipeline in place of retrieval and a model."""

from __future__ import annotations

import csv
import io
import math
import threading
from collections.abc import Callable

import pytest
import scipy.stats

from tests.evaluation_fakes import SAMPLE_ITEMS, ScriptedPipeline
from tests.playground_fakes import Recorder
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalDatasetService
from workbench.evaluation.reports import EvalReports
from workbench.evaluation.runs import EvalRunService, RunBusy
from workbench.evaluation.stats import mean_ci
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = pytest.mark.integration

UowFactory = Callable[[], SqlUnitOfWork]


def _setup(make_uow: UowFactory, pipeline: ScriptedPipeline | None = None) -> tuple[EvalRunService, EvalReports]:
    EvalDatasetService(make_uow).import_items("facts", SAMPLE_ITEMS, source="test", actor="ana")
    service = EvalRunService(make_uow, pipeline or ScriptedPipeline(), Recorder(), concurrency=2)
    return service, EvalReports(make_uow)


def test_run_scores_every_item_once_and_stores_summaries(make_uow: UowFactory) -> None:
    service, reports = _setup(make_uow)
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    assert run.status == "pending" and run.item_count == 12
    assert run.environment["libraries"]["ragas"] == "0.4.3"

    done = service.execute(run.id)

    assert (done.status, done.done_count, done.failed_count) == ("completed", 12, 0)
    summary = reports.summary(run.id)
    assert set(summary.metrics) == {"context_precision", "context_recall", "string_similarity", "bleu", "rouge_l",
                                    "chrf", "exact_match"}  # fmt: skip
    exact = summary.metrics["exact_match"]
    assert (exact.n_ok, exact.n_failed, exact.mean) == (12, 0, 1.0)
    with make_uow() as uow:
        values = [v for v, status, _ in uow.evaluation.metric_values(run.id)["string_similarity"] if status == "ok"]
    expected = mean_ci(values)
    similarity = summary.metrics["string_similarity"]
    assert (similarity.mean, similarity.ci_low, similarity.ci_high) == (expected.estimate, expected.low, expected.high)


def test_stopped_run_resumes_without_scoring_an_item_twice(make_uow: UowFactory) -> None:
    pipeline = ScriptedPipeline(delay_s=0.02)
    service, _ = _setup(make_uow, pipeline)
    (run,) = service.create_run("facts", EvalConfig(model="bad", knowledge_base="kb"), actor="ana")
    stop = threading.Event()
    seen: list[int] = []

    def on_item(done: int, total: int) -> None:
        seen.append(done)
        if done >= 5:
            stop.set()

    stopped = service.execute(run.id, stop=stop, on_item=on_item)
    assert stopped.status == "stopped" and 5 <= stopped.done_count < 12
    resumed = service.execute(run.id)

    assert (resumed.status, resumed.done_count) == ("completed", 12)
    assert sorted(pipeline.calls) == sorted(item["question"] for item in SAMPLE_ITEMS)  # each answered once
    with make_uow() as uow:
        assert len(uow.evaluation.done_item_ids(run.id)) == 12
        assert len(uow.evaluation.scores([run.id])) == 12 * 7


def test_a_run_being_worked_is_refused_and_a_stop_drops_its_queued_tasks(make_uow: UowFactory) -> None:
    service, _ = _setup(make_uow)
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    dispatch = service.dispatch(run.id)  # as a page does before sending the tasks to the queue
    assert len(dispatch.units) == 12 and service.run(run.id).live
    with pytest.raises(RunBusy, match="being worked on already"):
        service.execute(run.id)
    assert service.work_item(run.id, dispatch.id, dispatch.units[0][0])
    assert not service.work_item(run.id, dispatch.id, dispatch.units[0][0])  # delivered twice: stored once

    service.request_stop(run.id)
    stopped = service.run(run.id)
    assert (stopped.status, stopped.done_count, stopped.live) == ("stopped", 1, False)
    assert not service.work_item(run.id, dispatch.id, dispatch.units[1][0])  # a task of the stopped dispatch
    assert not service.work_item("deleted-run", dispatch.id, dispatch.units[1][0])
    assert service.run(run.id).done_count == 1

    resumed = service.dispatch(run.id)  # only what is missing is sent again
    assert len(resumed.units) == 11 and resumed.id != dispatch.id
    assert not service.work_item(run.id, dispatch.id, resumed.units[0][0])  # the old dispatch stays dropped
    for (item_id,) in resumed.units:
        assert service.work_item(run.id, resumed.id, item_id)
    done = service.run(run.id)
    assert (done.status, done.done_count, done.live) == ("completed", 12, False)
    assert done.finished_at is not None


def test_failed_items_are_counted_apart_and_retried(make_uow: UowFactory) -> None:
    broken = {SAMPLE_ITEMS[0]["question"], SAMPLE_ITEMS[3]["question"]}
    pipeline = ScriptedPipeline(fail=broken)
    service, reports = _setup(make_uow, pipeline)
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")

    done = service.execute(run.id)
    assert (done.status, done.done_count, done.failed_count) == ("completed", 12, 2)
    assert reports.summary(run.id).metrics["bleu"].n_ok == 10
    detail = reports.item([run.id], _key(SAMPLE_ITEMS[0]["question"]))
    assert detail.runs[0].status == "failed" and "went away" in (detail.runs[0].error or "")

    exported = list(csv.DictReader(io.StringIO(reports.export_csv([run.id]))))
    unanswered = [row for row in exported if row["metric"] == ""]
    assert len(unanswered) == 2 and all(row["cause"].startswith("no answer: local (echo)") for row in unanswered)

    pipeline.fail.clear()
    retried = service.execute(run.id, retry_failed=True)
    assert (retried.done_count, retried.failed_count) == (12, 0)
    assert reports.summary(run.id).metrics["bleu"].n_ok == 12


def test_repeats_share_a_configuration_and_are_numbered(make_uow: UowFactory) -> None:
    service, _ = _setup(make_uow)
    config = EvalConfig(model="good", knowledge_base="kb", tags=("nightly",))
    first = service.create_run("facts", config, actor="ana", repeats=2)
    third = service.create_run("facts", config.model_copy(update={"name": "renamed"}), actor="ana")
    other = service.create_run("facts", config.model_copy(update={"top_k": 2}), actor="ana")
    assert [r.repeat for r in first + third] == [1, 2, 3]
    assert len({r.config_hash for r in first + third}) == 1
    assert other[0].repeat == 1 and other[0].config_hash != first[0].config_hash


def test_compare_pairs_items_and_matches_scipy(make_uow: UowFactory) -> None:
    service, reports = _setup(make_uow)
    (good,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    (bad,) = service.create_run("facts", EvalConfig(model="bad", knowledge_base="kb"), actor="ana")
    service.execute(good.id)
    service.execute(bad.id)

    comparison = reports.compare(good.id, bad.id)
    by_metric = {c.metric: c for c in comparison.metrics}
    similarity = by_metric["string_similarity"]
    with make_uow() as uow:
        scores = uow.evaluation.scores([good.id, bad.id], ["string_similarity"])
    base = {k: v for r, k, _, v, _, _ in scores if r == good.id}
    cand = {k: v for r, k, _, v, _, _ in scores if r == bad.id}
    keys = sorted(base)
    differences = [cand[k] - base[k] for k in keys]
    reference = scipy.stats.wilcoxon(differences, zero_method="wilcox")
    assert similarity.n == 12
    assert math.isclose(similarity.test.p_value, reference.pvalue, rel_tol=1e-12)
    assert similarity.delta.estimate < 0 and similarity.losses == 8 and similarity.ties == 4
    assert similarity.p_adjusted >= similarity.test.p_value
    biggest = comparison.deltas["string_similarity"][0]
    assert biggest.delta == min(differences) and biggest.question

    verdicts = reports.gate(good.id, bad.id, {"string_similarity": 0.05, "exact_match": 0.9})
    assert [(v.metric, v.failed) for v in verdicts] == [("string_similarity", True), ("exact_match", False)]
    assert not any(v.failed for v in reports.gate(good.id, good.id, {"string_similarity": 0.0}))


def test_runs_table_trend_and_export(make_uow: UowFactory) -> None:
    service, reports = _setup(make_uow)
    (a,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb", tags=("base",)), actor="ana")
    (b,) = service.create_run("facts", EvalConfig(model="bad", knowledge_base="kb"), actor="ana")
    service.execute(a.id)
    service.execute(b.id)

    rows = reports.runs(dataset="facts")
    assert [r.run.id for r in rows] == [b.id, a.id]
    assert [r.run.id for r in reports.runs(tag="base")] == [a.id]
    assert reports.runs(dataset="nope") == []
    trend = reports.trend("facts", "exact_match")
    assert [p.run.id for p in trend] == [a.id, b.id] and trend[0].mean == 1.0

    exported = list(csv.DictReader(io.StringIO(reports.export_csv([a.id, b.id]))))
    assert len(exported) == 2 * 12 * 7
    assert {row["metric"] for row in exported} >= {"bleu", "exact_match"}
    assert all(row["question"].startswith("What is fact") for row in exported)
    first = next(row for row in exported if row["run_id"] == a.id and row["question"] == "What is fact 3?")
    assert (first["model"], first["prompt_version"], first["knowledge_base"], first["top_k"]) == (
        "good",
        "1",
        "kb",
        "4",
    )
    assert first["answer"] == "Fact 3 is 21 units."


def _key(question: str) -> str:
    from workbench.evaluation.datasets import item_key

    return item_key(question)


def test_listing_runs_by_author_and_status(make_uow: UowFactory) -> None:
    service, _ = _setup(make_uow)
    (mine,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    (done,) = service.create_run("facts", EvalConfig(model="bad", knowledge_base="kb"), actor="ana")
    (theirs,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb", top_k=2), actor="bo")
    service.execute(done.id)

    unfinished = service.runs(created_by="ana", statuses=("pending", "running", "stopped", "failed"))
    assert [r.id for r in unfinished] == [mine.id]
    watched = service.runs(ids=[done.id], created_by="ana", statuses=("pending",))
    assert [r.id for r in watched] == [done.id, mine.id]
    assert [r.id for r in service.runs(ids=[theirs.id])] == [theirs.id]


def test_a_failed_dispatch_says_why_and_resumes(make_uow: UowFactory) -> None:
    service, _ = _setup(make_uow)
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    dispatch = service.dispatch(run.id)
    service.fail(run.id, dispatch.id, "The task queue at redis://q:6379 does not answer.")
    assert service.progress(run.id) == (False, "The task queue at redis://q:6379 does not answer.")
    failed = service.run(run.id)
    assert (failed.status, failed.resumable) == ("failed", True)

    resumed = service.execute(run.id)
    assert (resumed.status, resumed.done_count, resumed.error, resumed.live) == ("completed", 12, None, False)


def test_summaries_are_refreshed_while_a_run_goes_on(make_uow: UowFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.evaluation import runs

    monkeypatch.setattr(runs, "SUMMARY_REFRESH_S", 0.0)
    pipeline = ScriptedPipeline()
    service, reports = _setup(make_uow, pipeline)
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    seen: list[int] = []

    def look(question: str) -> None:
        if len(pipeline.calls) == 8:
            seen.append(reports.summary(run.id).metrics["exact_match"].n_ok)

    pipeline.before_answer = look
    service.execute(run.id)
    assert seen and 0 < seen[0] < 12  # partial summaries were visible mid-run


def test_tag_and_status_filters_reach_past_the_limit(make_uow: UowFactory) -> None:
    service, reports = _setup(make_uow)
    (tagged,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb", tags=("old",)), actor="ana")
    for top_k in (2, 3, 5):
        service.create_run("facts", EvalConfig(model="good", knowledge_base="kb", top_k=top_k), actor="ana")
    assert [s.run.id for s in reports.runs(tag="old", limit=2)] == [tagged.id]
    assert len(reports.runs(status="pending", limit=2)) == 2
    assert reports.runs(status="completed") == []


class FlakyJudge:
    """Grades faithfulness 0.5, times out on every third item, and cannot parse answer relevancy on odd items."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, sample: object, metrics: list[str]) -> list[object]:
        from workbench.evaluation.metrics import FailureCause, MetricScore

        self.calls += 1
        i = int(str(sample.question).rsplit(maxsplit=1)[-1].rstrip("?"))  # type: ignore[attr-defined]
        scores = []
        for metric in metrics:
            if metric == "faithfulness" and i % 3 == 0:
                scores.append(MetricScore.failed(metric, FailureCause.TIMEOUT, "judge timed out after 1 s"))
            elif metric == "answer_relevancy" and i % 2 == 1:
                scores.append(MetricScore.failed(metric, FailureCause.UNPARSEABLE, "no JSON (after 4 attempts)"))
            else:
                scores.append(MetricScore.ok(metric, 0.5))
        return scores


def test_judge_failures_are_stored_with_their_cause_and_counted_apart(make_uow: UowFactory) -> None:
    judge = FlakyJudge()
    EvalDatasetService(make_uow).import_items("facts", SAMPLE_ITEMS, source="test", actor="ana")
    service = EvalRunService(make_uow, ScriptedPipeline(), Recorder(), judge_for=lambda model: judge)
    config = EvalConfig(model="good", knowledge_base="kb", judge_model="judge",
                        metrics=("exact_match", "faithfulness", "answer_relevancy"))  # fmt: skip
    (run,) = service.create_run("facts", config, actor="ana")
    service.execute(run.id)

    summary = EvalReports(make_uow).summary(run.id).metrics
    faithfulness, relevancy = summary["faithfulness"], summary["answer_relevancy"]
    assert (faithfulness.n_ok, faithfulness.n_failed, faithfulness.failures) == (8, 4, {"timeout": 4})
    assert (relevancy.n_ok, relevancy.n_failed, relevancy.failures) == (6, 6, {"unparseable": 6})
    assert faithfulness.mean == relevancy.mean == 0.5  # failures are not averaged in as zeros
    assert summary["exact_match"].n_ok == 12 and judge.calls == 12
    detail = EvalReports(make_uow).item([run.id], _key("What is fact 3?")).runs[0]
    assert detail.scores["faithfulness"] == (None, "failed", "timeout", "judge timed out after 1 s")


def test_the_gate_refuses_unfinished_runs_and_fails_a_candidate_that_left_items_unscored(
    make_uow: UowFactory,
) -> None:
    from workbench.evaluation.runs import EvalRunError

    broken = {item["question"] for item in SAMPLE_ITEMS[:3]}
    service, reports = _setup(make_uow, ScriptedPipeline(fail=broken))
    (good,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    (partial,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb", top_k=2), actor="ana")
    (pending,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb", top_k=3), actor="ana")
    clean = EvalRunService(make_uow, ScriptedPipeline(), Recorder())
    clean.execute(good.id)
    service.execute(partial.id)  # completed, but three answers failed

    (verdict,) = reports.gate(good.id, partial.id, {"exact_match": 0.5})
    assert (verdict.worse, verdict.missing, verdict.failed) == (False, 3, True)
    with pytest.raises(EvalRunError, match=r"candidate run .* is pending \(0 of 12 items\)"):
        reports.gate(good.id, pending.id, {"exact_match": 0.5})


def test_a_run_resumed_with_other_library_versions_records_them(make_uow: UowFactory) -> None:
    pipeline = ScriptedPipeline()
    service, _ = _setup(make_uow, pipeline)
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    with make_uow() as uow:  # as if the run had started under an older ragas
        row = uow.evaluation.run(run.id)
        assert row is not None
        row.environment = {**row.environment, "libraries": {**row.environment["libraries"], "ragas": "0.4.2"}}
        uow.commit()

    resumed = service.execute(run.id)

    [note] = resumed.environment["resumed_with"]
    assert note["changed"] == {"ragas": ["0.4.2", "0.4.3"]}
    assert service.execute(run.id).environment["resumed_with"] == [note]  # nothing changed the second time


def test_a_quiet_dispatch_offers_its_missing_items_again(make_uow: UowFactory) -> None:
    from datetime import timedelta

    service, _ = _setup(make_uow)
    (run,) = service.create_run("facts", EvalConfig(model="good", knowledge_base="kb"), actor="ana")
    assert service.stalled(timedelta(0)) == []  # not dispatched: nothing is owed
    dispatch = service.dispatch(run.id)
    assert service.work_item(run.id, dispatch.id, dispatch.units[0][0])
    assert service.stalled(timedelta(hours=1)) == []  # it stored a result just now
    [again] = service.stalled(timedelta(0))
    assert (again.run_id, again.id, again.units) == (run.id, dispatch.id, dispatch.units[1:])
    service.request_stop(run.id)
    assert service.stalled(timedelta(0)) == []  # stopped: its tasks are not owed any more
