"""Evaluation: eval runs with their metric summaries, paired comparisons with real statistics, a drill-down into
the items that changed, trends over time, and CSV export. For analysts and admins."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.components.notices import show_notice
from app.views.evaluation import compare, runs_table, state, summary, trends
from workbench.evaluation.reports import EvalReports
from workbench.evaluation.runs import EvalRunService
from workbench.services.queued_runs import RunJobs


def render(*, reports: EvalReports, runs: EvalRunService, jobs: RunJobs) -> None:
    st.title("Evaluation")
    st.caption(
        "Runs of the RAG pipeline over eval datasets, scored per item. Means come with 95% bootstrap intervals; runs "
        "are compared item by item with a paired test; failed scores are counted apart, never averaged in."
    )
    show_notice(state.NOTICE)

    all_runs = reports.runs()
    if not all_runs:
        st.info("No eval runs yet. " + state.START_HINT, icon=":material/analytics:")
        return

    # Only the open tab runs (on_change="rerun"): a comparison is not computed while hidden.
    tabs = st.tabs(state.TABS, key=state.TAB_KEY, on_change="rerun", default=state.TABS[0])
    renderers: dict[str, Callable[[], None]] = {
        "Runs": lambda: runs_table.render(all_runs, reports=reports, runs=runs, jobs=jobs),
        "Summary": lambda: summary.render(all_runs, jobs=jobs),
        "Compare": lambda: compare.render(all_runs, reports=reports),
        "Trends": lambda: trends.render(all_runs, reports=reports),
    }
    for name, tab in zip(state.TABS, tabs, strict=True):
        if tab.open:
            with tab:
                renderers[name]()
