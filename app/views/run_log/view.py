"""Run log: every model, retrieval, embedding and eval call, with filters, charts and paging."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

import pandas as pd
import streamlit as st

from app.components.formatting import format_count, format_ms
from app.views.run_log import charts
from app.views.run_log import traces as traces_view
from workbench.domain.runlog import RunLog
from workbench.domain.runlog_query import PageCursor, RunLogFacets, RunLogFilter, RunLogSummary
from workbench.domain.users import UserView
from workbench.evaluation.datasets import EvalDatasetService
from workbench.labelling.queues import QueueService
from workbench.services import runlog as runlog_service
from workbench.services.directory import UserDirectory
from workbench.services.runlog import RunLogReader
from workbench.services.traces import TraceService

PRESETS = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(hours=24),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "All time": None,
    "Custom range": None,
}
CURSORS_KEY = "runlog_cursors"  # stack of keyset cursors: index i is where page i starts
FILTER_KEY = "runlog_filter_seen"


class SpoolStats(Protocol):
    @property
    def waiting_in_spool(self) -> int: ...


class SpoolingWriter(Protocol):
    """The run-log writer as this page sees it: whether logs wait in its local spool."""

    @property
    def spool_pending(self) -> bool: ...

    @property
    def stats(self) -> SpoolStats: ...


def render(
    user: UserView, *, store: RunLogReader, writer: SpoolingWriter, users: UserDirectory, traces: TraceService,
    queues: QueueService, datasets: EvalDatasetService,
) -> None:  # fmt: skip
    st.title("Run log")
    st.caption("Every model, retrieval, embedding and eval call, and the traces they belong to. Times are UTC.")
    calls_tab, traces_tab = st.tabs(["Calls", "Traces"])
    with calls_tab:
        calls(store, writer, users)
    with traces_tab:
        try:
            traces_view.render(user, traces=traces, queues=queues, datasets=datasets)
        except runlog_service.RunLogUnavailable as exc:
            st.error(str(exc), icon=":material/error:")


def calls(store: RunLogReader, writer: SpoolingWriter, users: UserDirectory) -> None:
    """Calls: filters, figures, charts and pages of logs (time filters have hour resolution)."""
    if writer.spool_pending:
        st.warning(
            f"{writer.stats.waiting_in_spool:,} recent logs are waiting in the local spool because the run-log "
            "database did not answer; they are written as soon as it is back. Nothing is lost.",
            icon=":material/cloud_off:",
        )
    try:
        facets = runlog_service.filter_options(store)
        usernames = users.usernames()
        flt = filters(facets, usernames)
        overview = runlog_service.overview(store, flt)
        if overview.summary.count == 0:
            nothing_found(facets)
            return
        figures(overview.summary)
        frame, overall = charts.series_frame(overview.series), charts.series_frame(overview.overall)
        left, middle, right = st.columns(3)
        left.plotly_chart(charts.calls(frame, overview.bucket), key="chart_calls")
        middle.plotly_chart(charts.latency(overall, overview.bucket), key="chart_latency")
        right.plotly_chart(charts.tokens(frame, overview.bucket), key="chart_tokens")
        logs_page(store, flt, overview.summary, usernames)
    except runlog_service.RunLogUnavailable as exc:
        st.error(str(exc), icon=":material/error:")


def filters(facets: RunLogFacets, usernames: dict[str, str]) -> RunLogFilter:
    """The filter row; a new filter starts again at the newest page."""
    with st.container(border=True):
        top = st.columns([2, 2, 2, 2, 2])
        preset = top[0].selectbox("Time", list(PRESETS), index=1, key="runlog_preset")
        kinds = top[1].multiselect("Kind", facets.kinds, key="runlog_kinds", placeholder="all kinds")
        models = top[2].multiselect("Model", facets.models, key="runlog_models", placeholder="all models")
        users = top[3].multiselect(
            "User", facets.user_ids, key="runlog_users", placeholder="all users",
            format_func=lambda uid: usernames.get(uid, uid[:8]),
        )  # fmt: skip
        statuses = top[4].multiselect("Status", facets.statuses, key="runlog_statuses", placeholder="any status")
        if preset == "Custom range":
            st.date_input("Dates (UTC)", key="runlog_range", value=(date.today() - timedelta(days=7), date.today()))
    start, end = time_window(preset)
    flt = RunLogFilter(
        kinds=tuple(kinds), models=tuple(models), user_ids=tuple(users), statuses=tuple(statuses), start=start, end=end
    )
    if st.session_state.get(FILTER_KEY) != flt.aligned():
        st.session_state[FILTER_KEY] = flt.aligned()
        st.session_state[CURSORS_KEY] = [None]
    return flt


def time_window(choice: str) -> tuple[datetime | None, datetime | None]:
    now = datetime.now(UTC)
    if choice == "Custom range":
        today = now.date()
        picked = st.session_state.get("runlog_range") or (today - timedelta(days=7), today)
        first, last = (picked[0], picked[-1]) if picked else (today, today)
        return _day_start(first), _day_start(last) + timedelta(days=1)
    span = PRESETS[choice]
    return (now - span if span else None), None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def nothing_found(facets: RunLogFacets) -> None:
    if not facets.kinds:
        st.info(
            "No run logs yet. Every model, retrieval, embedding and evaluation call the workbench makes is "
            "recorded here with its latency, tokens and status, as soon as it happens.",
            icon=":material/info:",
        )
    else:
        st.info(
            "No run logs match these filters. Widen the time range or clear a filter.", icon=":material/search_off:"
        )


def figures(summary: RunLogSummary) -> None:
    metrics = st.columns(6)
    metrics[0].metric("Calls", format_count(summary.count), border=True)
    metrics[1].metric("Error rate", f"{summary.error_rate:.1%}", border=True, help=f"{summary.errors:,} failed calls")
    metrics[2].metric("Latency p50", format_ms(summary.latency_p50_ms), border=True, help="estimated within ~10%")
    metrics[3].metric("Latency p95", format_ms(summary.latency_p95_ms), border=True, help="estimated within ~10%")
    metrics[4].metric("Mean time to first token", format_ms(summary.ttft_mean_ms), border=True)
    metrics[5].metric(
        "Tokens", format_count(summary.input_tokens + summary.output_tokens), border=True,
        help=f"{summary.input_tokens:,} in · {summary.output_tokens:,} out",
    )  # fmt: skip


def logs_page(store: RunLogReader, flt: RunLogFilter, summary: RunLogSummary, usernames: dict[str, str]) -> None:
    """One page of logs, newest first, with Newer/Older, a CSV of the page and the selected log's details."""
    cursors: list[PageCursor | None] = st.session_state[CURSORS_KEY]
    size_col, _, nav_col = st.columns([2, 5, 3])
    page_size = size_col.selectbox("Rows per page", [25, 50, 100, 200], index=1, key="runlog_page_size")
    page = runlog_service.browse_run_logs(store, flt, cursor=cursors[-1], limit=page_size)

    page_number = len(cursors)
    newer, older = nav_col.columns(2)
    if newer.button("← Newer", disabled=page_number == 1, width="stretch", key="runlog_newer"):
        cursors.pop()
        st.rerun()
    if older.button("Older →", disabled=page.next_cursor is None, width="stretch", key="runlog_older"):
        cursors.append(page.next_cursor)
        st.rerun()

    table = log_rows(page.items, usernames)
    st.caption(f"Page {page_number} · {len(page.items)} of {summary.count:,} matching calls, newest first")
    selection = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="runlog_table",
        column_config={
            "latency ms": st.column_config.NumberColumn(format="%.0f"),
            "TTFT ms": st.column_config.NumberColumn(format="%.0f"),
            "id": None,
        },
    )
    st.download_button(
        "Download this page (CSV)",
        table.to_csv(index=False).encode(),
        file_name=f"run-log-page-{page_number}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    rows = selection.selection.rows if selection else []
    if rows:
        chosen = page.items[rows[0]]
        with st.expander(f"Details of {chosen.kind.value} call {chosen.id}", expanded=True):
            st.json(chosen.to_document(), expanded=2)


def log_rows(items: list[RunLog], usernames: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "time (UTC)": item.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "kind": item.kind.value,
                "provider": item.provider,
                "model": item.model,
                "user": usernames.get(item.user_id or "", item.user_id or ""),
                "status": item.status.value,
                "latency ms": item.latency_ms,
                "TTFT ms": item.ttft_ms,
                "tokens in": item.input_tokens,
                "tokens out": item.output_tokens,
                "prompt": f"{item.prompt_name} v{item.prompt_version}" if item.prompt_name else "",
                "run": item.run_id or "",
                "error": item.error or "",
                "id": item.id,
            }
            for item in items
        ]
    )
