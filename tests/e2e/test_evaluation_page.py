"""The Evaluation page over the real services: two completed runs of a scripted pipeline on one dataset, a 'good'
model that repeats the reference answers and a 'bad' one that gets two items in three wrong."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import ui
from app.components.formatting import DASH
from app.views.evaluation import charts as eval_charts
from app.views.evaluation import compare as eval_compare
from app.views.evaluation import formatting as fmt
from app.views.evaluation import runs_table as eval_runs_table
from app.views.evaluation import state as keys
from tests.e2e.conftest import PROJECT_ROOT, AppEnvironment, open_page, signed_in
from tests.evaluation_fakes import SAMPLE_ITEMS, ScriptedPipeline
from tests.playground_fakes import Recorder
from workbench.domain.users import Role
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalDatasetService
from workbench.evaluation.reports import EvalReports
from workbench.evaluation.runs import EvalRunService
from workbench.evaluation.stats import Interval, MetricComparison, TestResult
from workbench.services import users as user_service

pytestmark = pytest.mark.e2e

PASSWORD = "analyst-pass-123"
CHANGED = "What is fact 1?"  # the bad model's answer differs here (i % 3 != 0), the good one repeats the reference


@dataclass
class Seeded:
    env: AppEnvironment
    good: str
    bad: str

    @property
    def reports(self) -> EvalReports:
        return EvalReports(self.env.uow)


def seed_runs(env: AppEnvironment, dataset: str = "facts") -> tuple[str, str]:
    EvalDatasetService(env.uow).import_items(dataset, SAMPLE_ITEMS, source="test", actor="ana")
    service = EvalRunService(env.uow, ScriptedPipeline(), Recorder())
    ids = []
    for model in ("good", "bad"):
        (run,) = service.create_run(dataset, EvalConfig(model=model, knowledge_base=None), actor="ana")
        assert service.execute(run.id).status == "completed"
        ids.append(run.id)
    return ids[0], ids[1]


@pytest.fixture
def seeded(app_env: AppEnvironment) -> Iterator[Seeded]:
    good, bad = seed_runs(app_env)
    yield Seeded(app_env, good, bad)


def evaluation(tab: str = "Runs", **state: object) -> AppTest:
    at = open_page(signed_in(), "evaluation")
    if tab != "Runs" or state:
        at.session_state[keys.TAB_KEY] = tab
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, column: str) -> pd.DataFrame:
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def texts(elements) -> str:  # type: ignore[no-untyped-def]
    """The elements' text as a reader sees it (Markdown escapes removed)."""
    return "\n".join(str(element.value) for element in elements).replace("\\", "")


def select_rows(at: AppTest, env: AppEnvironment, rows: list[int]) -> AppTest:
    """Select rows of the unfiltered runs table (newest first), as a click on their checkboxes does."""
    shown = [s.run.id for s in EvalReports(env.uow).runs()]
    at.session_state[eval_runs_table.table_key(shown)] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


def test_without_runs_the_page_says_how_to_start(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "evaluation")
    assert at.title[0].value == "Evaluation"
    assert "No eval runs yet" in texts(at.info)
    assert "workbench eval run --dataset northwind-qa --config datasets/eval/configs/baseline.yaml" in texts(at.info)
    assert "Eval datasets" in texts(at.info)
    assert not at.tabs


def test_the_runs_table_lists_both_runs_with_their_means(seeded: Seeded) -> None:
    at = evaluation()
    runs = table(at, "Exact match").set_index("model")
    assert set(runs.index) == {"good", "bad"}
    assert runs.loc["good", "name"] == "good · rag-answer v1 · no retrieval"
    assert (runs.loc["good", "dataset"], runs.loc["good", "status"], runs.loc["good", "progress"]) == (
        "facts v1", "completed", 1.0,
    )  # fmt: skip
    assert (runs.loc["bad", "prompt"], runs.loc["bad", "KB"], runs.loc["bad", "failed items"]) == (
        "rag-answer v1", "none", 0,
    )  # fmt: skip
    assert pd.isna(runs.loc["bad", "top_k"])  # no retrieval: top_k does not apply
    bad = seeded.reports.summary(seeded.bad).metrics
    assert runs.loc["good", "Exact match"] == 1.0
    assert runs.loc["bad", "Exact match"] == pytest.approx(bad["exact_match"].mean)
    assert runs.loc["bad", "ROUGE-L"] == pytest.approx(bad["rouge_l"].mean)
    assert list(table(at, "Exact match")["model"]) == ["bad", "good"]  # newest first

    at.selectbox(key="eval_f_status").select("running").run()
    assert "No run matches these filters." in texts(at.info)


def test_tags_are_edited_for_one_selected_run_and_filter_the_table(seeded: Seeded) -> None:
    at = select_rows(evaluation(), seeded.env, [1])  # the older run: good
    assert "good · rag-answer v1 · no retrieval" in texts(at.markdown)
    at.multiselect(key=f"eval_tags_{seeded.good}").select("baseline").run()
    at.button(key="eval_tags_save").click().run()
    assert not at.exception, at.exception
    assert seeded.reports.summary(seeded.good).run.tags == ("baseline",)
    assert "Saved the tags of good · rag-answer v1 · no retrieval." in texts(at.success)
    at.selectbox(key="eval_f_tag").select("baseline").run()
    assert list(table(at, "Exact match")["model"]) == ["good"]
    assert list(table(at, "Exact match")["tags"]) == ["baseline"]


def test_the_summary_shows_means_intervals_and_the_pinned_configuration(seeded: Seeded) -> None:
    at = select_rows(evaluation(), seeded.env, [0])  # the newest run: bad
    at.button(key="eval_open_summary").click().run()
    assert not at.exception, at.exception
    assert at.session_state[keys.TAB_KEY] == "Summary"
    assert at.selectbox(key=keys.SUMMARY_RUN).value == seeded.bad
    shown = table(at, "95% CI").set_index("metric")
    expected = seeded.reports.summary(seeded.bad).metrics
    for metric, summary in expected.items():
        row = shown.loc[fmt.metric_label(metric)]
        assert row["mean"] == pytest.approx(summary.mean)
        assert row["95% CI"] == fmt.interval(summary.ci_low, summary.ci_high)
        assert (row["scored"], row["failed"], row["skipped"]) == (12, 0, 0)
    assert shown.loc["ROUGE-L", "95% CI"] != DASH
    assert at.get("plotly_chart")
    assert "12 of 12" in [m.value for m in at.metric]
    config = table(at, "setting").set_index("setting")
    assert config.loc["model", "value"] == "bad"
    assert config.loc["prompt_version", "value"] == "1"
    versions = table(at, "component").set_index("component")
    assert versions.loc["ragas", "version"] == "0.4.3"


def test_compare_shows_paired_statistics_and_the_items_that_changed(seeded: Seeded) -> None:
    at = select_rows(evaluation(), seeded.env, [0, 1])
    at.button(key="eval_open_compare").click().run()
    assert not at.exception, at.exception
    assert at.session_state[keys.TAB_KEY] == "Compare"
    assert at.selectbox(key=keys.BASELINE).value == seeded.good  # the older run is the baseline
    assert at.multiselect(key=keys.CANDIDATES).value == [seeded.bad]
    shown = table(at, "p (Holm)").set_index("metric")
    expected = {c.metric: c for c in seeded.reports.compare(seeded.good, seeded.bad).metrics}
    exact = expected["exact_match"]
    row = shown.loc["Exact match"]
    assert (row["n"], row["baseline"], row["candidate"]) == (12, 1.0, pytest.approx(1 / 3))
    assert row["Δ"] == pytest.approx(exact.delta.estimate)
    assert row["95% CI of Δ"] == fmt.interval(exact.delta.low, exact.delta.high)
    assert row["win / tie / loss"] == "0 / 4 / 8"
    assert row["p-value"] == fmt.p_value(exact.test.p_value) == "0.008"
    assert row["p (Holm)"] == fmt.p_value(exact.p_adjusted)
    assert row["significance"] == "▼ worse"
    assert len(at.get("plotly_chart")) == 3  # forest plot, win/tie/loss, per-item differences
    assert CHANGED in texts(at.markdown)

    at.radio(key=keys.TEST).set_value("sign").run()
    sign = {c.metric: c for c in seeded.reports.compare(seeded.good, seeded.bad, test="sign").metrics}
    assert table(at, "p (Holm)").set_index("metric").loc["Exact match", "p-value"] == fmt.p_value(
        sign["exact_match"].test.p_value
    )


def test_opening_a_changed_item_shows_both_answers_side_by_side(seeded: Seeded) -> None:
    at = evaluation("Compare", **{keys.BASELINE: seeded.good, keys.CANDIDATES: [seeded.bad]})
    metric = at.selectbox(key=f"eval_cmp_metric_{seeded.bad}").value
    deltas = seeded.reports.compare(seeded.good, seeded.bad).deltas[metric]
    first = eval_compare.changed(deltas)[0]
    at.button(key=f"eval_open_{seeded.bad}_{first.item_key}").click().run()
    assert not at.exception, at.exception
    shown = texts(at.markdown)
    number = int(first.question.rsplit(maxsplit=1)[-1].rstrip("?"))
    assert f"Fact {number} is {number * 7} units." in shown  # the good run's answer (and the reference)
    assert f"I think fact {number} is about {number * 5} things." in shown  # the bad run's answer
    assert "**Baseline: good · rag-answer v1 · no retrieval**" in shown
    scores = table(at, "candidate score").set_index("metric")
    assert scores.loc["Exact match", "baseline score"] == "1.000"
    assert scores.loc["Exact match", "candidate score"] == "0.000"
    assert scores.loc["Exact match", "Δ"] == "-1.000"
    assert any(e.label.startswith("1. doc · score 0.500") for e in at.expander)

    opener = at.button(key=f"eval_open_{seeded.bad}_{first.item_key}")
    assert opener.label == "Close"
    opener.click().run()
    assert keys.ITEM not in at.session_state
    assert not any(e.label.startswith("1. doc") for e in at.expander)


def test_runs_on_different_datasets_are_refused_with_the_services_message(seeded: Seeded) -> None:
    other, _ = seed_runs(seeded.env, "other facts")
    at = evaluation("Compare", **{keys.BASELINE: seeded.good, keys.CANDIDATES: [other]})
    assert "Runs on different datasets cannot be paired (facts and other facts)" in texts(at.error)


def test_export_offers_the_selected_runs_as_csv(seeded: Seeded) -> None:
    at = select_rows(evaluation(), seeded.env, [0, 1])
    (button,) = [b for b in at.get("download_button") if b.proto.id.endswith("eval_export")]
    assert button.proto.label == "Export 2 runs (CSV)"
    assert button.proto.deferred_file_id  # built when someone downloads it
    exported = eval_runs_table.csv_exporter(seeded.reports, [seeded.bad, seeded.good])()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {row["run_id"] for row in rows} == {seeded.good, seeded.bad}
    metrics = len(seeded.reports.summary(seeded.good).metrics)
    assert metrics >= 5 and len(rows) == 2 * 12 * metrics  # run x item x metric
    assert {row["status"] for row in rows} == {"ok"}


def test_the_trend_shows_each_runs_mean(seeded: Seeded) -> None:
    at = evaluation("Trends")
    at.selectbox(key="eval_trend_metric").select("exact_match").run()
    assert not at.exception, at.exception
    trend = table(at, "configuration")
    assert list(trend["mean"]) == [pytest.approx(1 / 3), 1.0]
    assert at.get("plotly_chart")


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.VIEWER])
def test_annotators_and_viewers_cannot_open_the_page(seeded: Seeded, role: Role) -> None:
    user = user_service.create_user(seeded.env.uow(), "someone", PASSWORD, role)
    at = signed_in("someone", PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in their navigation
        at.switch_page(str(PROJECT_ROOT / "pages" / "evaluation.py"))
    # Reached directly, the page itself refuses before reading anything.
    page = AppTest.from_file(str(PROJECT_ROOT / "pages" / "evaluation.py"), default_timeout=60)
    page.session_state[ui.AUTH_KEY] = user.id
    page.run()
    assert [e.value for e in page.error] == ["You do not have access to this page."]
    assert not page.title


def test_the_figures_show_the_services_numbers(seeded: Seeded) -> None:
    comparison = seeded.reports.compare(seeded.good, seeded.bad)
    rows = comparison.metrics
    forest = eval_charts.forest(rows)
    assert list(forest.data[0].x) == [r.delta.estimate for r in rows]
    assert list(forest.data[0].y) == [fmt.metric_label(r.metric) for r in rows]
    assert list(forest.data[0].error_x.array) == pytest.approx([r.delta.high - r.delta.estimate for r in rows])
    assert set(forest.data[0].marker.color) == {eval_charts.WORSE}  # every metric significantly worse
    bars = {trace.name: list(trace.x) for trace in eval_charts.win_tie_loss(rows).data}
    assert bars == {"wins": [r.wins for r in rows], "ties": [r.ties for r in rows], "losses": [r.losses for r in rows]}
    deltas = comparison.deltas["exact_match"]
    histogram, points = eval_charts.delta_distribution(deltas, "exact_match").data
    assert sorted(histogram.x) == sorted(d.delta for d in deltas) and len(deltas) == 12
    assert [row[0] for row in points.customdata] == [d.question for d in deltas]  # hover names the question
    summary = seeded.reports.summary(seeded.bad).metrics
    means = eval_charts.summary_means(list(summary.values())).data[0]
    assert list(means.x) == [s.mean for s in summary.values()]
    trend = eval_charts.trend(seeded.reports.trend("facts", "exact_match"), "exact_match").data[-1]
    assert list(trend.y) == [1.0, pytest.approx(1 / 3)]  # oldest first
    assert trend.customdata[0][0] == "good · rag-answer v1 · no retrieval"


def _comparison(delta: float, p: float, higher_is_better: bool = True) -> MetricComparison:
    return MetricComparison(
        metric="exact_match", n=10, baseline_mean=0.5, candidate_mean=0.5 + delta,
        delta=Interval(delta, delta - 0.1, delta + 0.1, 10), wins=0, ties=0, losses=0,
        test=TestResult("wilcoxon", 0.0, p, 10), p_adjusted=p, higher_is_better=higher_is_better,
    )  # fmt: skip


def test_the_significance_marker_follows_the_holm_adjusted_p_value() -> None:
    assert fmt.verdict(_comparison(0.2, 0.01)) == "▲ better"
    assert fmt.verdict(_comparison(-0.2, 0.01)) == "▼ worse"
    assert fmt.verdict(_comparison(0.2, 0.01, higher_is_better=False)) == "▼ worse"
    assert fmt.verdict(_comparison(-0.2, 0.2)) == "not significant"
    assert fmt.verdict(_comparison(0.0, math.nan)) == DASH
    assert (fmt.p_value(0.0004), fmt.p_value(0.0468), fmt.p_value(math.nan)) == ("<0.001", "0.047", "–")


def test_failed_items_and_skipped_scores_are_counted_apart(app_env: AppEnvironment) -> None:
    items = [dict(item) for item in SAMPLE_ITEMS[:4]]
    items[3].pop("reference_answer")  # answer metrics cannot be computed: skipped, not zero
    EvalDatasetService(app_env.uow).import_items("partial", items, source="test", actor="ana")
    service = EvalRunService(app_env.uow, ScriptedPipeline(fail={"What is fact 2?"}), Recorder())
    (run,) = service.create_run("partial", EvalConfig(model="bad", knowledge_base=None), actor="ana")
    assert service.execute(run.id).failed_count == 1
    at = evaluation("Summary")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Items answered and scored"], metrics["Items that failed"]) == ("3 of 4", "1")
    rouge = table(at, "95% CI").set_index("metric").loc["ROUGE-L"]
    assert (rouge["scored"], rouge["failed"], rouge["skipped"]) == (2, 0, 1)
    expected = EvalReports(app_env.uow).summary(run.id).metrics["rouge_l"]
    assert rouge["mean"] == pytest.approx(expected.mean)  # over the two scored items only
    assert at.button(key=f"eval_sum_retry_{run.id}").label == "Retry 1 failed item(s)"


def test_a_run_worked_on_elsewhere_shows_its_progress_and_can_be_stopped(seeded: Seeded) -> None:
    service = EvalRunService(seeded.env.uow, ScriptedPipeline(), Recorder())
    (run,) = service.create_run("facts", EvalConfig(model="slow", knowledge_base=None), actor="ana")
    service.dispatch(run.id)  # sent to the queue's workers, as the Run tab or `workbench eval run` would
    at = evaluation()
    assert "0 of 12 items · 0 failed" in at.get("progress")[0].proto.text
    assert list(table(at, "Exact match")["status"]) == ["running", "completed", "completed"]
    at = select_rows(at, seeded.env, [0])
    assert "Worked on by the queue's workers" in texts(at.caption)
    at.button(key=f"eval_runs_stop_{run.id}").click().run()
    assert not at.exception, at.exception
    stopped = service.run(run.id)
    assert (stopped.status, stopped.live) == ("stopped", False)  # its queued items are dropped by the workers
