"""The Traces tab of the Run log: traces newest first (an application's, sent over OTLP, and the chat's own), grouped
by session; one trace as a span tree with a timeline, what each span retrieved and prompted; and, in one click, the
trace added to an annotation queue or an eval dataset."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from app.components.formatting import format_ms, shorten, when
from app.components.markdown import plain, plain_lines
from app.views.run_log import charts
from workbench.domain.access import can_open
from workbench.domain.traces import attributes
from workbench.domain.users import UserView
from workbench.evaluation.datasets import EvalDatasetError, EvalDatasetService
from workbench.labelling.queues import QueueService
from workbench.labelling.sources import trace_item
from workbench.labelling.views import Actor, LabellingError, LabellingForbidden
from workbench.services.traces import SpanNode, TraceError, TraceService, TraceTree, eval_item_of

ALL_SESSIONS = "All sessions"
NEW_DATASET = "New dataset…"
INDENT = "│ "  # one level of the tree, in a table cell or an option (plain characters: no icon font needed)


def render(user: UserView, *, traces: TraceService, queues: QueueService, datasets: EvalDatasetService) -> None:
    sessions = traces.sessions(200)
    top = st.columns([3, 2, 3])
    labels = {s["_id"]: f"{shorten(str(s['_id']), 32)} · {s['traces']} traces · {when(s['last'])}" for s in sessions}
    session = top[0].selectbox(
        "Session", [ALL_SESSIONS, *labels], key="traces_session", format_func=lambda s: labels.get(s, s),
        help="Traces that share a session.id attribute (the chat: one conversation).",
    )  # fmt: skip
    limit = top[1].selectbox("Traces", [25, 50, 100, 200], index=1, key="traces_limit")
    typed = top[2].text_input("Open a trace by id", key="traces_open", placeholder="32 hex characters (a run id)")
    roots = traces.recent(limit, None if session == ALL_SESSIONS else session)
    if not roots and not typed.strip():
        st.info(
            "No traces yet. Every chat answer records one (retrieval and model call as spans), and applications "
            "instrumented with OpenTelemetry or OpenInference send theirs to the API's /v1/traces with an API key "
            "(Account page).",
            icon=":material/account_tree:",
        )
        return
    chosen = typed.strip() or _pick(roots)
    if chosen:
        _trace(user, chosen, traces, queues, datasets)


def _pick(roots: list[dict[str, Any]]) -> str | None:
    table = pd.DataFrame([
        {"time (UTC)": span["start"].strftime("%Y-%m-%d %H:%M:%S"), "name": span["name"],
         "service": span.get("service") or "", "session": span.get("session_id") or "",
         "status": span["status"], "duration ms": span["duration_ms"],
         "input": shorten(str(attributes(span).get("input.value") or ""), 80), "trace": span["trace_id"]}
        for span in roots
    ])  # fmt: skip
    st.caption(f"{len(roots)} traces, newest first. Pick one to see its spans.")
    selection = st.dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row", key="traces_table",
        column_config={"duration ms": st.column_config.NumberColumn(format="%.0f")},
    )  # fmt: skip
    rows = selection.selection.rows if selection else []
    return str(roots[rows[0]]["trace_id"]) if rows else None


def _trace(user: UserView, trace_id: str, traces: TraceService, queues: QueueService,
           datasets: EvalDatasetService) -> None:  # fmt: skip
    try:
        tree = traces.tree(trace_id)
    except TraceError as exc:
        st.warning(str(exc), icon=":material/search_off:")
        return
    nodes = tree.nodes
    with st.container(border=True):
        summary = tree.summary
        st.subheader(f"Trace {tree.trace_id}")
        service = plain(str(summary["service"] or "unknown service"))
        session = f" · session {plain(str(summary['session_id']))}" if summary["session_id"] else ""
        st.caption(f"{tree.span_count} spans · {format_ms(summary['duration_ms'])} · started {when(tree.start)} UTC"
                   f" · {service}{session}")  # fmt: skip
        _feedback(traces.feedback(tree.trace_id))
        left, right = st.columns([2, 3])
        left.dataframe(_span_rows(nodes), hide_index=True, key="traces_spans",
                       column_config={"ms": st.column_config.NumberColumn(format="%.0f")})  # fmt: skip
        right.plotly_chart(charts.waterfall(_timeline(tree)), key="traces_waterfall")
        picked = st.selectbox("Span", range(len(nodes)), key=f"traces_span_{tree.trace_id}",
                              format_func=lambda i: _label(nodes[i]))  # fmt: skip
        _span_detail(nodes[picked])
        _actions(user, tree, queues, datasets)


def _feedback(given: list[dict[str, Any]]) -> None:
    """What the application's users said of this trace (POST /api/v1/feedback with its trace id)."""
    if not given:
        return
    up = sum(1 for f in given if f.get("rating") == 1)
    down = sum(1 for f in given if f.get("rating") == -1)
    scores = [float(f["score"]) for f in given if f.get("score") is not None]
    parts = [f"{up} thumbs up", f"{down} thumbs down"] + ([f"mean score {sum(scores) / len(scores):.2f}"]
                                                          if scores else [])  # fmt: skip
    st.markdown(f"**Feedback** {' · '.join(parts)}")
    for comment in [f["comment"] for f in given if f.get("comment")][:5]:
        st.caption(plain_lines(shorten(str(comment), 300)))


def _label(node: SpanNode) -> str:
    return f"{INDENT * node.depth}{node.span['name']} ({node.kind.lower()})"


def _span_rows(nodes: list[SpanNode]) -> pd.DataFrame:
    return pd.DataFrame([
        {"span": f"{INDENT * node.depth}{node.span['name']}", "kind": node.kind,
         "ms": node.span["duration_ms"], "status": node.span["status"], "model": node.span.get("model") or "",
         "tokens": (node.span.get("input_tokens") or 0) + (node.span.get("output_tokens") or 0) or None}
        for node in nodes
    ])  # fmt: skip


def _timeline(tree: TraceTree) -> pd.DataFrame:
    start = tree.start
    return pd.DataFrame([
        {"span": f"{INDENT * node.depth}{node.span['name']}", "kind": node.kind, "status": node.span["status"],
         "offset_ms": (node.span["start"] - start).total_seconds() * 1000, "duration_ms": node.span["duration_ms"]}
        for node in tree.nodes
    ])  # fmt: skip


def _span_detail(node: SpanNode) -> None:
    span = node.span
    if span["status"] == "error":
        st.error(span.get("status_message") or "This span ended with an error.", icon=":material/error:")
    if node.prompt:
        st.markdown(f"**Prompt** {plain_lines(node.prompt)}")
    messages = node.input_messages
    if messages:
        st.markdown("**Messages sent**")
        for message in messages:
            with st.chat_message("assistant" if message.get("role") == "assistant" else "user"):
                st.caption(str(message.get("role") or ""))
                st.text(str(message.get("content") or ""))  # st.text: nothing in a message renders as markup
    elif node.input:
        st.markdown("**Input**")
        st.text(node.input)
    answer = node.output_messages[-1].get("content") if node.output_messages else node.output
    if answer:
        st.markdown("**Output**")
        st.text(str(answer))
    if node.documents:
        st.markdown(f"**Retrieved documents** ({len(node.documents)})")
        for number, document in enumerate(node.documents, start=1):
            score = document.get("score")
            scored = f" · score {score:.3f}" if isinstance(score, int | float) else ""
            with st.expander(f"\\[{number}\\] {plain(str(document.get('id') or ''))}{scored}", expanded=number == 1):
                st.text(str(document.get("content") or ""))
                if document.get("metadata"):
                    st.caption(shorten(str(document["metadata"]), 300))
    with st.expander("Attributes"):
        st.json(json.loads(json.dumps(node.attributes, default=str)), expanded=False)


def _actions(user: UserView, tree: TraceTree, queues: QueueService, datasets: EvalDatasetService) -> None:
    actor = Actor(user.id, user.username, user.role)
    to_queue, to_dataset = st.columns(2)
    if actor.reviews:
        open_queues = [q for q in queues.queues(actor) if q.status == "open"]
        with to_queue.container(border=True):
            st.markdown("**Add to an annotation queue**")
            if not open_queues:
                st.caption("No open queue yet: make one on the Review page.")
            else:
                names = {q.id: q.name for q in open_queues}
                queue_id = st.selectbox("Queue", list(names), format_func=names.__getitem__, key="traces_queue")
                if st.button("Add to queue", key="traces_add_queue", icon=":material/playlist_add:"):
                    try:
                        added, _ = queues.add_items(actor, queue_id, [trace_item(tree)])
                    except (LabellingError, LabellingForbidden) as exc:
                        st.error(str(exc))
                    else:
                        st.success(f"Added to {names[queue_id]}." if added else f"Already in {names[queue_id]}.")
    if can_open(user.role, "eval_datasets"):
        with to_dataset.container(border=True):
            st.markdown("**Add to an eval dataset**")
            known = [d.name for d in datasets.datasets()]
            picked = st.selectbox("Dataset", [*known, NEW_DATASET], key="traces_dataset")
            name = st.text_input("Name", key="traces_dataset_name") if picked == NEW_DATASET else picked
            st.caption("Its question, its answer as the reference to check, and its passages as reference contexts; "
                       "a new version of the dataset.")  # fmt: skip
            if st.button("Add to dataset", key="traces_add_dataset", icon=":material/dataset:"):
                try:
                    report = datasets.append_items(name or "", [eval_item_of(tree)], source="trace",
                                                   actor=user.username, note=f"from trace {tree.trace_id}")  # fmt: skip
                except (EvalDatasetError, TraceError) as exc:
                    st.error(str(exc))
                else:
                    st.success(f"{report.version.label} has it already." if report.unchanged
                               else f"Added: {report.version.label}, {report.version.item_count} items.")  # fmt: skip
