"""Review: labelling queues and their progress, rubrics, agreement between annotators, adjudication and golden datasets.

For analysts and admins. The labelling services check the role too, so this page is no way around them.
"""

from __future__ import annotations

import streamlit as st

from app import review_adjudicate, review_agreement, review_golden, review_queues, review_rubrics, ui
from app import review_common as common
from workbench.labelling.views import Actor

user = ui.require_page("review")
actor = Actor(user.id, user.username, user.role)
container = ui.container()

common.apply_pending_navigation()

st.title("Review")
st.caption(
    "Set up labelling queues and rubrics, follow the annotators' progress, see how far they agree, decide the final "
    "label of each item and export decided items as golden datasets for evaluation."
)

queues = container.label_queues.queues(actor)
queue = common.choose_queue(queues)
# Only the open tab runs (on_change="rerun"): agreement and golden datasets are not computed while hidden.
tabs = st.tabs(common.TABS, key=common.TAB_KEY, on_change="rerun", default=common.TABS[0])
renderers = {
    "Queues": lambda: review_queues.render(container, actor, queues, queue),
    "Rubrics": lambda: review_rubrics.render(container, actor),
    "Agreement": lambda: review_agreement.render(container, actor, queue),
    "Adjudicate": lambda: review_adjudicate.render(container, actor, queue),
    "Golden datasets": lambda: review_golden.render(container, actor, queue),
}
for name, tab in zip(common.TABS, tabs, strict=True):
    if tab.open:
        with tab:
            renderers[name]()
