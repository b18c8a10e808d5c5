"""The System tab of the Admin page: the SQL database, the run log, this process's run-log writer, the queue."""

from __future__ import annotations

import streamlit as st

from app.components.markdown import plain
from workbench.llm.limits import LimitUse
from workbench.queue.client import QueueStatus
from workbench.services.system import SystemStatus


def show_status(status: SystemStatus) -> None:
    cols = st.columns(3)
    with cols[0], st.container(border=True):
        st.markdown("**SQL database**")
        st.write(f"Engine: `{status.sql_backend}`")
        if status.sql_error:
            st.error(f"Not reachable: {status.sql_error}")
        elif status.sql_up_to_date:
            st.success(f"Schema up to date (revision {status.sql_revision})")
        else:
            st.warning(f"Schema at {status.sql_revision}, newest is {status.sql_head}: run `workbench db upgrade`.")
    with cols[1], st.container(border=True):
        st.markdown("**Run log**")
        st.write(status.runlog_backend)
        if status.runlog_reachable:
            st.success(f"Reachable · {status.runlog_logs:,} logs")
        else:
            st.error("Not reachable: new logs wait in the local spool and are written when it is back.")
    with cols[2], st.container(border=True):
        st.markdown("**Run-log writer (this process)**")
        writer = status.writer
        st.write(f"Written: {writer.written:,} · spooled: {writer.spooled:,} · replayed: {writer.replayed:,}")
        if writer.rejected:
            st.warning(f"{writer.rejected:,} logs could not be stored; see rejected.jsonl in the spool folder.")
        if status.spool_pending:
            st.warning(f"{writer.waiting_in_spool:,} logs waiting in the spool.")
        if writer.last_error:
            st.caption(f"Last problem: {writer.last_error}")
    if status.queue is not None:
        show_queue(status.queue)
    show_limits(status.limits, status.limits_counted)


def show_queue(queue: QueueStatus) -> None:
    with st.container(border=True):
        st.markdown("**Task queue** (dataset runs and eval runs)")
        st.write(plain(queue.broker))
        if not queue.reachable:
            st.error(f"Not reachable: {queue.error} Runs cannot be started or resumed until it is back.")
            return
        cols = st.columns(2)
        cols[0].metric("Tasks waiting", f"{queue.depth or 0:,}")
        cols[1].metric("Workers alive", len(queue.workers))
        if queue.workers:
            st.caption("Workers: " + ", ".join(plain(name) for name in queue.workers))
        else:
            st.warning(
                "No worker answers: runs wait in the queue. Start one with `workbench worker` (`workbench serve` "
                "starts one when no broker is configured).",
                icon=":material/warning:",
            )


def show_limits(limits: list[LimitUse], counted: str) -> None:
    with st.container(border=True):
        st.markdown("**Request limits** (models and provider accounts)")
        if not limits:
            st.caption(
                "None set. Give a model `limits: {max_concurrency: 4, requests_per_minute: 60}` in the llm settings, "
                "or a provider account `WORKBENCH_LLM__PROVIDER_LIMITS`, to share it fairly between the app and the "
                "workers."
            )
            return
        st.caption(f"Counted {counted}.")
        rows = [
            {
                "limit": use.limit.key,
                "at once": use.limit.limits.max_concurrency,
                "per minute": use.limit.limits.requests_per_minute,
                "in flight now": use.in_flight,
            }
            for use in limits
        ]
        st.dataframe(rows, hide_index=True)
