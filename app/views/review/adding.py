"""Adding items to a labelling queue on the Review page: chat answers (filtered by feedback, knowledge base, model
and day) or a playground run's outputs, previewed before they are added."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from app.components.formatting import shorten, when
from app.components.notices import leave_notice, show_notice
from app.views.review.display import show_error
from workbench.labelling.queues import MAX_ITEMS_PER_ADD, QueueService
from workbench.labelling.sources import FEEDBACK_CHOICES, ChatSource
from workbench.labelling.views import Actor, ItemDraft, LabellingError, QueueView
from workbench.llm.catalog import ModelCatalog
from workbench.playground.service import PlaygroundService
from workbench.rag.engine import RagEngine

FEEDBACK_NAMES = {
    "any": "any answer", "down": "thumbs down", "up": "thumbs up", "rated": "rated either way", "unrated": "not rated",
}  # fmt: skip
CHAT, PLAYGROUND = "Chat answers", "A playground run"


def add_items(
    actor: Actor, queue: QueueView, *, label_queues: QueueService, playground: PlaygroundService, rag: RagEngine,
    catalog: ModelCatalog,
) -> None:  # fmt: skip
    st.markdown("**Add items**")
    st.caption("An item is in a queue once: adding a chat answer or playground output again changes nothing.")
    source = st.segmented_control("Source", [CHAT, PLAYGROUND], key="review_add_source", default=CHAT)
    show_notice("add")
    if source is None:
        st.caption("Choose where the items come from.")
        return
    drafts = (
        chat_drafts(actor, label_queues, rag, catalog)
        if source == CHAT
        else playground_drafts(actor, label_queues, playground)
    )
    if drafts is None:
        return
    noun = "answer(s)" if source == CHAT else "output(s)"
    if st.button(
        f"Add {len(drafts):,} {noun} to {queue.name}", key="review_add_items", type="primary",
        icon=":material/playlist_add:", disabled=not drafts,
    ):  # fmt: skip
        try:
            added, already = label_queues.add_items(actor, queue.id, drafts)
        except LabellingError as exc:
            show_error(exc)
            return
        leave_notice("add", f"Added {added} item(s), {already} already in the queue.")
        st.rerun()


def chat_drafts(
    actor: Actor, label_queues: QueueService, rag: RagEngine, catalog: ModelCatalog
) -> list[ItemDraft] | None:
    """Chat answers matching the filters, newest first; None (with a message) when the filters are not usable."""
    first, second, third = st.columns(3)
    feedback = first.selectbox(
        "Feedback", FEEDBACK_CHOICES, key="review_add_feedback", format_func=FEEDBACK_NAMES.__getitem__
    )
    bases = [kb.name for kb in rag.list_knowledge_bases()]
    knowledge_base = second.selectbox(
        "Knowledge base", [None, *bases], key="review_add_kb", format_func=lambda n: "any (or none)" if n is None else n
    )
    models = [spec.id for spec in catalog.all()]
    model = third.selectbox("Model", [None, *models], key="review_add_model", format_func=lambda m: m or "any")
    first, second, third = st.columns(3)
    since = first.date_input("Answered from (UTC)", value=None, key="review_add_since")
    until = second.date_input("Answered until (UTC)", value=None, key="review_add_until")
    limit = third.number_input("At most", 1, MAX_ITEMS_PER_ADD, 200, step=50, key="review_add_limit")
    if isinstance(since, date) and isinstance(until, date) and since > until:
        st.warning("The first day is after the last one.", icon=":material/warning:")
        return None
    source = ChatSource(
        feedback=feedback, knowledge_base=knowledge_base, model=model, since=_day(since),
        until=_day(until, next_day=True), limit=int(limit),
    )  # fmt: skip
    drafts = label_queues.chat_drafts(actor, source)
    if not drafts:
        st.info("No chat answer matches these filters. Widen them, or chat first.", icon=":material/search_off:")
        return drafts
    st.caption(f"**{len(drafts):,}** answer(s) match, newest first" + (" (the limit)" if len(drafts) == limit else ""))
    preview(drafts)
    return drafts


def playground_drafts(
    actor: Actor, label_queues: QueueService, playground: PlaygroundService
) -> list[ItemDraft] | None:
    runs = playground.runs()
    if not runs:
        st.info("No playground runs yet. Run variants on the Playground page first.", icon=":material/experiment:")
        return None
    by_id = {run.id: run for run in runs}
    run_id = st.selectbox(
        "Playground run", list(by_id), key="review_add_run",
        format_func=lambda rid: f"{by_id[rid].title} · {by_id[rid].kind} · {by_id[rid].status} · "
        f"{by_id[rid].counts.get('ok', 0)} answer(s) · {when(by_id[rid].created_at)}",
    )  # fmt: skip
    drafts = label_queues.playground_drafts(actor, run_id)
    if not drafts:
        st.info("This run has no finished answers to label.", icon=":material/hourglass_empty:")
        return drafts
    st.caption(f"**{len(drafts):,}** finished output(s): one item per row and variant")
    preview(drafts)
    return drafts


def preview(drafts: list[ItemDraft]) -> None:
    st.dataframe(
        pd.DataFrame([
            {"question": shorten(d.question, 120), "answer": shorten(d.answer, 160),
             "model": d.metadata.get("model") or "", "rating": d.metadata.get("rating")}
            for d in drafts[:5]
        ]),
        hide_index=True, key="review_add_preview",
        column_config={"rating": st.column_config.NumberColumn(help="Mean feedback (−1 down … +1 up)")},
    )  # fmt: skip


def _day(day: object, next_day: bool = False) -> datetime | None:
    if not isinstance(day, date):
        return None
    return datetime.combine(day + timedelta(days=1 if next_day else 0), time(), tzinfo=UTC)
