"""Eval datasets: versioned datasets to evaluate on (imported files, golden datasets from the labelling queues,
generated questions after review) and eval runs over them, started here and followed while they go on."""

from __future__ import annotations

import streamlit as st

from app import eval_datasets_browse, eval_datasets_import, eval_datasets_labelling, eval_datasets_launch, ui
from app import eval_datasets_common as common
from workbench.labelling.views import Actor

user = ui.require_page("eval_datasets")
actor = Actor(user.id, user.username, user.role)
container = ui.container()

st.title("Eval datasets")
st.caption(
    "The questions an evaluation asks, with their reference answers and passages. Every import is a new numbered "
    "version, so a run always says exactly what it was measured on. Start runs on the Run tab; compare them on the "
    "Evaluation page."
)

# Only the open tab runs (on_change="rerun"): the progress panel refreshes only while the Run tab is open.
tabs = st.tabs(common.TABS, key=common.TAB_KEY, on_change="rerun", default=common.TABS[0])
renderers = {
    "Datasets": lambda: eval_datasets_browse.render(container, user),
    "Import": lambda: eval_datasets_import.render(container, user),
    "From labelling": lambda: eval_datasets_labelling.render(container, actor),
    "Run": lambda: eval_datasets_launch.render(container, user),
}
for name, tab in zip(common.TABS, tabs, strict=True):
    if tab.open:
        with tab:
            renderers[name]()
