"""The System tab of the Admin page: the SQL database, the run log and this process's run-log writer."""

from __future__ import annotations

import streamlit as st

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
