"""Evaluation: eval runs with their metric summaries, paired comparisons with real statistics, a drill-down into
the items that changed, trends over time, and CSV export. For analysts and admins."""

from __future__ import annotations

import streamlit as st

from app import eval_common as common
from app import eval_compare, eval_runs_table, eval_summary, eval_trends, ui

ui.require_page("evaluation")
container = ui.container()

st.title("Evaluation")
st.caption(
    "Runs of the RAG pipeline over eval datasets, scored per item. Means come with 95% bootstrap intervals; runs are "
    "compared item by item with a paired test; failed scores are counted apart, never averaged in."
)
common.show_notice()

all_runs = container.eval_reports.runs()
if not all_runs:
    st.info("No eval runs yet. " + common.START_HINT, icon=":material/analytics:")
    st.stop()

# Only the open tab runs (on_change="rerun"): a comparison is not computed while hidden.
tabs = st.tabs(common.TABS, key=common.TAB_KEY, on_change="rerun", default=common.TABS[0])
renderers = {
    "Runs": eval_runs_table.render,
    "Summary": eval_summary.render,
    "Compare": eval_compare.render,
    "Trends": eval_trends.render,
}
for name, tab in zip(common.TABS, tabs, strict=True):
    if tab.open:
        with tab:
            renderers[name](container, all_runs)
