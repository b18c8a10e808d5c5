"""The drill-down behind a changed item: the question and its references, then each run's answer, retrieved
contexts and scores side by side."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app.components.formatting import DASH
from app.components.markdown import plain
from app.views.evaluation import formatting as fmt
from workbench.evaluation.reports import EvalReports, ItemDetail, ItemRun
from workbench.evaluation.runs import RunView


def scores_frame(detail: ItemDetail, roles: list[str]) -> pd.DataFrame:
    """Per metric: each run's score (or why it has none), and the change from the first run to the last."""
    metrics = fmt.ordered_metrics({m for run in detail.runs for m in run.scores})
    rows = []
    for metric in metrics:
        row: dict[str, object] = {"metric": fmt.metric_label(metric)}
        values = []
        for role, run in zip(roles, detail.runs, strict=True):
            row[f"{role} score"] = score_text(run, metric)
            value = run.scores.get(metric, (None, "", None, None))[0]
            values.append(value)
        first, last = values[0], values[-1]
        row["Δ"] = fmt.signed(last - first) if first is not None and last is not None else DASH
        rows.append(row)
    return pd.DataFrame(rows)


def score_text(run: ItemRun, metric: str) -> str:
    if metric not in run.scores:
        return "not scored" if run.status == "ok" else DASH
    value, status, cause, detail = run.scores[metric]
    if status == "ok" and value is not None and not math.isnan(value):
        return f"{value:.3f}"
    reason = f"{cause}: {detail}" if cause and detail else (cause or detail or "no reason given")
    return f"{status} ({reason})"


def render(reports: EvalReports, baseline: RunView, candidate: RunView, item_key: str) -> None:
    detail = reports.item([baseline.id, candidate.id], item_key)
    with st.container(border=True, key="eval_item_panel"):
        st.markdown("#### Item drill-down")
        st.markdown(f"**Question**  \n{plain(detail.question) or DASH}")
        reference = detail.reference_answer
        st.markdown(f"**Reference answer**  \n{plain(reference) if reference else ':gray[none]'}")
        if detail.reference_contexts:
            with st.expander(f"Reference contexts ({len(detail.reference_contexts)})", expanded=True):
                for n, text in enumerate(detail.reference_contexts, start=1):
                    st.markdown(f"**{n}.** {plain(text)}")
        else:
            st.caption("No reference contexts.")
        roles = ["baseline", "candidate"][: len(detail.runs)]
        for role, column, run in zip(roles, st.columns(len(detail.runs), border=True), detail.runs, strict=True):
            with column, st.container(key=f"eval_item_{role}"):
                show_run(role, run)
        if detail.runs:
            st.dataframe(scores_frame(detail, roles), hide_index=True, key="eval_item_scores")


def show_run(role: str, item: ItemRun) -> None:
    run = item.run
    about = fmt.named_config(run)
    st.markdown(f"**{role.capitalize()}: {plain(run.label)}**" + (f"  \n:gray[{plain(about)}]" if about else ""))
    if item.status == "missing":
        st.warning("This run has not answered this item.", icon=":material/hourglass_empty:")
        return
    if item.error:
        st.error(f"No answer: {item.error}", icon=":material/error:")
    st.markdown("**Answer**")
    if item.answer.strip():
        st.markdown(item.answer)
    else:
        st.caption("(empty)")
    st.markdown(f"**Retrieved contexts** ({len(item.contexts)})")
    if not item.contexts:
        st.caption("None: this run answers without retrieval." if not run.config.get("knowledge_base") else "None.")
    for n, context in enumerate(item.contexts, start=1):
        score = context.get("score")
        figures = f" · score {score:.3f}" if isinstance(score, int | float) else ""
        source = context.get("source") or "unknown source"
        with st.expander(f"{n}. {source}{figures}"):
            st.markdown(plain(str(context.get("text", ""))))
