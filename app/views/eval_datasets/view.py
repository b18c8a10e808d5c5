"""Eval datasets: versioned datasets to evaluate on (imported files, golden datasets from the labelling queues,
generated questions after review) and eval runs over them, started here and followed while they go on."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.views.eval_datasets import browse, file_import, from_labelling, launch, state
from workbench.domain.users import UserView
from workbench.evaluation.datasets import EvalDatasetService
from workbench.evaluation.generator import QuestionGenerator
from workbench.evaluation.runs import EvalRunService
from workbench.labelling.review import ReviewService
from workbench.labelling.views import Actor
from workbench.llm.catalog import ModelCatalog
from workbench.prompting.registry import PromptRegistry
from workbench.rag.engine import RagEngine
from workbench.services.queued_runs import RunJobs


def render(
    user: UserView, *, datasets: EvalDatasetService, runs: EvalRunService, jobs: RunJobs,
    prompts: PromptRegistry, review: ReviewService, rag: RagEngine, catalog: ModelCatalog,
    generator: QuestionGenerator, max_upload_mb: float,
) -> None:  # fmt: skip
    actor = Actor(user.id, user.username, user.role)
    st.title("Eval datasets")
    st.caption(
        "The questions an evaluation asks, with their reference answers and passages. Every import is a new numbered "
        "version, so a run always says exactly what it was measured on. Start runs on the Run tab; compare them on "
        "the Evaluation page."
    )

    # Only the open tab runs (on_change="rerun"): the progress panel refreshes only while the Run tab is open.
    tabs = st.tabs(state.TABS, key=state.TAB_KEY, on_change="rerun", default=state.TABS[0])
    renderers: dict[str, Callable[[], None]] = {
        "Datasets": lambda: browse.render(user, datasets=datasets),
        "Import": lambda: file_import.render(user, datasets=datasets, max_upload_mb=max_upload_mb),
        "From labelling": lambda: from_labelling.render(
            actor, review=review, datasets=datasets, rag=rag, catalog=catalog, generator=generator
        ),
        "Run": lambda: launch.render(
            user, datasets=datasets, runs=runs, jobs=jobs, prompts=prompts, rag=rag, catalog=catalog
        ),
    }
    for name, tab in zip(state.TABS, tabs, strict=True):
        if tab.open:
            with tab:
                renderers[name]()
