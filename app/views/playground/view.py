"""Playground: prompt variants (template version x model x parameters) side by side, on one input or a dataset."""

from __future__ import annotations

import queue

import streamlit as st

from app.components.models import available_models
from app.components.tables import table_preview
from app.views.playground import inputs, results
from app.views.playground.variants import Editor, variables, variant_editors
from workbench.config.settings import PlaygroundSettings
from workbench.domain.users import UserView
from workbench.llm.catalog import ModelCatalog
from workbench.playground.datasets import MappingError, Table, require_mapping, row_values
from workbench.playground.service import PlaygroundError, PlaygroundService
from workbench.playground.variants import Variant
from workbench.prompting.registry import PromptRegistry
from workbench.services.background import BackgroundRuns
from workbench.services.queued_runs import RunJobs

LAST_TRY = "pg_last_try"  # the interactive run whose answers are shown (its data is in SQL)
TRY_ERROR = "pg_try_error"
DATASET_RUN = "pg_dataset_run"  # the dataset run shown on the Dataset tab
NO_MODEL = "Variants need a model: see the message above."


def render(
    me: UserView, *, playground: PlaygroundService, jobs: RunJobs, tries: BackgroundRuns, prompts: PromptRegistry,
    catalog: ModelCatalog, settings: PlaygroundSettings,
) -> None:  # fmt: skip
    st.title("Playground")
    st.caption(
        "Compare prompt variants side by side: each is a template version × a model × its parameters. "
        "Try them on one input, or run them over a dataset. Every run is kept and listed under History."
    )
    summaries = prompts.summaries()
    if not summaries:
        st.info(
            "No prompt templates yet. Create one on the **Prompts** page, or add a Markdown file with front matter "
            "to `prompts/`.",
            icon=":material/description:",
        )
        return
    models = available_models(catalog, "to run variants")
    editors = variant_editors(prompts, catalog, me, summaries, models) if models else []
    try_area, dataset_area, history_area = st.tabs(["Try", "Dataset", "History"])
    with try_area:
        if editors:
            try_tab(me, playground, tries, editors)
        else:
            st.info(NO_MODEL)
    with dataset_area:
        if editors:
            dataset_tab(me, playground, jobs, settings, editors)
        else:
            st.info(NO_MODEL)
    with history_area:
        history_tab(me, playground, jobs)


# Try: one input, every variant streaming side by side --------------------------------------------------------------


def try_tab(me: UserView, playground: PlaygroundService, tries: BackgroundRuns, editors: list[Editor]) -> None:
    values, missing = inputs.try_form([editor.template for editor in editors if editor.template is not None])
    broken = [f"{editor.title}: {editor.error}" for editor in editors if editor.error]
    clicked = st.button("Run", type="primary", key="pg_try_run", icon=":material/play_arrow:", disabled=bool(broken))
    if broken:
        st.caption("Fix the variants above to run: " + " ".join(broken))
    if clicked:
        if missing:
            st.session_state[inputs.TRIED_KEY] = True
            st.rerun()
        run_try(me, playground, tries, [editor.variant for editor in editors if editor.variant is not None], values)
    error = st.session_state.pop(TRY_ERROR, None)
    if error:
        st.error(error, icon=":material/error:")
    last = st.session_state.get(LAST_TRY)
    if last:
        st.divider()
        results.show_try(playground, tries, last)
    else:
        st.info("Fill in the fields and press **Run**: every variant answers side by side.", icon=":material/bolt:")


def run_try(
    me: UserView, playground: PlaygroundService, tries: BackgroundRuns, variants: list[Variant], values: dict[str, str]
) -> None:
    try:
        run_id = playground.create_run(
            user_id=me.id, variants=variants, rows=[values], kind="interactive",
            concurrency=min(len(variants), playground.max_concurrency),
        )  # fmt: skip
    except PlaygroundError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state[LAST_TRY] = run_id  # set first: if the reader leaves, the stored answers are shown later
    stream(tries, run_id, variants)
    st.rerun()  # show the stored answers with their figures


def stream(tries: BackgroundRuns, run_id: str, variants: list[Variant]) -> None:
    """Run the variants in a worker thread and write their answers as they arrive, one column each.

    Streamlit elements belong to this script thread: the worker's callbacks only put deltas on a queue.
    """
    deltas: queue.Queue[tuple[int, str]] = queue.Queue()
    # A background job like a dataset run: a reload or a closed tab does not cut it off, and shutdown waits for it.
    tries.start(run_id, on_delta=lambda _row, position, text: deltas.put((position, text)))

    st.divider()
    boxes = []
    for position, column in enumerate(st.columns(len(variants), border=True)):
        with column, st.container(key=f"pg_stream_{position}"):
            st.markdown(f"**{position + 1}. {variants[position].label}**")
            boxes.append(st.empty())
            boxes[-1].caption("Waiting for the first token…")
    texts = [""] * len(variants)
    while tries.is_running(run_id) or not deltas.empty():
        changed: set[int] = set()
        try:
            position, text = deltas.get(timeout=0.1)
            while True:  # take everything that arrived, then draw once
                texts[position] += text
                changed.add(position)
                position, text = deltas.get_nowait()
        except queue.Empty:
            pass
        for position in changed:
            boxes[position].markdown(texts[position] + " ▌")
    failure = tries.error(run_id)
    if failure:
        st.session_state[TRY_ERROR] = f"The run stopped: {failure}"


# Dataset: every variant over every row, in the background ---------------------------------------------------------


def dataset_tab(
    me: UserView, playground: PlaygroundService, jobs: RunJobs, settings: PlaygroundSettings,
    editors: list[Editor],
) -> None:  # fmt: skip
    table = inputs.choose_table(settings)
    if table is not None:
        table_preview(table, key="pg_ds_preview")
        mapping, errors = inputs.map_columns(table, variables(editors))
        default = min(settings.default_concurrency, playground.max_concurrency)
        concurrency = st.columns(3)[0].slider(
            "Calls at once", 1, playground.max_concurrency, st.session_state.get("pg_ds_concurrency", default),
            key="pg_ds_concurrency",
            help="Cells worked on at the same time. A local model answers one or two at a time; hosted ones more.",
        )  # fmt: skip
        cells = table.row_count * len(editors)
        ready = not errors and all(editor.variant is not None for editor in editors)
        label = f"Start run · {table.row_count:,} rows × {len(editors)} variants = {cells:,} calls"
        if st.button(label, type="primary", key="pg_ds_start", icon=":material/play_arrow:", disabled=not ready):
            start_dataset_run(me, playground, jobs, editors, table, mapping, int(concurrency))
        if not ready:
            st.caption("Choose a column for every variable (and fix any variant marked in red) to start.")
    run_id = st.session_state.get(DATASET_RUN)
    if run_id:
        st.subheader("Run")
        results.run_panel(playground, jobs, run_id, "ds")


def start_dataset_run(
    me: UserView, playground: PlaygroundService, jobs: RunJobs, editors: list[Editor], table: Table,
    mapping: dict[str, str | None], concurrency: int,
) -> None:  # fmt: skip
    try:
        chosen = require_mapping(table, variables(editors), mapping)
        run_id = playground.create_run(
            user_id=me.id, variants=[editor.variant for editor in editors if editor.variant is not None],
            rows=[row_values(row, chosen) for row in table.rows], kind="dataset", mapping=chosen,
            dataset_name=table.name, dataset_sha256=table.sha256, concurrency=concurrency,
        )  # fmt: skip
        jobs.start(run_id)
    except (MappingError, PlaygroundError, RuntimeError) as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state[DATASET_RUN] = run_id
    st.rerun()


# History: this user's runs -----------------------------------------------------------------------------------------


def history_tab(me: UserView, playground: PlaygroundService, jobs: RunJobs) -> None:
    runs = playground.runs(me.id)
    if not runs:
        st.info(
            "No runs yet: try variants on the Try tab, or start a run on the Dataset tab.", icon=":material/history:"
        )
        return
    st.dataframe(results.history_frame(runs), hide_index=True, key="pg_hist_table")
    by_id = {run.id: run for run in runs}
    chosen = st.selectbox(
        "Open a run", list(by_id), index=None, key="pg_hist_run", placeholder="Choose a run to see its results",
        format_func=lambda run_id: results.run_choice_label(by_id[run_id]),
    )  # fmt: skip
    if chosen:
        results.run_panel(playground, jobs, str(chosen), "hist")
