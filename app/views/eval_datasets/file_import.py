"""The Import tab of the Eval datasets page: an uploaded CSV or JSONL file, its columns mapped to the item fields,
imported as a new dataset or the next version of an existing one, with a report of the rows left out."""

from __future__ import annotations

from pathlib import PurePosixPath

import streamlit as st

from app.components.markdown import plain
from app.components.tables import table_preview
from app.components.widget_state import choose, refill
from app.views.eval_datasets.reports import keep_report, show_kept_report
from workbench.domain.users import UserView
from workbench.evaluation.datasets import FIELDS, MAX_CONTEXTS, EvalDatasetError, EvalDatasetService, suggest_mapping
from workbench.tabular import DatasetError, Table, load_table

NO_COLUMN = "— none —"
NEW = "A new dataset"
TARGET_KEY = "evd_import_target"
NAME_KEY = "evd_import_name"
LABELS = {
    "question": "Question",
    "reference_answer": "Reference answer",
    "reference_contexts": "Reference contexts",
    "tags": "Tags",
}
HELP = {
    "question": "Required. Rows with an empty question, or the same question as an earlier row, are left out.",
    "reference_answer": "The answer the pipeline should give; answer metrics (string similarity, BLEU, …) need it.",
    "reference_contexts": f"The passages that hold the answer: a JSON list of strings, or one passage as text (up to "
    f"{MAX_CONTEXTS}). The context precision and recall metrics need them.",
    "tags": "A JSON list, or text split on commas or semicolons. Filter items and compare runs by tag.",
}


def render(user: UserView, *, datasets: EvalDatasetService, max_upload_mb: float) -> None:
    table = upload(max_upload_mb)
    if table is None:
        return
    table_preview(table, key="evd_import_preview")
    mapping = map_fields(table)
    name, description, note = destination(datasets, table)
    ready = bool(mapping["question"] and name)
    if st.button(
        f"Import {table.row_count:,} row(s)", key="evd_import", type="primary", icon=":material/upload:",
        disabled=not ready,
    ):  # fmt: skip
        try:
            report = datasets.import_table(
                table, name, mapping, actor=user.username, description=description, note=note
            )
        except EvalDatasetError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            keep_report("import", table.sha256, report)
            st.rerun()  # the dataset list and the next version number are read again
    if not ready:
        st.caption("Choose the question column and name the dataset to import.")
    show_kept_report("import", table.sha256)


def upload(max_mb: float) -> Table | None:
    """The uploaded file as a table; a file that cannot be read is explained, not raised."""
    upload = st.file_uploader(
        "CSV or JSONL file", type=["csv", "jsonl", "json"], key="evd_upload",
        help=f"Up to {max_mb:g} MB, UTF-8. The first row of a CSV names the columns; a JSONL file has one JSON object "
        "per line.",
    )  # fmt: skip
    if upload is None:
        st.caption(
            "One row per question. Columns for the reference answer, the reference contexts and tags are optional; "
            "other columns are kept with each item. Importing into an existing dataset adds a version: earlier "
            "versions, and the runs over them, stay as they were."
        )
        return None
    try:
        return load_table(upload.getvalue(), upload.name, max_bytes=int(max_mb * 1_000_000))
    except DatasetError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def map_fields(table: Table) -> dict[str, str | None]:
    """One select per item field, proposed from the column names when another file is uploaded."""
    options = [NO_COLUMN, *table.columns]
    suggested = suggest_mapping(table.columns)
    refill("evd_map", table.sha256, {f"evd_map_{f}": suggested.get(f) or NO_COLUMN for f in FIELDS})
    mapping: dict[str, str | None] = {}
    for field, column in zip(FIELDS, st.columns(len(FIELDS)), strict=True):
        key = f"evd_map_{field}"
        choose(key, options, NO_COLUMN)
        chosen = column.selectbox(LABELS[field], options, key=key, help=HELP[field])
        mapping[field] = None if chosen == NO_COLUMN else str(chosen)
    if mapping["question"] is None:
        st.error("Choose the column that holds the questions: every item needs one.", icon=":material/link_off:")
    used = [column for column in mapping.values() if column]
    if len(used) != len(set(used)):
        st.warning("One column is mapped to two fields; check that this is what you mean.", icon=":material/warning:")
    return mapping


def destination(datasets: EvalDatasetService, table: Table) -> tuple[str, str, str]:
    """Where the rows go (a new dataset, or the next version of an existing one), its description and a note."""
    latest = {d.name: d for d in datasets.datasets()}
    stem = PurePosixPath(table.name.replace("\\", "/")).stem
    refill("evd_target", table.sha256, {TARGET_KEY: stem if stem in latest else NEW, NAME_KEY: stem})
    targets = [NEW, *latest]
    choose(TARGET_KEY, targets, NEW)
    left, right = st.columns(2)
    target = left.selectbox(
        "Import into", targets, key=TARGET_KEY,
        format_func=lambda t: t if t == NEW else f"{t} (now v{latest[t].version}, {latest[t].item_count} items)",
    )  # fmt: skip
    description = ""
    if target == NEW:
        name = right.text_input("Dataset name", key=NAME_KEY, max_chars=128).strip()
        if name not in latest:
            description = st.text_input("Description", key="evd_import_description", placeholder="what it measures")
    else:
        name = str(target)
    note = st.text_input("Note for this version", key="evd_import_note", placeholder="what changed, where it came from")
    if name in latest:
        st.caption(
            f"The rows become **{plain(name)} v{latest[name].version + 1}**; if the content equals "
            f"v{latest[name].version}, nothing is stored."
        )
    elif name:
        st.caption(f"The rows become a new dataset **{plain(name)}**, v1.")
    return name, (description or "").strip(), (note or "").strip()
