"""The Datasets tab of the Eval datasets page: every dataset with its latest version, one dataset's versions, and a
version's items (filtered by tag) to read and download as JSONL."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app.components.formatting import when
from app.components.markdown import plain
from app.components.notices import leave_notice, show_notice
from app.components.widget_state import choose
from app.views.eval_datasets.state import PICK_KEY, VERSION_KEY
from workbench.domain.users import UserView
from workbench.evaluation.datasets import SAMPLE_DATASET, DatasetVersion, EvalDatasetError, EvalDatasetService, EvalItem

TAGS_KEY = "evd_tags"


def render(user: UserView, *, datasets: EvalDatasetService) -> None:
    show_notice("datasets")
    latest = datasets.datasets()
    if not latest:
        empty(datasets, user)
        return
    st.dataframe(
        pd.DataFrame([
            {"name": d.name, "latest version": f"v{d.version}", "items": d.item_count,
             "source": source_text(d), "created by": d.created_by, "created (UTC)": when(d.created_at)}
            for d in latest
        ]),
        hide_index=True, key="evd_datasets_table",
    )  # fmt: skip
    names = [d.name for d in latest]
    choose(PICK_KEY, names, names[0])
    name = str(st.columns(2)[0].selectbox("Dataset", names, key=PICK_KEY))
    try:
        versions = datasets.versions(name)
    except EvalDatasetError as exc:  # removed since the list above was read
        st.warning(str(exc))
        return
    show_versions(versions)
    numbers = [v.version for v in versions]
    choose(VERSION_KEY, numbers, numbers[0])
    number = st.columns(2)[0].selectbox(
        "Version", numbers, key=VERSION_KEY,
        format_func=lambda n: f"v{n}" + (" (latest)" if n == numbers[0] else ""),
    )  # fmt: skip
    version = next(v for v in versions if v.version == number)
    show_items(version, datasets.items(version.id))


def empty(datasets: EvalDatasetService, user: UserView) -> None:
    st.info(
        "No eval datasets yet. Import a CSV or JSONL file on the **Import** tab, bring in a golden dataset on "
        f"**From labelling**, or start with the sample **{SAMPLE_DATASET}** (questions about the sample documents, "
        "with reference answers and passages) with the button below.",
        icon=":material/dataset:",
    )
    if st.button(f"Import the sample {SAMPLE_DATASET}", key="evd_sample", icon=":material/download:"):
        version = datasets.ensure_sample(actor=user.username)
        if version is None:
            st.error(
                "The sample file datasets/eval/northwind-qa.jsonl is missing from this installation.",
                icon=":material/error:",
            )
            return
        leave_notice("datasets", f"Imported the sample {version.label} ({version.item_count} items).")
        st.rerun()


def show_versions(versions: list[DatasetVersion]) -> None:
    st.dataframe(
        pd.DataFrame([
            {"version": f"v{v.version}", "items": v.item_count, "source": source_text(v), "note": v.note,
             "created by": v.created_by, "created (UTC)": when(v.created_at)}
            for v in versions
        ]),
        hide_index=True, key="evd_versions_table",
    )  # fmt: skip


def show_items(version: DatasetVersion, items: list[EvalItem]) -> None:
    tags = sorted({tag for item in items for tag in item.tags})
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.multiselect(
        "Only items tagged", tags, key=TAGS_KEY, placeholder="all items" if tags else "no item has tags",
        disabled=not tags,
    )  # fmt: skip
    right.download_button(
        "Download JSONL", data=lambda: to_jsonl(items),  # built when someone downloads it, not on every rerun
        file_name=f"{version.name.replace(' ', '-')}-v{version.version}.jsonl", mime="application/jsonl",
        key="evd_download", icon=":material/download:", on_click="ignore", width="stretch",
    )  # fmt: skip
    shown = [item for item in items if not chosen or set(chosen) & set(item.tags)]
    note = f" · {plain(version.note)}" if version.note else ""
    st.caption(
        f"{plain(version.label)}: {len(shown)} of {len(items)} item(s){' with those tags' if chosen else ''} · "
        f"{plain(source_text(version))}{note}"
    )
    st.dataframe(
        pd.DataFrame(
            [
                {"question": item.question, "reference answer": item.reference_answer or "",
                 "contexts": len(item.reference_contexts), "tags": ", ".join(item.tags)}
                for item in shown
            ],
            columns=["question", "reference answer", "contexts", "tags"],
        ),
        hide_index=True, key="evd_items_table",
        column_config={
            "question": st.column_config.TextColumn(width="large"),
            "reference answer": st.column_config.TextColumn(width="large"),
            "contexts": st.column_config.NumberColumn(help="Reference contexts (passages) of the item"),
        },
    )  # fmt: skip


def to_jsonl(items: list[EvalItem]) -> str:
    """The items as the JSONL file they could have been imported from: importing it again changes nothing."""
    return "".join(
        json.dumps(
            {**item.extra, "question": item.question, "reference_answer": item.reference_answer,
             "reference_contexts": list(item.reference_contexts), "tags": list(item.tags)},
            ensure_ascii=False,
        ) + "\n"
        for item in items
    )  # fmt: skip


def source_text(version: DatasetVersion) -> str:
    """Where a version came from: the file, the golden dataset, or how it was added."""
    detail = version.source_detail
    if version.source == "golden":
        return f"golden {detail.get('golden', '?')} v{detail.get('golden_version', '?')}"
    if detail.get("file"):
        return f"{version.source}: {detail['file']}"
    return version.source
