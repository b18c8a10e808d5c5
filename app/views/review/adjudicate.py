"""The Adjudicate tab of the Review page: one labelled item with every annotator's label side by side, the flags and
the majority; accept the majority, or set the final label by hand with a note. The decision records who made it."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.components.formatting import shorten, when
from app.components.markdown import plain
from app.components.notices import leave_notice, show_notice
from app.components.widget_state import refill
from app.views.review.display import label_value, show_error
from app.views.review.state import FILTER_KEY, ITEM_KEY, open_in_adjudicate
from workbench.labelling.review import ReviewItem, ReviewService
from workbench.labelling.rubrics import LabelValues, Rubric, RubricField
from workbench.labelling.views import Actor, LabellingError, QueueView

FILTERS = ("undecided", "decided", "flagged", "all")
NOTE_KEY = "review_adj_note"


def matches(item: ReviewItem, which: str) -> bool:
    return {
        "undecided": item.decision is None, "decided": item.decision is not None, "flagged": bool(item.flags),
    }.get(which, True)  # fmt: skip


def chunk_key(chunk: dict[str, Any], position: int) -> str:
    return str(chunk.get("chunk_id", position))


def labels_table(rubric: Rubric, item: ReviewItem) -> pd.DataFrame:
    """Field x annotator, then the majority and the decision; a row per passage when relevance is marked."""
    rows = []
    for field in rubric.fields:
        given = [label.values.get(field.key) for label in item.labels]
        present = [value for value in given if value not in (None, "")]
        row = {"field": field.label}
        for label, value in zip(item.labels, given, strict=True):
            row[label.annotator] = label_value(field, value)
        row["majority"] = label_value(field, item.majority.values.get(field.key))
        if item.decision is not None:
            row["decision"] = label_value(field, item.decision.values.get(field.key))
        row["agree"] = "" if len(present) < 2 else ("yes" if len({repr(v) for v in present}) == 1 else "differ")
        rows.append(row)
    if rubric.chunk_relevance:
        for n, chunk in enumerate(item.chunks, start=1):
            key = chunk_key(chunk, n)
            marks = [label.chunk_relevance.get(key) for label in item.labels]
            row = {"field": f"passage {n} relevant"}
            for label, mark in zip(item.labels, marks, strict=True):
                row[label.annotator] = label_value(None, mark)
            row["majority"] = label_value(None, item.majority.chunk_relevance.get(key))
            if item.decision is not None:
                row["decision"] = label_value(None, item.decision.chunk_relevance.get(key))
            given = [mark for mark in marks if mark is not None]
            row["agree"] = "" if len(given) < 2 else ("yes" if len(set(given)) == 1 else "differ")
            rows.append(row)
    return pd.DataFrame(rows)


def render(actor: Actor, queue: QueueView | None, *, review: ReviewService) -> None:
    if queue is None:
        st.info("Create a queue and have it labelled; its items are decided here.", icon=":material/inbox:")
        return
    items = review.items(actor, queue.id)
    show_notice("adjudicate")
    if not items:
        st.info(
            f"No item of {queue.name} has a label yet. Once annotators submit labels on the Labelling page, you "
            "see them side by side here and decide the final label.",
            icon=":material/hourglass_empty:",
        )
        return
    item = choose_item(items)
    if item is None:
        return
    show_item(queue.rubric.rubric, item)
    decide(review, actor, queue.rubric.rubric, item, items)


def choose_item(items: list[ReviewItem]) -> ReviewItem | None:
    """The filter and the item picker; by default the first labelled item without a decision."""
    counts = {which: sum(1 for item in items if matches(item, which)) for which in FILTERS}
    if st.session_state.get(FILTER_KEY) not in FILTERS:
        st.session_state[FILTER_KEY] = "undecided" if counts["undecided"] else "all"
    left, right = st.columns([1, 1], vertical_alignment="bottom")
    with left:
        which = st.segmented_control(
            "Show", FILTERS, key=FILTER_KEY, format_func=lambda w: f"{w} ({counts[w]})"
        ) or "all"  # fmt: skip
    current = st.session_state.get(ITEM_KEY)
    # The open item stays in the list after its decision, so the reviewer sees what was recorded.
    shown = [item for item in items if matches(item, which) or item.id == current]
    if not shown:
        empty = {
            "undecided": "Every labelled item is decided. Export them on the Golden datasets tab.",
            "decided": "No item is decided yet.",
            "flagged": "No annotator flagged an item of this queue.",
        }
        st.info(empty.get(which, "Nothing to show."), icon=":material/done_all:")
        return None
    position = {item.id: n for n, item in enumerate(items, start=1)}
    by_id = {item.id: item for item in shown}
    if current not in by_id:
        st.session_state[ITEM_KEY] = shown[0].id
    chosen = right.selectbox(
        "Item", list(by_id), key=ITEM_KEY,
        format_func=lambda i: f"#{position[i]} · {shorten(by_id[i].question, 80)} · {len(by_id[i].labels)} "
        f"label(s)" + (" · flagged" if by_id[i].flags else "") + (" · decided" if by_id[i].decision else ""),
    )  # fmt: skip
    return by_id[chosen]


def show_item(rubric: Rubric, item: ReviewItem) -> None:
    meta = item.metadata
    facts = [f"{key}: {meta[key]}" for key in ("model", "knowledge_base", "prompt", "rating", "run") if meta.get(key)]
    if item.history:
        with st.expander(f"Earlier turns ({len(item.history)})", icon=":material/history:"):
            for turn in item.history:
                st.markdown(f"**{plain(str(turn.get('role', '')))}**: {plain(str(turn.get('content', '')))}")
    st.markdown(f"**Question**  \n{plain(item.question) or ':gray[(none)]'}")
    with st.container(border=True):
        st.markdown(f"**Answer**  \n{plain(item.answer) or ':gray[(empty)]'}")
    if facts:
        st.caption(" · ".join(plain(str(fact)) for fact in facts))
    if item.chunks:
        with st.expander(f"Retrieved passages ({len(item.chunks)})", icon=":material/article:"):
            for n, chunk in enumerate(item.chunks, start=1):
                score = chunk.get("score")
                where = plain(str(chunk.get("source") or chunk_key(chunk, n)))
                st.markdown(f"**{n}. {where}**" + (f" · score {score:.2f}" if isinstance(score, int | float) else ""))
                st.text(str(chunk.get("text", "")))
    for who, reason in item.flags:
        st.warning(f"Flagged by **{plain(who)}**: {plain(reason) or '(no reason given)'}",
                   icon=":material/flag:")  # fmt: skip
    st.markdown("**Labels**")
    st.dataframe(labels_table(rubric, item), hide_index=True, key="review_adj_labels")
    if item.ties:
        names = ", ".join(rubric.field(key).label for key in item.ties)
        st.warning(f"The annotators are split on: {plain(names)}. Accepting the majority would pick one side "
                   "arbitrarily; decide these by hand.", icon=":material/balance:")  # fmt: skip
    st.caption(
        "Majority: the most frequent value (a tie goes to the label given first), the median of a scale (the lower "
        "of two middle values), the longest text; a passage is relevant when most who marked it said so."
    )


def decide(review: ReviewService, actor: Actor, rubric: Rubric, item: ReviewItem, items: list[ReviewItem]) -> None:
    decision = item.decision
    if decision is not None:
        method = "majority accepted" if decision.method == "majority" else "set by hand"
        note = f"  \nNote: {plain(decision.note)}" if decision.note else ""
        st.success(
            f"**Decided** by **{plain(decision.reviewer)}** on {when(decision.decided_at)} UTC ({method}).{note}",
            icon=":material/gavel:",
        )
    accept, following = st.columns([1, 1])
    if accept.button(
        "Accept majority" if decision is None else "Replace with the majority", key="review_adj_accept",
        type="primary" if decision is None else "secondary", icon=":material/how_to_vote:", width="stretch",
        disabled=bool(item.ties), help="The annotators are split; set the final label by hand." if item.ties else None,
    ):  # fmt: skip
        record(review, actor, item, None, "")
    here = next(n for n, other in enumerate(items) if other.id == item.id)
    undecided = [other for other in items[here + 1 :] + items[:here] if other.decision is None]  # after this one first
    following.button(
        "Next undecided item", key="review_adj_next", icon=":material/skip_next:", width="stretch",
        disabled=not undecided, on_click=open_in_adjudicate,
        args=(undecided[0].id if undecided else item.id, "undecided"),
    )  # fmt: skip
    manual_form(review, actor, rubric, item)


def manual_form(review: ReviewService, actor: Actor, rubric: Rubric, item: ReviewItem) -> None:
    """Every field prefilled with the decision (or the majority); change what is wrong, say why, save."""
    start = item.decision.values if item.decision else item.majority.values
    relevance = item.decision.chunk_relevance if item.decision else item.majority.chunk_relevance
    chunks = [chunk_key(chunk, n) for n, chunk in enumerate(item.chunks, start=1)] if rubric.chunk_relevance else []
    owner = (item.id, item.decision.decided_at if item.decision else None)
    values: dict[str, object] = {f"review_adj_field_{f.key}": _widget_value(f, start.get(f.key)) for f in rubric.fields}
    values.update({f"review_adj_chunk_{n}": bool(relevance.get(key)) for n, key in enumerate(chunks)})
    values[NOTE_KEY] = item.decision.note if item.decision else ""
    refill("review_adjudicate", owner, values)
    expander = st.expander("Set the final label by hand", icon=":material/edit:", expanded=item.decision is None)
    with expander, st.form("review-adjudicate", border=False):
        for field in rubric.fields:
            field_widget(field)
        for n in range(len(chunks)):
            st.checkbox(f"Passage {n + 1} is relevant", key=f"review_adj_chunk_{n}")
        note = st.text_input("Note", key=NOTE_KEY, placeholder="why this label (kept with the decision)")
        slot = st.container()
        submitted = st.form_submit_button("Save final label", type="primary", icon=":material/gavel:")
    if not submitted:
        return
    given = {f.key: st.session_state.get(f"review_adj_field_{f.key}") for f in rubric.fields}
    label = LabelValues(
        {key: value for key, value in given.items() if value not in (None, "")},
        {key: bool(st.session_state.get(f"review_adj_chunk_{n}")) for n, key in enumerate(chunks)},
    )
    with slot:
        record(review, actor, item, label, note or "", {f.key: f for f in rubric.fields})


def field_widget(field: RubricField) -> None:
    key = f"review_adj_field_{field.key}"
    label = field.label + ("" if field.required else " (optional)")
    if field.kind in ("binary", "ordinal"):
        st.radio(label, field.choices, key=key, horizontal=True, help=field.help or None,
                 format_func=lambda v: label_value(field, v))  # fmt: skip
    elif field.kind == "categorical":
        st.selectbox(label, field.options, key=key, index=None, help=field.help or None, placeholder="no value")
    elif field.kind == "numeric":
        st.number_input(label, key=key, value=None, min_value=field.minimum, max_value=field.maximum,
                        help=field.help or None)  # fmt: skip
    else:
        st.text_area(label, key=key, height=90, help=field.help or None)


def _widget_value(field: RubricField, value: Any) -> Any:
    if field.kind == "text":
        return value or ""
    if field.kind == "ordinal" and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if field.kind == "numeric" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def record(
    review: ReviewService, actor: Actor, item: ReviewItem, label: LabelValues | None, note: str,
    fields: dict[str, RubricField] | None = None,
) -> None:  # fmt: skip
    try:
        decision = review.adjudicate(actor, item.id, label, note)
    except LabellingError as exc:
        show_error(exc, fields)
        return
    how = "the majority" if decision.method == "majority" else "a label set by hand"
    leave_notice("adjudicate", f"Recorded {how} as the final label, decided by {decision.reviewer}.")
    st.rerun()
