"""The Playground's inputs: the form for one try, and a dataset with its columns mapped to template variables."""

from __future__ import annotations

import streamlit as st

from workbench.config.settings import PlaygroundSettings
from workbench.playground.datasets import (
    DatasetError,
    Table,
    check_mapping,
    datasets_dir,
    list_datasets,
    load_dataset,
    load_table,
    suggest_mapping,
)
from workbench.prompting.templates import PromptTemplate

TRIED_KEY = "pg_try_tried"  # Run was pressed with fields missing: show which ones
SHIPPED = "A dataset in datasets/"
UPLOADED = "An uploaded file"
NO_COLUMN = "— choose a column —"
_LONG = {"context", "contexts", "passages", "document", "documents", "text"}


def try_form(templates: list[PromptTemplate]) -> tuple[dict[str, str], dict[str, str]]:
    """A text area per variable the templates use; returns the values and, per variable still blank, what to do.

    The errors are shown under their fields once Run was pressed with fields missing, and go as they are filled.
    """
    names = list(dict.fromkeys(name for template in templates for name in template.required_variables()))
    columns = st.columns(2) if len(names) > 1 else [st.container()]
    values: dict[str, str] = {}
    for index, name in enumerate(names):
        with columns[index % len(columns)]:
            value = st.text_area(
                name, st.session_state.get(f"pg_try_{name}") or "", key=f"pg_try_{name}",
                height=180 if name.lower() in _LONG else 100,
                placeholder=f"The value of {{{{ {name} }}}} in the templates",
            )  # fmt: skip
            values[name] = value or ""
    errors = missing_values(templates, values)
    for index, name in enumerate(names):
        if name in errors and st.session_state.get(TRIED_KEY):
            columns[index % len(columns)].error(errors[name], icon=":material/edit:")
    if not errors:
        st.session_state.pop(TRIED_KEY, None)
    return values, errors


def missing_values(templates: list[PromptTemplate], values: dict[str, str]) -> dict[str, str]:
    """Per variable left blank, which templates need it (a blank field counts as not filled in)."""
    filled = {name: value for name, value in values.items() if value.strip()}
    needed_by: dict[str, list[str]] = {}
    for template in templates:
        wanted = {name: value for name, value in filled.items() if name in template.required_variables()}
        for name in template.check_values(wanted):
            needed_by.setdefault(name, []).append(template.name)
    return {name: f"Fill in '{name}': {', '.join(dict.fromkeys(users))} needs it." for name, users in needed_by.items()}


def choose_table(settings: PlaygroundSettings) -> Table | None:
    """A shipped dataset or an uploaded file, read within the configured limits; problems are shown, not raised."""
    max_bytes = int(settings.max_upload_mb * 1_000_000)
    source = st.radio("Rows from", [SHIPPED, UPLOADED], horizontal=True, key="pg_ds_source")
    try:
        if source == SHIPPED:
            found = {info.name: info for info in list_datasets()}
            if not found:
                st.info(
                    f"No datasets in {datasets_dir()}: put a CSV or JSONL file there, or upload one.",
                    icon=":material/dataset:",
                )
                return None
            # The playground's own sample first; eval datasets (datasets/eval) work as inputs too.
            names = sorted(found, key=lambda n: (not n.startswith("playground/"), n))
            name = st.selectbox(
                "Dataset", names, key="pg_ds_name",
                format_func=lambda n: f"{n} ({found[n].format.upper()}, {found[n].size / 1000:,.1f} kB)",
            )  # fmt: skip
            return load_dataset(str(name), max_bytes=max_bytes, max_rows=settings.max_rows)
        upload = st.file_uploader(
            "CSV, JSONL or JSON file", type=["csv", "jsonl", "json"], key="pg_ds_upload",
            help=f"Up to {settings.max_upload_mb:g} MB and {settings.max_rows:,} rows; the first row of a CSV names "
            "the columns.",
        )  # fmt: skip
        if upload is None:
            st.caption("Upload a table whose columns hold the values of the template variables.")
            return None
        return load_table(upload.getvalue(), upload.name, max_bytes=max_bytes, max_rows=settings.max_rows)
    except DatasetError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def map_columns(table: Table, variables: list[str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """One select per template variable (proposed from the column names); returns the mapping and its errors."""
    options = [NO_COLUMN, *table.columns]
    fresh = st.session_state.get("pg_ds_map_table") != table.sha256  # another table: propose afresh
    st.session_state["pg_ds_map_table"] = table.sha256
    suggested = suggest_mapping(table.columns, variables)
    mapping: dict[str, str | None] = {}
    columns = st.columns(4)
    for index, variable in enumerate(variables):
        state = f"pg_ds_map_{variable}"
        current = st.session_state.get(state)
        default = 0  # set through the session state below: Streamlit wants no second default then
        if fresh or current not in options:
            st.session_state[state] = suggested.get(variable) or NO_COLUMN
        else:  # the current choice doubles as the default, should the browser lose the widget's value
            default = options.index(current)
        with columns[index % len(columns)]:
            chosen = st.selectbox(f"Column for {{{{ {variable} }}}}", options, index=default, key=state)
            mapping[variable] = None if chosen == NO_COLUMN else str(chosen)
            problem = check_mapping(table, [variable], mapping).get(variable)
            if problem:
                st.error(problem, icon=":material/link_off:")
    return mapping, check_mapping(table, variables, mapping)
