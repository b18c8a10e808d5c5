"""What the Eval datasets page's tabs share: the open tab, notices and import reports kept for the next run, links to
other pages, and how a dataset version and its source are written.

Which tab, dataset and version are open is UI state (session_state); every dataset, version and item is in SQL.
An import report is kept in session_state only so it can be shown after the page reruns: its rejected rows are a
report on the file the user holds, not data of record.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app.ui import plain
from workbench.evaluation.datasets import DatasetVersion, ImportReport, RejectedRow

TABS = ("Datasets", "Import", "From labelling", "Run")
TAB_KEY = "evd_tab"
PICK_KEY = "evd_pick"  # the dataset open on the Datasets tab
VERSION_KEY = "evd_version"  # and its version
_REPORT = "evd_report_"  # + place -> (owner, ImportReport)
PAGES = Path(__file__).resolve().parents[1] / "pages"


def open_dataset(name: str, version: int) -> None:
    """A button callback (it runs before the script, so it may still set the tab and the dataset shown)."""
    st.session_state[TAB_KEY] = "Datasets"
    st.session_state[PICK_KEY] = name
    st.session_state[VERSION_KEY] = version


def choose(key: str, options: Collection[object], default: object) -> None:
    """Before drawing a select: reset its value to `default` when the current one is no longer offered."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


# Notices and reports that survive a rerun ---------------------------------------------------------------------


def keep_report(place: str, owner: object, report: ImportReport) -> None:
    """Show `report` at `place` while what it is about (`owner`: an uploaded file, a golden version) stays chosen."""
    st.session_state[_REPORT + place] = (owner, report)


def show_kept_report(place: str, owner: object) -> None:
    kept = st.session_state.get(_REPORT + place)
    if kept is not None and kept[0] == owner:
        show_report(kept[1], place)


def show_report(report: ImportReport, place: str) -> None:
    version = report.version
    with st.container(border=True):
        if report.unchanged:
            st.info(
                f"Nothing changed: the content equals **{plain(version.label)}** ({version.item_count} items), so no "
                "new version was stored.",
                icon=":material/info:",
            )
        else:
            st.success(
                f"Imported {report.imported} item(s) as **{plain(version.label)}**.", icon=":material/check_circle:"
            )
        st.button(
            f"Open {version.label}", key=f"evd_{place}_open", icon=":material/table_view:",
            on_click=open_dataset, args=(version.name, version.version),
        )  # fmt: skip
        rejected_report(report.rejected, place)


def rejected_report(rejected: list[RejectedRow], place: str) -> None:
    """The rows left out, with their line in the file and why, and the same table as a CSV to fix the file with."""
    if not rejected:
        return
    st.warning(f"{len(rejected)} row(s) were left out:", icon=":material/warning:")
    frame = rejected_frame(rejected)
    st.dataframe(frame, hide_index=True, key=f"evd_{place}_rejected")
    st.download_button(
        "Rejected rows (CSV)", frame.to_csv(index=False), file_name="rejected-rows.csv", mime="text/csv",
        key=f"evd_{place}_rejected_csv", icon=":material/download:", on_click="ignore",
    )  # fmt: skip


def rejected_frame(rejected: list[RejectedRow]) -> pd.DataFrame:
    # "line 7" in a file; "item 3" in a .json list or a golden dataset, which have no lines.
    return pd.DataFrame(
        [{"where": row.where, "reason": row.reason, "question": row.question} for row in rejected],
        columns=["where", "reason", "question"],
    )


# Links and formatting ---------------------------------------------------------------------------------------------


def page_link(page: str, label: str, icon: str, fallback: str) -> None:
    """A link to another page of the app, or `fallback` as text when the page is not in this user's navigation."""
    try:
        st.page_link(str(PAGES / page), label=label, icon=icon)
    except StreamlitPageNotFoundError:  # not registered (this role, or the page run on its own as in tests)
        st.caption(fallback)


def source_text(version: DatasetVersion) -> str:
    """Where a version came from: the file, the golden dataset, or how it was added."""
    detail = version.source_detail
    if version.source == "golden":
        return f"golden {detail.get('golden', '?')} v{detail.get('golden_version', '?')}"
    if detail.get("file"):
        return f"{version.source}: {detail['file']}"
    return version.source


def when(version: DatasetVersion) -> str:
    return version.created_at.strftime("%Y-%m-%d %H:%M")
