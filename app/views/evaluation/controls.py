"""Running eval runs on the Evaluation page: Stop, Resume and Retry, and the live progress of the runs going on."""

from __future__ import annotations

import streamlit as st

from app.components.markdown import plain
from app.components.notices import leave_notice
from app.components.runs import RUN_STATUS_ICONS, is_live
from app.views.evaluation.state import NOTICE
from workbench.evaluation.runs import EvalRunService, RunView
from workbench.services.queued_runs import RunJobs


def run_controls(jobs: RunJobs, run: RunView, prefix: str) -> None:
    """Stop a live run; resume a stopped one or retry its failed items, in the background."""
    live = is_live(jobs, run)
    error = jobs.error(run.id)
    if error and not live:
        st.error(f"The last attempt stopped early: {error}", icon=":material/error:")
    buttons = st.container(horizontal=True)
    if live:
        if buttons.button("Stop", key=f"{prefix}_stop_{run.id}", icon=":material/stop_circle:"):
            jobs.stop(run.id)
            st.toast("Stopping after the items in progress…")
        st.caption("Worked on by the queue's workers; **Stop** starts no more of its items, wherever they run.")
    else:
        if run.resumable and buttons.button(
            "Resume", key=f"{prefix}_resume_{run.id}", icon=":material/play_arrow:", type="primary"
        ):
            _start(jobs, run, retry_failed=False)
        retry = f"Retry {run.failed_count} failed item(s)"
        if (
            run.failed_count
            and not live
            and buttons.button(retry, key=f"{prefix}_retry_{run.id}", icon=":material/replay:")
        ):
            _start(jobs, run, retry_failed=True)


def _start(jobs: RunJobs, run: RunView, *, retry_failed: bool) -> None:
    try:
        started = jobs.start(run.id, retry_failed=retry_failed)
    except RuntimeError as exc:
        st.error(f"Could not start the run: {exc}", icon=":material/error:")
        return
    if not started:
        st.info("This run is already being worked on.")
        return
    leave_notice(NOTICE, f"Sent {run.label} to the queue's workers.")
    st.rerun()


def live_progress(runs: EvalRunService, jobs: RunJobs, live_ids: list[str]) -> None:
    """Progress bars of the runs being worked on, refreshed every two seconds; the page reruns when they end."""
    st.fragment(_live_body, run_every=2.0)(runs, jobs, live_ids)


def _live_body(runs: EvalRunService, jobs: RunJobs, live_ids: list[str]) -> None:
    current = [runs.run(run_id) for run_id in live_ids]
    still = [run for run in current if is_live(jobs, run)]
    if len(still) < len(current):
        st.rerun()  # one ended: redraw the page with its summaries
    for run in still:
        st.progress(
            run.progress,
            text=f"{RUN_STATUS_ICONS['running']} **{plain(run.label)}** · {run.done_count:,} of {run.item_count:,} "
            f"items · {run.failed_count:,} failed",
        )
    st.caption("Means and intervals are refreshed every few seconds while a run goes on.")
