"""The live progress of this user's eval runs on the Run tab: a bar per run, its counts, Stop, Resume and Retry.

Every figure is read back from SQL, so a reload, another tab or another process sees the same progress. While a
run is being worked on, the panel is a fragment that redraws itself every second; the rest of the page stays put.
Which runs this session started is UI state (session_state): they stay listed once finished, with a link to their
scores; other unfinished runs of the user are listed too, so a stopped or failed run can be resumed from here.
"""

from __future__ import annotations

import streamlit as st

from app.components.markdown import plain
from app.components.navigation import page_link
from app.components.runs import RUN_STATUS_ICONS, is_live
from workbench.domain.runs import EvalRunStatus
from workbench.domain.users import UserView
from workbench.evaluation.runs import EvalRunError, EvalRunService, RunView
from workbench.services.queued_runs import RunJobs

WATCHED = "evd_watched"  # run ids started from this session, newest first
UNFINISHED = tuple(status for status in EvalRunStatus if status != EvalRunStatus.COMPLETED)
MAX_SHOWN = 10


def watch(run_ids: list[str]) -> None:
    st.session_state[WATCHED] = list(dict.fromkeys([*run_ids, *st.session_state.get(WATCHED, [])]))[:MAX_SHOWN]


def panel(user: UserView, runs: EvalRunService, jobs: RunJobs) -> None:
    shown = listed(runs, user)
    if not shown:
        st.caption("No run of yours is in progress. Runs you start appear here; all runs are on the Evaluation page.")
        return
    live = any(is_live(jobs, run) for run in shown)
    st.fragment(_body, run_every=1.0 if live else None)(runs, jobs, [run.id for run in shown], live)


def listed(runs: EvalRunService, user: UserView) -> list[RunView]:
    """The runs this session started, then the user's other unfinished runs, newest first."""
    watched = set(st.session_state.get(WATCHED, []))
    return runs.runs(ids=sorted(watched), created_by=user.username, statuses=UNFINISHED, limit=MAX_SHOWN)


def _body(runs: EvalRunService, jobs: RunJobs, run_ids: list[str], was_live: bool) -> None:
    current = []
    for run_id in run_ids:
        try:
            current.append(runs.run(run_id))
        except EvalRunError:  # deleted on the Evaluation page meanwhile
            continue
    live = [is_live(jobs, run) for run in current]
    if was_live and not any(live):
        st.rerun()  # all finished or stopped: redraw the page once, without the refresh timer
    for run, running in zip(current, live, strict=True):
        with st.container(border=True, key=f"evd_progress_{run.id}"):
            card(jobs, run, running)


def card(jobs: RunJobs, run: RunView, live: bool) -> None:
    config = run.config
    kb = config.get("knowledge_base")
    where = f"{kb} k={config.get('top_k')}" if kb else "no retrieval"
    st.markdown(
        f"**{plain(run.label)}** · {plain(run.dataset)} v{run.dataset_version} · "
        f"{RUN_STATUS_ICONS.get(run.status, '')} {run.status}"
    )
    st.caption(
        f"{plain(str(config.get('model')))} · {plain(str(config.get('prompt')))} v{config.get('prompt_version')} · "
        f"{plain(where)} · judge {plain(str(config.get('judge_model') or 'none'))} · "
        f"started {run.created_at:%Y-%m-%d %H:%M} UTC by {plain(run.created_by)}"
    )
    st.progress(
        min(run.progress, 1.0),
        text=f"{run.done_count:,} of {run.item_count:,} items · {run.failed_count:,} failed",
    )
    error = jobs.error(run.id) or run.error
    if error and not live:
        st.error(f"The run stopped early: {error}", icon=":material/error:")
    buttons = st.container(horizontal=True)
    if live:
        if buttons.button("Stop", key=f"evd_stop_{run.id}", icon=":material/stop_circle:"):
            jobs.stop(run.id)
            st.toast("Stopping after the items in progress…")
        return
    if run.resumable and buttons.button(
        "Resume", key=f"evd_resume_{run.id}", icon=":material/play_arrow:", type="primary"
    ):
        _start(jobs, run.id, retry_failed=False)
    if run.failed_count and buttons.button("Retry failed items", key=f"evd_retry_{run.id}", icon=":material/replay:"):
        _start(jobs, run.id, retry_failed=True)
    if run.status == EvalRunStatus.COMPLETED:
        page_link("evaluation.py", "See the scores", ":material/analytics:", "See its scores on the Evaluation page.")


def _start(jobs: RunJobs, run_id: str, *, retry_failed: bool) -> None:
    try:
        started = jobs.start(run_id, retry_failed=retry_failed)
    except RuntimeError as exc:
        st.error(f"Could not start the run: {exc}", icon=":material/error:")
        return
    if not started:
        st.info("This run is already being worked on.", icon=":material/info:")
        return
    watch([run_id])
    st.rerun(scope="app")  # the whole page, so the panel refreshes itself while the run goes on
