"""The Run tab of the Eval datasets page: a dataset version and a pipeline configuration (model, knowledge base,
prompt version, retrieval and generation parameters, judge, metrics) started as one or more runs in the background.

The form only gathers choices; `EvalConfig` and `create_run` decide what is valid and say why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app.components.models import available_models
from app.components.notices import leave_notice, show_notice
from app.components.widget_state import choose
from app.views.eval_datasets import progress
from workbench.config.llm import ModelSpec
from workbench.domain.users import UserView
from workbench.evaluation.config import RETRIEVAL_METRICS, EvalConfig, EvalConfigError
from workbench.evaluation.datasets import EvalDatasetError, EvalDatasetService
from workbench.evaluation.metrics import METRICS, MODEL_FREE_METRICS
from workbench.evaluation.runs import MAX_REPEATS, EvalRunError, EvalRunService
from workbench.llm.catalog import ModelCatalog
from workbench.prompting.registry import PRODUCTION, PromptRegistry, PromptSummary
from workbench.rag.engine import RagEngine
from workbench.services.queued_runs import RunJobs

NONE = ""  # the "no knowledge base" and "no judge" choice
DEFAULT_PROMPT = "rag-answer"
DEFAULT_KB = "sample"


def render(
    user: UserView, *, datasets: EvalDatasetService, runs: EvalRunService, jobs: RunJobs,
    prompts: PromptRegistry, rag: RagEngine, catalog: ModelCatalog,
) -> None:  # fmt: skip
    show_notice("run")
    names = [d.name for d in datasets.datasets()]
    summaries = prompts.summaries()
    if not names:
        st.info(
            "No eval dataset to run yet: import one on the **Import** tab, or the sample on the **Datasets** tab.",
            icon=":material/dataset:",
        )
    elif not summaries:
        st.info("No prompt templates yet: create one on the **Prompts** page.", icon=":material/description:")
    else:
        models = available_models(catalog, "to run an evaluation")
        launch = form(datasets, rag, catalog, names, summaries, models) if models else None
        if launch is not None:
            start(runs, jobs, user, launch)
    st.subheader("Your runs", divider="gray")
    progress.panel(user, runs, jobs)


@dataclass(frozen=True, slots=True)
class Launch:
    """What the form asks to start: a dataset version, the run settings and how many repeats."""

    dataset: str
    version: int
    settings: dict[str, Any]
    repeats: int


def form(
    datasets: EvalDatasetService, rag: RagEngine, catalog: ModelCatalog, names: list[str],
    summaries: list[PromptSummary], models: list[ModelSpec],
) -> Launch | None:  # fmt: skip
    """The choices, and what to start once Start is pressed (None until then)."""
    labels = {spec.id: spec.display_name for spec in models}
    default_model = catalog.default()

    st.markdown("**What to run on**")
    left, right = st.columns(2)
    choose("evd_run_dataset", names, names[0])
    dataset = str(left.selectbox("Dataset", names, key="evd_run_dataset"))
    versions = datasets.versions(dataset)
    numbers = [v.version for v in versions]
    choose("evd_run_version", numbers, numbers[0])
    version = int(right.selectbox(
        "Version", numbers, key="evd_run_version",
        format_func=lambda n: f"v{n} ({next(v.item_count for v in versions if v.version == n)} items)"
                              + (" · latest" if n == numbers[0] else ""),
    ))  # fmt: skip

    st.markdown("**Pipeline**")
    columns = st.columns(4)
    choose("evd_run_model", labels, default_model.id if default_model else models[0].id)
    model = str(columns[0].selectbox("Model", list(labels), key="evd_run_model", format_func=lambda m: labels[m]))
    kb = knowledge_base(rag, columns[1])
    prompt, ref = prompt_choice(summaries, columns[2], columns[3])
    left, middle, right = st.columns(3)
    top_k = left.number_input(
        "Passages retrieved (top-k)", 1, 50, 4, key="evd_run_top_k", disabled=not kb,
        help="Without a knowledge base the model answers from the question alone.",
    )  # fmt: skip
    temperature = middle.number_input("Temperature", 0.0, 2.0, 0.0, 0.1, key="evd_run_temperature")
    max_tokens = right.number_input("Max tokens", 1, 8192, 256, key="evd_run_max_tokens")

    st.markdown("**Scoring**")
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    choose("evd_run_judge", [NONE, *labels], NONE)
    judge = left.selectbox(
        "Judge model", [NONE, *labels], key="evd_run_judge", format_func=lambda m: labels.get(m, "none"),
        help="Judged metrics (faithfulness, answer relevancy, …) ask this model to grade each answer.",
    )  # fmt: skip
    right.caption(
        "No judge by default: the model-free metrics need none. Judged metrics need a judge model, and take one or "
        "more extra model calls per item."
    )
    # Without retrieval, the metrics of retrieved passages would score 0 for every item: they are not offered.
    offered = [m for m in METRICS if kb or m not in RETRIEVAL_METRICS]
    if "evd_run_metrics" in st.session_state:
        st.session_state["evd_run_metrics"] = [m for m in st.session_state["evd_run_metrics"] if m in offered]
    metrics = st.multiselect(
        "Metrics", offered, default=[m for m in MODEL_FREE_METRICS if m in offered], key="evd_run_metrics",
        help=None if kb else "Metrics of the retrieved passages need a knowledge base.",
        format_func=lambda m: METRICS[m].label + (" (judged)" if METRICS[m].needs_judge else ""),
    )  # fmt: skip
    with st.expander("What the metrics measure"):
        st.dataframe(metrics_frame(), hide_index=True, key="evd_run_metric_help")

    st.markdown("**Run**")
    left, middle, right = st.columns([2, 2, 1])
    name = left.text_input("Run name", key="evd_run_name", max_chars=200, placeholder="default: model · prompt · kb")
    tags = middle.text_input("Tags", key="evd_run_tags", placeholder="comma-separated, e.g. baseline, qwen")
    repeats = right.number_input(
        "Repeats", 1, MAX_REPEATS, 1, key="evd_run_repeats",
        help="Runs of the same configuration: they show how much scores vary from run to run.",
    )  # fmt: skip
    if not st.button("Start", key="evd_run_start", type="primary", icon=":material/play_arrow:"):
        return None
    settings = {
        "name": (name or "").strip(), "model": model, "knowledge_base": kb or None, "prompt": prompt,
        "prompt_ref": ref, "top_k": int(top_k), "temperature": float(temperature), "max_tokens": int(max_tokens),
        "judge_model": judge or None, "metrics": list(metrics),
        "tags": [t.strip() for t in (tags or "").split(",") if t.strip()],
    }  # fmt: skip
    return Launch(dataset, version, settings, int(repeats))


def knowledge_base(rag: RagEngine, column: DeltaGenerator) -> str:
    bases = {kb.name: kb for kb in rag.list_knowledge_bases()}
    options = [NONE, *bases]
    choose("evd_run_kb", options, DEFAULT_KB if DEFAULT_KB in bases else next(iter(bases), NONE))
    chosen = str(column.selectbox(
        "Knowledge base", options, key="evd_run_kb",
        format_func=lambda n: "none: answer without retrieval" if n == NONE else n,
    ))  # fmt: skip
    if chosen:
        kb = bases[chosen]
        column.caption(f"{kb.document_count} document(s), {kb.chunk_count:,} passages · chunks of {kb.chunk_size}")
    elif not bases:
        column.caption("No knowledge base yet: ingest documents on the Documents page to measure retrieval.")
    return chosen


def prompt_choice(
    summaries: list[PromptSummary], column: DeltaGenerator, version_column: DeltaGenerator
) -> tuple[str, str]:
    """A prompt and the version to use, by label (production, staging, …) or number."""
    by_name = {s.name: s for s in summaries}
    choose("evd_run_prompt", by_name, DEFAULT_PROMPT if DEFAULT_PROMPT in by_name else summaries[0].name)
    prompt = str(column.selectbox("Prompt", list(by_name), key="evd_run_prompt"))
    summary = by_name[prompt]
    labels = sorted(summary.labels, key=lambda label: (label != PRODUCTION, label))
    refs = [*labels, *(str(n) for n in range(summary.latest_version, 0, -1))]
    choose("evd_run_ref", refs, refs[0])
    ref = version_column.selectbox(
        "Prompt version", refs, key="evd_run_ref",
        format_func=lambda r: f"v{r}" if r.isdigit() else f"{r} (v{summary.labels[r]})",
        help="A label follows the version it points at when the run is started; the run pins that exact version.",
    )  # fmt: skip
    return prompt, str(ref)


def metrics_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"metric": info.label, "needs": ", ".join(n.replace("_", " ") for n in info.needs) or "–",
         "judged": "yes" if info.needs_judge else "no", "what it measures": info.description}
        for info in METRICS.values()
    ])  # fmt: skip


def start(runs: EvalRunService, jobs: RunJobs, user: UserView, launch: Launch) -> None:
    """Create the runs and start each in the background (they run side by side); problems are shown, not raised."""
    if not launch.settings["metrics"]:
        st.error("Choose at least one metric to compute.", icon=":material/error:")
        return
    try:
        config = EvalConfig.from_mapping(launch.settings, "The run settings")
        created = runs.create_run(
            launch.dataset, config, actor=user.username, version=launch.version, repeats=launch.repeats
        )
    except (EvalConfigError, EvalDatasetError, EvalRunError) as exc:
        st.error(str(exc), icon=":material/error:")
        return
    progress.watch([run.id for run in created])
    try:
        for run in created:
            jobs.start(run.id)
    except RuntimeError as exc:  # the app is shutting down: the runs stay pending and can be resumed
        st.error(f"Could not start the run: {exc}", icon=":material/error:")
        return
    first = created[0]
    what = f"{len(created)} runs" if len(created) > 1 else "the run"
    leave_notice("run", f"Started {what} of {first.name} over {first.dataset} v{first.dataset_version}.")
    st.rerun()  # the progress panel below refreshes itself while the runs go on
