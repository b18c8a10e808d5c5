"""Import reports of the Eval datasets page: what was imported, and the rows left out and why.

A report is kept in session_state only so it can be shown after the page reruns: its rejected rows are a report on
the file the user holds, not data of record.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.components.markdown import plain
from app.views.eval_datasets.state import open_dataset
from workbench.evaluation.datasets import ImportReport, RejectedRow

_REPORT = "evd_report_"  # + place -> (owner, ImportReport)


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
