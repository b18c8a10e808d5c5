"""The Rubrics tab of the Review page: every rubric's latest version, and an editor that records a new version when
the fields change (queues keep the version they were created with, and labels already given never change)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.components.notices import leave_notice, show_notice
from app.components.widget_state import refill
from app.views.review.display import label_value, show_error
from app.views.review.state import goto
from workbench.labelling.queues import QueueService
from workbench.labelling.rubrics import DEFAULT_RUBRIC, KINDS, Rubric, RubricError, RubricField
from workbench.labelling.views import Actor, LabellingError, RubricView

NEW = "new rubric…"
COLUMNS = ("key", "label", "kind", "options", "minimum", "maximum", "required", "help")


def field_summary(item: RubricField) -> str:
    """E.g. `helpfulness (ordinal 1-5)` or `issue (categorical: none, hallucination, optional)`."""
    detail = ""
    if item.kind == "categorical":
        detail = ": " + ", ".join(item.options)
    elif item.minimum is not None or item.maximum is not None:
        detail = f" {label_value(item, item.minimum)}–{label_value(item, item.maximum)}"
    optional = "" if item.required else ", optional"
    return f"{item.key} ({item.kind}{detail}{optional})"


def fields_frame(rubric: Rubric) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"key": f.key, "label": f.label, "kind": f.kind, "options": ", ".join(f.options), "minimum": f.minimum,
             "maximum": f.maximum, "required": f.required, "help": f.help}
            for f in rubric.fields
        ],
        columns=list(COLUMNS),
    ).astype({"minimum": "float64", "maximum": "float64"})  # fmt: skip


def rubric_from_table(table: pd.DataFrame, chunk_relevance: bool, instructions: str) -> Rubric:
    """The edited table as a checked rubric; RubricError names the row and what is wrong. Blank rows are ignored."""
    fields = []
    for row in table.to_dict("records"):
        key, label = _text(row.get("key")), _text(row.get("label"))
        if not key and not label and not _text(row.get("options")):
            continue
        field: dict[str, Any] = {"key": key, "label": label, "kind": _text(row.get("kind")) or None,
                                 "required": True if pd.isna(row.get("required")) else bool(row.get("required")),
                                 "help": _text(row.get("help"))}  # fmt: skip
        options = [part.strip() for part in _text(row.get("options")).split(",") if part.strip()]
        if options:
            field["options"] = options
        for bound in ("minimum", "maximum"):
            value = row.get(bound)
            if value is not None and not pd.isna(value):
                field[bound] = float(value)
        fields.append(field)
    return Rubric.from_dict({"fields": fields, "chunk_relevance": chunk_relevance, "instructions": instructions})


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def render(actor: Actor, *, label_queues: QueueService) -> None:
    rubrics = label_queues.rubrics(actor)
    show_notice("rubric")
    if rubrics:
        st.dataframe(
            pd.DataFrame([
                {"name": r.name, "latest": f"v{r.version}",
                 "fields": " · ".join(field_summary(f) for f in r.rubric.fields),
                 "passages": "relevance marked" if r.rubric.chunk_relevance else "", "description": r.description}
                for r in rubrics
            ]),
            hide_index=True, key="review_rubrics_table",
            column_config={"fields": st.column_config.TextColumn(width="large")},
        )  # fmt: skip
    else:
        st.info(
            "No rubrics yet. A rubric is the form annotators fill in for each item. The editor below starts from "
            "the default rubric: name it, adjust the fields and save.",
            icon=":material/checklist:",
        )
    editor(label_queues, actor, rubrics)


def editor(label_queues: QueueService, actor: Actor, rubrics: list[RubricView]) -> None:
    by_name = {r.name: r for r in rubrics}
    st.subheader("Edit a rubric", divider="gray")
    choice = st.selectbox("Rubric", [*by_name, NEW], key="review_rubric_choice")
    base = by_name.get(choice)
    rubric = base.rubric if base else DEFAULT_RUBRIC
    refill(
        "review_rubric", (choice, base.version if base else 0),
        {"review_rubric_chunks": rubric.chunk_relevance, "review_rubric_instructions": rubric.instructions},
    )  # fmt: skip
    if base is None:
        left, right = st.columns(2)
        name = left.text_input("Name", key="review_rubric_name", placeholder="e.g. answer quality")
        description = right.text_input("Description", key="review_rubric_description")
        st.caption("Starting from the default rubric. Saving records v1.")
    else:
        name, description = base.name, ""
        st.caption(
            f"Editing the latest version, v{base.version}. Saving changed fields records v{base.version + 1}; queues "
            "keep the version they were created with, and labels already given never change."
        )
    table = st.data_editor(
        fields_frame(rubric), key=f"review_rubric_fields:{choice}:{base.version if base else 0}",
        num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "key": st.column_config.TextColumn(help="Lower-case letters, digits or '_'; labels are stored by key"),
            "label": st.column_config.TextColumn(help="The question annotators read", width="medium"),
            "kind": st.column_config.SelectboxColumn(options=list(KINDS), required=True, default="binary"),
            "options": st.column_config.TextColumn(help="Categorical: the labels to pick from, comma-separated"),
            "minimum": st.column_config.NumberColumn(help="Ordinal (a whole number) and numeric fields"),
            "maximum": st.column_config.NumberColumn(help="Ordinal (a whole number) and numeric fields"),
            "required": st.column_config.CheckboxColumn(default=True),
            "help": st.column_config.TextColumn(help="Shown under the field", width="medium"),
        },
    )  # fmt: skip
    chunks = st.checkbox("Also mark each retrieved passage relevant or not", key="review_rubric_chunks")
    instructions = st.text_area("Instructions for annotators", key="review_rubric_instructions", height=90)
    slot = st.container()
    if not st.button("Save rubric", key="review_rubric_save", type="primary", icon=":material/save:"):
        return
    name = (name or "").strip()
    if base is None and name in by_name:
        slot.error(f"There is already a rubric named '{name}': choose it above to edit it.", icon=":material/error:")
        return
    try:
        saved = label_queues.save_rubric(
            actor, name, rubric_from_table(table, chunks, instructions or ""), (description or "").strip()
        )
    except (RubricError, LabellingError) as exc:
        with slot:
            show_error(exc)
        return
    if base is not None and saved.version == base.version:
        slot.info(f"Unchanged: v{base.version} already has these fields; nothing recorded.", icon=":material/info:")
        return
    leave_notice("rubric", f"Saved rubric {saved.name} v{saved.version}.")
    clear = ("review_rubric_name", "review_rubric_description", f"review_rubric_fields:{NEW}:0")
    goto({"review_rubric_choice": saved.name}, clear=clear)
    st.rerun()
