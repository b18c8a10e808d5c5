"""The Golden datasets tab of the Review page: a queue's decided items exported as the next version of a golden
dataset (question, reference answer, reference contexts, labels), and every version to preview and download."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app.components.formatting import when
from app.components.markdown import plain
from app.components.notices import leave_notice, show_notice
from app.components.widget_state import refill
from app.views.review.display import show_error
from app.views.review.state import goto
from workbench.labelling.queues import QueueService
from workbench.labelling.review import GoldenDataset, ReviewService, to_csv, to_jsonl
from workbench.labelling.views import Actor, LabellingError, QueueView

PICK_KEY = "review_golden_pick"


def render(actor: Actor, queue: QueueView | None, *, review: ReviewService, label_queues: QueueService) -> None:
    datasets = review.golden_datasets(actor)
    show_notice("golden")
    if queue is not None:
        with st.container(border=True):
            export(review, label_queues, actor, queue, datasets)
    if not datasets:
        st.info(
            "No golden datasets yet. Decide items on the Adjudicate tab, then export them here: each export is a "
            "new numbered version, and earlier versions stay as they were.",
            icon=":material/dataset:",
        )
        return
    st.subheader("Golden datasets", divider="gray")
    st.dataframe(
        pd.DataFrame([
            {"name": d.name, "version": f"v{d.version}", "items": d.item_count, "created by": d.created_by,
             "created (UTC)": when(d.created_at), "description": d.description}
            for d in datasets
        ]),
        hide_index=True, key="review_golden_table",
    )  # fmt: skip
    by_id = {d.id: d for d in datasets}
    if st.session_state.get(PICK_KEY) not in by_id:
        st.session_state[PICK_KEY] = datasets[0].id
    chosen = by_id[
        st.selectbox(
            "Preview and download", list(by_id), key=PICK_KEY,
            format_func=lambda i: f"{by_id[i].name} v{by_id[i].version} ({by_id[i].item_count} item(s))",
        )
    ]  # fmt: skip
    show(review.golden(actor, chosen.name, chosen.version))


def export(
    review: ReviewService, label_queues: QueueService, actor: Actor, queue: QueueView, datasets: list[GoldenDataset]
) -> None:
    decided = label_queues.progress(actor, queue.id).adjudicated
    st.markdown(f"**Export {plain(queue.name)}**")
    if not decided:
        st.caption(f"No item of {plain(queue.name)} is decided yet: decide items on the Adjudicate tab first.")
        return
    refill("review_golden", queue.id, {"review_golden_name": queue.name, "review_golden_description": ""})
    left, right = st.columns([2, 3])
    name = left.text_input("Dataset name", key="review_golden_name", max_chars=128).strip()
    description = right.text_input("Description", key="review_golden_description", placeholder="what changed")
    latest = max((d.version for d in datasets if d.name == name), default=0)
    st.caption(
        f"{decided} decided item(s) become {plain(name) or 'the dataset'} v{latest + 1}: question, reference "
        "answer (the decided better answer, else the answer), reference contexts (the passages decided relevant) "
        "and labels. The evaluation reads golden datasets by name and version."
    )
    if st.button(f"Export as v{latest + 1}", key="review_golden_export", type="primary", icon=":material/publish:"):
        try:
            dataset = review.export_golden(actor, queue.id, name, (description or "").strip())
        except LabellingError as exc:
            show_error(exc)
            return
        leave_notice("golden", f"Saved golden dataset {dataset.name} v{dataset.version} with "
                                      f"{dataset.item_count} item(s).")  # fmt: skip
        goto({PICK_KEY: dataset.id}, clear=("review_golden_description",))
        st.rerun()


def show(dataset: GoldenDataset) -> None:
    stem = f"{dataset.name.replace(' ', '-')}-v{dataset.version}"
    left, right, _ = st.columns([1, 1, 3])
    left.download_button(
        "JSONL", to_jsonl(dataset).encode(), file_name=f"{stem}.jsonl", mime="application/jsonl",
        key="review_golden_jsonl", icon=":material/download:", width="stretch",
    )  # fmt: skip
    right.download_button(
        "CSV", to_csv(dataset).encode(), file_name=f"{stem}.csv", mime="text/csv", key="review_golden_csv",
        icon=":material/download:", width="stretch",
    )  # fmt: skip
    about = f" · {plain(dataset.description)}" if dataset.description else ""
    st.caption(
        f"{plain(dataset.name)} v{dataset.version}: {dataset.item_count} item(s), exported by "
        f"{plain(dataset.created_by)} on {when(dataset.created_at)} UTC{about}"
    )
    st.dataframe(
        pd.DataFrame([
            {"question": row["question"], "reference answer": row["reference_answer"],
             "contexts": len(row["reference_contexts"]), "labels": json.dumps(row["labels"], ensure_ascii=False),
             "decided by": row["source"].get("decided_by", ""), "method": row["source"].get("method", "")}
            for row in dataset.rows
        ]),
        hide_index=True, key="review_golden_preview",
        column_config={"contexts": st.column_config.NumberColumn(help="Reference contexts (passages)")},
    )  # fmt: skip
