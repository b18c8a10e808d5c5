"""Review: labelling queues and their progress, rubrics, agreement between annotators, adjudication and golden datasets.

For analysts and admins. The labelling services check the role too, so this page is no way around them.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.views.review import adjudicate, agreement, golden, queues, rubrics, state
from workbench.domain.users import UserView
from workbench.labelling.queues import QueueService
from workbench.labelling.review import ReviewService
from workbench.labelling.views import Actor
from workbench.llm.catalog import ModelCatalog
from workbench.playground.service import PlaygroundService
from workbench.rag.engine import RagEngine
from workbench.services.directory import UserDirectory


def render(
    user: UserView, *, label_queues: QueueService, review: ReviewService, playground: PlaygroundService,
    rag: RagEngine, catalog: ModelCatalog, users: UserDirectory,
) -> None:  # fmt: skip
    actor = Actor(user.id, user.username, user.role)
    state.apply_pending_navigation()

    st.title("Review")
    st.caption(
        "Set up labelling queues and rubrics, follow the annotators' progress, see how far they agree, decide the "
        "final label of each item and export decided items as golden datasets for evaluation."
    )

    all_queues = label_queues.queues(actor)
    queue = state.choose_queue(all_queues)
    # Only the open tab runs (on_change="rerun"): agreement and golden datasets are not computed while hidden.
    tabs = st.tabs(state.TABS, key=state.TAB_KEY, on_change="rerun", default=state.TABS[0])
    renderers: dict[str, Callable[[], None]] = {
        "Queues": lambda: queues.render(
            actor,
            all_queues,
            queue,
            label_queues=label_queues,
            users=users,
            playground=playground,
            rag=rag,
            catalog=catalog,
        ),
        "Rubrics": lambda: rubrics.render(actor, label_queues=label_queues),
        "Agreement": lambda: agreement.render(actor, queue, review=review),
        "Adjudicate": lambda: adjudicate.render(actor, queue, review=review),
        "Golden datasets": lambda: golden.render(actor, queue, review=review, label_queues=label_queues),
    }
    for name, tab in zip(state.TABS, tabs, strict=True):
        if tab.open:
            with tab:
                renderers[name]()
