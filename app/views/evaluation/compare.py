"""The Compare tab of the Evaluation page: a baseline against one or more candidates on the same dataset, paired item
by item: per metric the means, Δ with its paired bootstrap interval, wins/ties/losses and a paired test with Holm's
correction; charts of the differences; and the items that changed most, each opening a side-by-side drill-down."""

from __future__ import annotations

import math
from typing import cast

import pandas as pd
import streamlit as st

from app.components.formatting import shorten
from app.components.markdown import plain
from app.views.evaluation import charts, item, state
from app.views.evaluation import formatting as fmt
from workbench.evaluation.reports import Comparison, EvalReports, ItemDelta, RunSummary
from workbench.evaluation.runs import EvalRunError, RunView
from workbench.evaluation.stats import MetricComparison, TestName

CHANGED_SHOWN = 20


def comparison_frame(rows: list[MetricComparison]) -> pd.DataFrame:
    """One line per metric, as an analyst reads a paired comparison."""
    return pd.DataFrame([
        {
            "metric": fmt.metric_label(r.metric),
            "n": r.n,
            "baseline": fmt.number(r.baseline_mean),
            "candidate": fmt.number(r.candidate_mean),
            "Δ": fmt.number(r.delta.estimate),
            "95% CI of Δ": fmt.interval(r.delta.low, r.delta.high),
            "win / tie / loss": f"{r.wins} / {r.ties} / {r.losses}",
            "p-value": fmt.p_value(r.test.p_value),
            "p (Holm)": fmt.p_value(r.p_adjusted),
            "significance": fmt.verdict(r),
        }
        for r in rows
    ])  # fmt: skip


def changed(deltas: list[ItemDelta], limit: int = CHANGED_SHOWN) -> list[ItemDelta]:
    """The items whose score moved most (unchanged items left out), largest change first."""
    return [d for d in deltas if d.delta != 0][:limit]


def default_metric(rows: list[MetricComparison]) -> str:
    """The metric to look at first: the most significant change, then the largest."""
    moving = [r for r in rows if not math.isnan(r.delta.estimate) and r.delta.estimate != 0]
    if not moving:
        return rows[0].metric
    # An undefined p-value sorts after every defined one.
    return min(moving, key=lambda r: (2.0 if math.isnan(r.p_adjusted) else r.p_adjusted, -abs(r.delta.estimate))).metric


def _prefill(all_runs: list[RunSummary]) -> None:
    """First visit: the newest run against the run before it on the same dataset."""
    if state.BASELINE in st.session_state or len(all_runs) < 2:
        return
    newest = all_runs[0].run
    earlier = next((s.run for s in all_runs[1:] if s.run.dataset == newest.dataset), None)
    if earlier is not None:
        st.session_state[state.BASELINE] = earlier.id
        st.session_state[state.CANDIDATES] = [newest.id]


def render(all_runs: list[RunSummary], *, reports: EvalReports) -> None:
    by_id = {s.run.id: s.run for s in all_runs}
    _prefill(all_runs)
    if st.session_state.get(state.BASELINE) not in by_id:
        st.session_state[state.BASELINE] = None
    st.session_state[state.CANDIDATES] = [
        i for i in st.session_state.get(state.CANDIDATES, []) if i in by_id and i != st.session_state[state.BASELINE]
    ]
    top = st.columns([4, 5, 3])
    baseline_id = top[0].selectbox(
        "Baseline", list(by_id), key=state.BASELINE, format_func=lambda i: fmt.run_choice(by_id[i]),
        placeholder="Choose the run to compare against",
    )  # fmt: skip
    candidate_ids = top[1].multiselect(
        "Candidates", [i for i in by_id if i != baseline_id], key=state.CANDIDATES,
        format_func=lambda i: fmt.run_choice(by_id[i]), placeholder="Choose one or more runs of the same dataset",
    )  # fmt: skip
    test = top[2].radio(
        "Paired test", list(fmt.TESTS), key=state.TEST, format_func=fmt.TESTS.__getitem__,
        help="Wilcoxon signed-rank uses the size of each item's difference; the sign test only its direction "
        "(robust to a few extreme items). Both are two-sided.",
    )  # fmt: skip
    if baseline_id is None or not candidate_ids:
        st.info(
            "Choose a baseline and at least one candidate run on the same dataset, or select runs on the Runs tab "
            "and press **Compare**.",
            icon=":material/compare_arrows:",
        )
        return
    st.caption(
        "Items are paired by question, so only items both runs scored count. Δ is candidate − baseline. "
        "p (Holm) corrects for the metrics compared together; with several candidates, each is corrected on its "
        "own. ▲/▼: Holm-adjusted p < 0.05."
    )
    for candidate_id in candidate_ids:
        compare_one(reports, by_id[baseline_id], by_id[candidate_id], cast(TestName, test))


def compare_one(reports: EvalReports, baseline: RunView, candidate: RunView, test: TestName) -> None:
    st.subheader(f"{candidate.label}  vs  {baseline.label}", divider="gray")
    try:
        comparison = reports.compare(
            baseline.id, candidate.id, test=test,
            top=baseline.item_count + candidate.item_count,  # every pair: the distribution chart needs them all
        )  # fmt: skip
    except EvalRunError as exc:
        st.error(str(exc), icon=":material/block:")
        return
    rows = comparison.metrics
    versions = (
        f"dataset {baseline.dataset} v{baseline.dataset_version}"
        if baseline.dataset_version == candidate.dataset_version
        else f"dataset {baseline.dataset} v{baseline.dataset_version} (baseline) and v{candidate.dataset_version}"
        " (candidate), paired by question"
    )
    paired = max((r.n for r in rows), default=0)
    st.caption(
        f"{versions} · {paired:,} paired items · {comparison.unpaired:,} scored in only one run (left out) · "
        f"baseline: {plain(fmt.config_text(baseline))} · candidate: "
        f"{plain(fmt.config_text(candidate))}"
    )
    if not rows:
        st.info("No metric has scores in both runs yet.", icon=":material/info:")
        return
    st.dataframe(
        comparison_frame(rows), hide_index=True, key=f"eval_cmp_table_{candidate.id}",
        column_config={
            "metric": st.column_config.TextColumn(width="medium"),
            "baseline": st.column_config.NumberColumn(format="%.3f", help="Baseline mean over the paired items"),
            "candidate": st.column_config.NumberColumn(format="%.3f", help="Candidate mean over the paired items"),
            "Δ": st.column_config.NumberColumn(format="%+.3f", help="Mean of candidate − baseline per item"),
            "95% CI of Δ": st.column_config.TextColumn(help="Paired percentile bootstrap interval"),
            "p-value": st.column_config.TextColumn(help=f"{fmt.TESTS[test]}, two-sided"),
            "p (Holm)": st.column_config.TextColumn(help="Holm-adjusted across the metrics of this comparison"),
        },
    )  # fmt: skip
    notes = [f"{fmt.metric_label(r.metric)}: {r.test.reason}" for r in rows if r.test.reason]
    if notes:
        st.caption("Set by convention or undefined: " + "; ".join(notes) + ".")
    left, right = st.columns(2, gap="large")
    left.plotly_chart(charts.forest(rows), key=f"eval_cmp_forest_{candidate.id}")
    right.plotly_chart(charts.win_tie_loss(rows), key=f"eval_cmp_wtl_{candidate.id}")
    per_item(reports, comparison, candidate)


def per_item(reports: EvalReports, comparison: Comparison, candidate: RunView) -> None:
    """One metric's per-item differences: their distribution, its figures, and the items that changed most, each
    opening its drill-down right below it."""
    rows = {r.metric: r for r in comparison.metrics}
    labels = {metric: fmt.metric_label(metric) for metric in rows}
    key = f"eval_cmp_metric_{candidate.id}"
    if st.session_state.get(key) not in labels:
        st.session_state[key] = default_metric(comparison.metrics)
    metric = st.selectbox("Per-item differences in", list(labels), key=key, format_func=labels.__getitem__)
    row, deltas = rows[metric], comparison.deltas.get(metric, [])
    chart, figures = st.columns([3, 2], gap="large", vertical_alignment="center")
    chart.plotly_chart(charts.delta_distribution(deltas, metric), key=f"eval_cmp_hist_{candidate.id}")
    with figures, st.container(border=True):
        st.markdown(
            f"**Mean Δ** {fmt.signed(row.delta.estimate)}  \n"
            f":gray[95% CI {fmt.interval(row.delta.low, row.delta.high)} · {row.n} paired items]\n\n"
            f"**Wins / ties / losses** {row.wins} / {row.ties} / {row.losses}\n\n"
            f"**p** {fmt.p_value(row.test.p_value)} · **p (Holm)** {fmt.p_value(row.p_adjusted)}  \n"
            f":gray[{fmt.TESTS[row.test.test]}] · {fmt.verdict(row)}"
        )
    moved = changed(deltas)
    total = sum(1 for d in deltas if d.delta != 0)
    st.markdown(f"**Items that changed most** in {labels[metric]}")
    if not moved:
        st.caption("No item's score changed between the two runs.")
        return
    opened = st.session_state.get(state.ITEM)
    for rank, delta in enumerate(moved, start=1):
        is_open = opened == (comparison.baseline.id, candidate.id, delta.item_key)
        text, numbers, button = st.columns([8, 3, 1.3], vertical_alignment="center")
        text.markdown(f"{rank}\\. {plain(shorten(delta.question, 120))}")
        better = (delta.delta > 0) == row.higher_is_better
        numbers.markdown(
            f"{delta.baseline:.3f} → {delta.candidate:.3f} :{'green' if better else 'red'}[**{delta.delta:+.3f}**]"
        )
        button.button(
            "Close" if is_open else "Open", key=f"eval_open_{candidate.id}_{delta.item_key}", width="stretch",
            icon=":material/close_fullscreen:" if is_open else ":material/open_in_full:",
            on_click=state.close_item if is_open else state.open_item,
            args=() if is_open else (comparison.baseline.id, candidate.id, delta.item_key),
            help=None if is_open else "Both runs' answers, contexts and scores side by side",
        )  # fmt: skip
        if is_open:
            item.render(reports, comparison.baseline, candidate, delta.item_key)
    if total > len(moved):
        st.caption(f"The {len(moved)} largest of {total} changed items.")
