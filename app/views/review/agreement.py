"""The Agreement tab of the Review page: per rubric field, how far annotators agree (percent, Cohen's and Fleiss'
kappa, Krippendorff's alpha at the field's level of measurement), each annotator's figures, and the items that
disagree most, each a click away from adjudication."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.components.charts import PALETTE
from app.components.formatting import DASH, share, shorten, stat
from app.components.markdown import plain
from app.views.review.state import open_in_adjudicate
from workbench.labelling.agreement import FieldAgreement
from workbench.labelling.analysis import FieldReport, QueueAgreement
from workbench.labelling.review import ReviewService
from workbench.labelling.views import Actor, QueueView

DISAGREEMENTS_SHOWN = 10


def cohen_text(agreement: FieldAgreement) -> str:
    """Cohen's kappa for two annotators; with more, the mean over the pairs that share items."""
    if agreement.cohen is not None:
        return stat(agreement.cohen)
    defined = [k for k in agreement.pairwise_cohen.values() if not math.isnan(k)]
    if not defined:
        return DASH
    return f"{float(np.mean(defined)):.3f} (mean of {len(defined)} pairs)"


def cohen_value(agreement: FieldAgreement) -> float:
    if agreement.cohen is not None:
        return agreement.cohen
    defined = [k for k in agreement.pairwise_cohen.values() if not math.isnan(k)]
    return float(np.mean(defined)) if defined else math.nan


def fields_table(report: QueueAgreement) -> pd.DataFrame:
    rows = []
    for item in report.fields:
        a = item.agreement
        fleiss = stat(a.fleiss)
        rows.append({
            "field": item.label,
            "level": a.level,
            "items (2+ labels)": a.n_items_with_two_or_more,
            "labels": a.n_labels,
            "percent agreement": share(a.percent, 1),
            "Cohen's κ": cohen_text(a),
            "Fleiss' κ": fleiss if fleiss == DASH else f"{fleiss} ({a.fleiss_items} items × {a.fleiss_raters})",
            "Krippendorff's α": stat(a.alpha),
        })  # fmt: skip
    return pd.DataFrame(rows)


def chart(report: QueueAgreement) -> go.Figure:
    """Alpha and the kappas per field; an undefined figure is left out (the table's notes say why)."""
    labels = [item.label for item in report.fields]
    figure = go.Figure()
    series = (
        ("Krippendorff's α", [item.agreement.alpha for item in report.fields]),
        ("Fleiss' κ", [item.agreement.fleiss for item in report.fields]),
        ("Cohen's κ", [cohen_value(item.agreement) for item in report.fields]),
    )
    for colour, (name, values) in zip(PALETTE, series, strict=False):
        shown = [None if math.isnan(v) else v for v in values]
        figure.add_bar(
            x=labels, y=shown, name=name, marker={"color": colour},
            text=[stat(v, 2) for v in values], textposition="outside",
        )  # fmt: skip
    lowest = min([v for _, values in series for v in values if not math.isnan(v)], default=0.0)
    figure.add_hline(y=0.8, line={"dash": "dot", "color": "#10B981"}, annotation_text="α ≥ 0.8 reliable")
    figure.add_hline(y=0.667, line={"dash": "dot", "color": "#F59E0B"}, annotation_text="0.667 tentative")
    figure.update_yaxes(range=[min(-0.1, lowest - 0.1), 1.1], zeroline=True)
    figure.update_layout(
        barmode="group", height=360, margin={"l": 10, "r": 10, "t": 70, "b": 10},
        title={"text": "Agreement per field", "font": {"size": 14}, "y": 0.98, "yanchor": "top"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
    )  # fmt: skip
    return figure


def annotators_table(field: FieldReport) -> pd.DataFrame:
    level = field.agreement.level
    rows = []
    for a in sorted(field.annotators, key=lambda a: a.annotator_id):  # annotator_id holds the username here
        row: dict[str, object] = {"annotator": a.annotator_id, "labelled": a.n_labelled, "compared": a.n_compared}
        if level != "interval":
            row["with majority"] = share(a.majority_agreement)
        if level != "nominal":
            row["mean deviation"] = stat(a.mean_deviation, 2)
            row["mean |deviation|"] = stat(a.mean_abs_deviation, 2)
        row["mean Cohen's κ"] = stat(a.mean_cohen)
        rows.append(row)
    return pd.DataFrame(rows)


def render(actor: Actor, queue: QueueView | None, *, review: ReviewService) -> None:
    if queue is None:
        st.info("Create a queue and have it labelled; its agreement shows here.", icon=":material/inbox:")
        return
    report = review.agreement(actor, queue.id)
    if not report.items:
        st.info(
            f"Nobody has labelled an item of {queue.name} yet. Agreement needs items labelled by two or more "
            "annotators: add members and items on the Queues tab.",
            icon=":material/hourglass_empty:",
        )
        return
    metrics = st.columns(3)
    metrics[0].metric("Labelled items", report.items, border=True)
    metrics[1].metric("Annotators", len(report.annotators), border=True, help=", ".join(report.annotators))
    metrics[2].metric("Fields compared", len(report.fields), border=True, help="Free-text fields are not compared")
    if not report.fields:
        st.info("This rubric has only free-text fields, which are not compared.", icon=":material/info:")
        return
    st.dataframe(
        fields_table(report), hide_index=True, key="review_agreement_table",
        column_config={
            "field": st.column_config.TextColumn(width="medium"),
            "Cohen's κ": st.column_config.TextColumn(help="Two annotators: Cohen's kappa (weighted for ordinal and "
                                                          "numeric fields); more: the mean over pairs of annotators"),
            "Krippendorff's α": st.column_config.TextColumn(help="At the field's level of measurement (see level); "
                                                                 "missing labels are allowed"),
        },
    )  # fmt: skip
    notes = [(item.label, note) for item in report.fields for note in item.agreement.notes]
    if notes:
        st.caption(
            f"{DASH} undefined so far:  \n" + "  \n".join(f"**{plain(label)}**: {plain(note)}" for label, note in notes)
        )
    figure, annotators = st.columns(2, gap="large")
    figure.plotly_chart(chart(report), key="review_agreement_chart")
    with annotators:
        st.markdown("**Per annotator**")
        labels = {item.key: item for item in report.fields}
        chosen = st.selectbox(
            "Field", list(labels), key="review_agreement_field", format_func=lambda k: labels[k].label
        )
        st.dataframe(annotators_table(labels[chosen]), hide_index=True, key="review_agreement_annotators")
        st.caption(
            "Compared: items someone else labelled too. With majority: how often their label is the others' most "
            "frequent one. Deviation: own value minus the others' mean (the sign shows a lenient or strict annotator)."
        )
    most_disagreement(review, actor, queue, report)


def most_disagreement(review: ReviewService, actor: Actor, queue: QueueView, report: QueueAgreement) -> None:
    st.subheader("Most disagreement", divider="gray")
    found = [d for d in review.disagreements(actor, queue.id, DISAGREEMENTS_SHOWN) if d.score > 0]
    if not found:
        st.caption("Every item labelled by two or more annotators has agreeing labels.")
        return
    names = {item.key: item.label for item in report.fields}
    for rank, item in enumerate(found, start=1):
        text, score, button = st.columns([7, 1, 2], vertical_alignment="center")
        by_field = " · ".join(f"{names.get(key, key)} {value:.2f}" for key, value in item.by_field.items())
        text.markdown(f"**{rank}.** {plain(shorten(item.question, 90))}  \n:gray[{by_field}]")
        score.markdown(f"**{item.score:.2f}**")
        button.button(
            "Adjudicate", key=f"review_disagreement_{item.item_id}", icon=":material/gavel:", width="stretch",
            on_click=open_in_adjudicate, args=(item.item_id,),
        )  # fmt: skip
    st.caption("Score: the mean over fields of how far apart the labels are (0 all agree, 1 as far apart as can be).")
