"""The Trends tab of the Evaluation page: one metric's mean and 95% interval over a dataset's runs by time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.views.evaluation import charts
from app.views.evaluation import formatting as fmt
from workbench.evaluation.reports import EvalReports, RunSummary, TrendPoint


def trend_frame(points: list[TrendPoint]) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "created": p.run.created_at,
            "run": p.run.label,
            "dataset": f"v{p.run.dataset_version}",
            "configuration": fmt.config_text(p.run),
            "mean": fmt.number(p.mean),
            "95% CI": fmt.interval(p.ci_low, p.ci_high),
            "scored": p.n_ok,
        }
        for p in reversed(points)  # newest first, like the Runs tab
    ])  # fmt: skip


def render(all_runs: list[RunSummary], *, reports: EvalReports) -> None:
    datasets = sorted({s.run.dataset for s in all_runs})
    top = st.columns(2)
    dataset = top[0].selectbox("Dataset", datasets, key="eval_trend_dataset")
    metrics = fmt.ordered_metrics({m for s in all_runs if s.run.dataset == dataset for m in s.metrics})
    if not metrics:
        st.info(f"No run of {dataset} has summarised scores yet.", icon=":material/hourglass_empty:")
        return
    metric = top[1].selectbox("Metric", metrics, key="eval_trend_metric", format_func=fmt.metric_label)
    points = reports.trend(dataset, metric)
    if not points:
        st.info(f"No run of {dataset} has scores for {fmt.metric_label(metric)}.", icon=":material/info:")
        return
    st.plotly_chart(charts.trend(points, metric), key="eval_trend_chart")
    st.caption(
        "Each point is a run's mean over its scored items, the band its 95% bootstrap interval. Hover a point for "
        "the run and its configuration. Runs on different dataset versions are drawn together."
    )
    st.dataframe(
        trend_frame(points), hide_index=True, key="eval_trend_table",
        column_config={"created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
                       "mean": st.column_config.NumberColumn(format="%.3f")},
    )  # fmt: skip
