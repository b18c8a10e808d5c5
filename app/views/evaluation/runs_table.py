"""The Runs tab of the Evaluation page: filters, the sortable runs table, and what to do with the selected runs
(open a summary, compare, export CSV, edit tags, stop or resume)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from app.components.formatting import DASH
from app.components.markdown import plain
from app.components.notices import leave_notice
from app.components.runs import RUN_STATUS_ICONS, is_live
from app.views.evaluation import formatting as fmt
from app.views.evaluation import state
from app.views.evaluation.controls import live_progress, run_controls
from workbench.domain.runs import EvalRunStatus
from workbench.evaluation.metrics import METRICS
from workbench.evaluation.reports import EvalReports, RunSummary
from workbench.evaluation.runs import EvalRunService, RunView
from workbench.services.queued_runs import RunJobs

STATUSES = (
    EvalRunStatus.PENDING, EvalRunStatus.RUNNING, EvalRunStatus.STOPPED, EvalRunStatus.COMPLETED, EvalRunStatus.FAILED,
)  # fmt: skip
ALL = "(all)"


def runs_frame(summaries: Sequence[RunSummary]) -> pd.DataFrame:
    """One line per run: what it ran, how far it got, and each metric's mean over its scored items."""
    metrics = fmt.ordered_metrics({m for s in summaries for m in s.metrics})
    rows = []
    for summary in summaries:
        run = summary.run
        # The means come before the configuration so that they are in view without scrolling sideways.
        row: dict[str, object] = {
            "name": run.name,
            "repeat": run.repeat,
            "created": run.created_at,
            "dataset": f"{run.dataset} v{run.dataset_version}",
            "status": run.status,
            "progress": run.progress,
            "failed items": run.failed_count,
        }
        for metric in metrics:
            found = summary.metrics.get(metric)
            row[fmt.metric_label(metric)] = fmt.number(found.mean) if found else None
        row.update(fmt.run_config(run))
        row["tags"] = ", ".join(run.tags)
        row["id"] = run.id
        rows.append(row)
    return pd.DataFrame(rows)


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": st.column_config.TextColumn(width="medium", pinned=True),
        "repeat": st.column_config.NumberColumn("#", width="small", help="Repeat of the same configuration"),
        "progress": st.column_config.ProgressColumn(format="percent", width="small", help="Items done"),
        "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
        "top_k": st.column_config.NumberColumn(width="small"),
        "failed items": st.column_config.NumberColumn(
            width="small", help="Items whose answer could not be produced: they have no scores"
        ),
        "id": None,
    }
    for info in METRICS.values():
        if info.label in frame.columns:
            config[info.label] = st.column_config.NumberColumn(
                format="%.3f", help=f"Mean over the scored items. {info.description}"
            )
    return config


def table_key(run_ids: Sequence[str]) -> str:
    """A table per list of runs shown: a selection is a list of row positions, so when a filter or a new run changes
    which run is on which row, the table starts again with nothing selected."""
    digest = hashlib.sha256(" ".join(run_ids).encode()).hexdigest()[:12]
    return f"eval_runs_table_{digest}"


def csv_exporter(reports: EvalReports, run_ids: Sequence[str]) -> Callable[[], str]:
    # A callable: the CSV (run x item x metric) is built when someone downloads it, not on every rerun.
    ids = list(run_ids)
    return lambda: reports.export_csv(ids)


def render(all_runs: list[RunSummary], *, reports: EvalReports, runs: EvalRunService, jobs: RunJobs) -> None:
    live = [s.run.id for s in all_runs if is_live(jobs, s.run)]
    if live:
        live_progress(runs, jobs, live)
    datasets = sorted({s.run.dataset for s in all_runs})
    tags = sorted({tag for s in all_runs for tag in s.run.tags})
    top = st.columns(3)
    dataset = top[0].selectbox("Dataset", [ALL, *datasets], key="eval_f_dataset")
    tag = top[1].selectbox("Tag", [ALL, *tags], key="eval_f_tag")
    status = top[2].selectbox("Status", [ALL, *STATUSES], key="eval_f_status")
    shown = reports.runs(
        dataset=None if dataset == ALL else dataset, tag=None if tag == ALL else tag,
        status=None if status == ALL else status,
    )  # fmt: skip
    if not shown:
        st.info("No run matches these filters.", icon=":material/search_off:")
        return
    frame = runs_frame(shown)
    st.caption(
        f"{len(shown)} run(s), newest first. Click a column header to sort. Select one run to see its summary, edit "
        "its tags or stop and resume it; select two or more to compare them or export their scores."
    )
    selection = st.dataframe(
        frame, hide_index=True, on_select="rerun", selection_mode="multi-row",
        key=table_key([s.run.id for s in shown]), column_config=column_config(frame), placeholder=DASH,
    )  # fmt: skip
    rows = [r for r in (selection.selection.rows if selection else []) if r < len(shown)]
    chosen = [shown[r].run for r in rows]
    if chosen:
        actions(reports, runs, jobs, chosen, tags)


def actions(
    reports: EvalReports, runs: EvalRunService, jobs: RunJobs, chosen: list[RunView], known_tags: list[str]
) -> None:
    buttons = st.container(horizontal=True)
    if len(chosen) == 1:
        buttons.button(
            "Open summary", key="eval_open_summary", icon=":material/summarize:", type="primary",
            on_click=state.open_summary, args=(chosen[0].id,),
        )  # fmt: skip
    else:
        buttons.button(
            f"Compare {len(chosen)} runs", key="eval_open_compare", icon=":material/compare_arrows:", type="primary",
            on_click=state.open_compare, args=(chosen,), help="The oldest selected run is the baseline",
        )  # fmt: skip
    what = chosen[0].label if len(chosen) == 1 else f"{len(chosen)} runs"
    buttons.download_button(
        f"Export {what} (CSV)", data=csv_exporter(reports, [run.id for run in chosen]),
        file_name=_file_name(chosen), mime="text/csv", key="eval_export", icon=":material/download:",
        on_click="ignore", help="One line per run × item × metric, failures with their cause",
    )  # fmt: skip
    if len(chosen) == 1:
        edit_run(runs, jobs, chosen[0], known_tags)


def _file_name(runs: list[RunView]) -> str:
    if len(runs) == 1:
        return f"eval-{runs[0].dataset}-{runs[0].id[:8]}.csv"
    return f"eval-{len(runs)}-runs.csv"


def edit_run(runs: EvalRunService, jobs: RunJobs, run: RunView, known_tags: list[str]) -> None:
    with st.container(border=True):
        st.markdown(
            f"{RUN_STATUS_ICONS.get(run.status, '')} **{plain(run.label)}** · {run.status} · "
            f"{run.done_count:,} of {run.item_count:,} items · {run.failed_count:,} failed  \n"
            f":gray[{plain(' · '.join(filter(None, (fmt.named_config(run), f'by {run.created_by}'))))}]"
        )
        tags_column, save_column = st.columns([5, 1], vertical_alignment="bottom")
        tags = tags_column.multiselect(
            "Tags", sorted({*known_tags, *run.tags}), default=list(run.tags), key=f"eval_tags_{run.id}",
            accept_new_options=True, placeholder="Add tags (type a new one and press Enter)",
        )  # fmt: skip
        if save_column.button("Save tags", key="eval_tags_save", width="stretch", disabled=tags == list(run.tags)):
            runs.set_tags(run.id, tags)
            leave_notice(state.NOTICE, f"Saved the tags of {run.label}.")
            st.rerun()
        run_controls(jobs, run, "eval_runs")
