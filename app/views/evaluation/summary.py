"""The Summary tab of the Evaluation page: one run's mean per metric with its 95% bootstrap interval, what was scored,
what failed (by cause) and what was skipped, and the configuration and library versions it was pinned to."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.components.formatting import DASH
from app.components.markdown import plain
from app.components.runs import RUN_STATUS_ICONS, is_live
from app.views.evaluation import charts, state
from app.views.evaluation import formatting as fmt
from app.views.evaluation.controls import run_controls
from workbench.domain.runs import EvalRunStatus
from workbench.evaluation.metrics import METRICS
from workbench.evaluation.reports import MetricSummary, RunSummary
from workbench.evaluation.runs import RunView
from workbench.services.queued_runs import RunJobs


def metrics_frame(summary: RunSummary) -> pd.DataFrame:
    """Per metric: the mean of the scored items and its interval; failures and skips counted apart, never averaged.
    The failures' causes get a column when there are any."""
    rows = []
    for metric in fmt.ordered_metrics(set(summary.metrics)):
        s = summary.metrics[metric]
        rows.append({
            "metric": fmt.metric_label(metric),
            "mean": fmt.number(s.mean),
            "95% CI": fmt.interval(s.ci_low, s.ci_high),
            "scored": s.n_ok,
            "failed": s.n_failed,
            "skipped": s.n_skipped,
            "failures by cause": failure_text(s),
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    if not any(s.failures for s in summary.metrics.values()):
        frame = frame.drop(columns="failures by cause", errors="ignore")
    return frame


def failure_text(summary: MetricSummary) -> str:
    return ", ".join(f"{cause} {n}" for cause, n in sorted(summary.failures.items(), key=lambda kv: -kv[1]))


def config_frame(run: RunView) -> pd.DataFrame:
    return pd.DataFrame(
        [{"setting": key, "value": _text(value)} for key, value in run.config.items()]
        + [{"setting": "config hash", "value": run.config_hash}]
    )


def versions_frame(run: RunView) -> pd.DataFrame:
    environment = run.environment
    rows = [{"component": "python", "version": str(environment.get("python", ""))},
            {"component": "platform", "version": str(environment.get("platform", ""))}]  # fmt: skip
    libraries = environment.get("libraries") or {}
    rows += [{"component": name, "version": version or "not installed"} for name, version in libraries.items()]
    return pd.DataFrame(rows)


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or DASH
    return DASH if value is None or value == "" else str(value)


def render(all_runs: list[RunSummary], *, jobs: RunJobs) -> None:
    by_id = {s.run.id: s for s in all_runs}
    if st.session_state.get(state.SUMMARY_RUN) not in by_id:
        st.session_state[state.SUMMARY_RUN] = all_runs[0].run.id
    run_id = st.selectbox("Run", list(by_id), key=state.SUMMARY_RUN, format_func=lambda i: fmt.run_choice(by_id[i].run))
    summary = by_id[run_id]
    run = summary.run
    st.markdown(
        f"{RUN_STATUS_ICONS.get(run.status, '')} **{run.status}** · {run.dataset} v{run.dataset_version} · "
        f"{plain(fmt.config_text(run))} · created {run.created_at:%Y-%m-%d %H:%M} UTC by "
        f"{plain(run.created_by)}" + (f" · tags: {plain(', '.join(run.tags))}" if run.tags else "")
    )
    if run.status != EvalRunStatus.COMPLETED:
        st.progress(run.progress, text=f"{run.done_count:,} of {run.item_count:,} items done")
    if run.error:
        st.error(f"The run failed: {run.error}", icon=":material/error:")
    run_controls(jobs, run, "eval_sum")
    answered = run.done_count - run.failed_count
    cards = st.columns(3)
    cards[0].metric("Items answered and scored", f"{answered:,} of {run.item_count:,}", border=True)
    cards[1].metric(
        "Items that failed", f"{run.failed_count:,}", border=True,
        help="The answer could not be produced (model or retrieval error): these items have no scores and are not "
        "in any mean. Retry them from the Runs tab.",
    )  # fmt: skip
    judge_failures = sum(s.n_failed for s in summary.metrics.values())
    cards[2].metric(
        "Scores that failed", f"{judge_failures:,}", border=True,
        help="A metric could not be computed on an answered item (a judge timeout, an unparseable verdict…). "
        "Counted by cause below, never averaged in.",
    )  # fmt: skip
    if not summary.metrics:
        if is_live(jobs, run) or run.status == EvalRunStatus.PENDING:
            st.info(
                "Means and intervals appear within seconds of the first scored items.", icon=":material/hourglass_top:"
            )
        else:
            st.info("This run has no scores: no item was answered.", icon=":material/info:")
    else:
        if is_live(jobs, run):
            st.caption("The run goes on: these figures are refreshed every few seconds and when it stops or ends.")
        chart_column, table_column = st.columns([2, 3], gap="large")
        ordered = [summary.metrics[m] for m in fmt.ordered_metrics(set(summary.metrics))]
        chart_column.plotly_chart(charts.summary_means(ordered), key="eval_summary_chart")
        with table_column:
            st.dataframe(
                metrics_frame(summary), hide_index=True, key="eval_summary_table",
                column_config={"mean": st.column_config.NumberColumn(format="%.3f"),
                               "metric": st.column_config.TextColumn(width="medium")},
            )  # fmt: skip
            st.caption(
                "Mean over the scored items with its 95% percentile bootstrap interval. Failed and skipped scores "
                "(skipped: an input the metric needs is missing, e.g. no reference contexts) are counted apart."
            )
    with st.expander("What the metrics measure"):
        for metric in fmt.ordered_metrics(set(summary.metrics) or set(run.config.get("metrics", []))):
            info = METRICS.get(metric)
            if info:
                judged = " (needs a judge model)" if info.needs_judge else ""
                st.markdown(f"**{info.label}**{judged}: {plain(info.description)}")
    with st.expander("Pinned configuration"):
        st.dataframe(config_frame(run), hide_index=True, key="eval_summary_config")
    with st.expander("Library versions"):
        st.dataframe(versions_frame(run), hide_index=True, key="eval_summary_versions")
