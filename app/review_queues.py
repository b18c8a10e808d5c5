"""The Queues tab of the Review page: every queue with its progress; the open queue's annotators, members and
status; adding items from chat answers or a playground run; a new queue."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from app import review_common as common
from app.ui import plain
from workbench.bootstrap import Container
from workbench.domain.users import Role, UserView
from workbench.labelling.queues import MAX_ANNOTATORS, MAX_ITEMS_PER_ADD
from workbench.labelling.rubrics import DEFAULT_RUBRIC
from workbench.labelling.sources import FEEDBACK_CHOICES, ChatSource, chat_items, playground_items
from workbench.labelling.views import Actor, ItemDraft, LabellingError, QueueProgress, QueueView
from workbench.services import users as user_service

FEEDBACK_NAMES = {
    "any": "any answer", "down": "thumbs down", "up": "thumbs up", "rated": "rated either way", "unrated": "not rated",
}  # fmt: skip
NEW_QUEUE_FIELDS = ("review_new_name", "review_new_members", "review_new_description", "review_new_n")
CHAT, PLAYGROUND = "Chat answers", "A playground run"


def members_to_choose(container: Container) -> list[UserView]:
    """Annotators, analysts and admins can label; viewers cannot, and inactive users are left out."""
    users = [u for u in user_service.list_users(container.uow()) if u.is_active and u.role != Role.VIEWER]
    return sorted(users, key=lambda u: u.username)


def render(container: Container, actor: Actor, queues: list[QueueView], queue: QueueView | None) -> None:
    service = container.label_queues
    progress = {q.id: service.progress(actor, q.id) for q in queues}
    users = members_to_choose(container)
    common.show_notice("queue")
    if queues:
        queues_table(queues, progress)
    else:
        st.info(
            "No queues yet. A queue holds the items to label (chat answers, playground outputs, evaluation items), "
            "the rubric they are labelled with and how many annotators label each item. Create one below.",
            icon=":material/inbox:",
        )
    if queue is not None:
        st.subheader(queue.name, divider="gray")
        queue_panel(container, actor, queue, progress[queue.id], users)
        with st.container(border=True):
            add_items(container, actor, queue)
    with st.expander("New queue", icon=":material/add:", expanded=not queues):
        new_queue_form(container, actor, users)


def queues_table(queues: list[QueueView], progress: dict[str, QueueProgress]) -> None:
    rows = [
        {
            "name": q.name,
            "rubric": f"{q.rubric.name} v{q.rubric.version}",
            "per item": q.annotators_per_item,
            "members": ", ".join(q.members),
            "items": progress[q.id].items,
            "progress": progress[q.id].share,
            "complete items": progress[q.id].complete_items,
            "adjudicated": progress[q.id].adjudicated,
            "status": q.status,
        }
        for q in queues
    ]
    st.dataframe(
        pd.DataFrame(rows), hide_index=True, key="review_queues_table",
        column_config={
            "per item": st.column_config.NumberColumn(help="Annotators each item needs"),
            "members": st.column_config.TextColumn(width="medium"),
            "progress": st.column_config.ProgressColumn(
                format="percent", min_value=0.0, max_value=1.0, help="Labels given of the places (items × per item)"
            ),
        },
    )  # fmt: skip


def queue_panel(
    container: Container, actor: Actor, queue: QueueView, progress: QueueProgress, users: list[UserView]
) -> None:
    """Progress per queue and per annotator, the members, and open/close."""
    st.caption(
        f"Rubric **{plain(queue.rubric.name)} v{queue.rubric.version}** · {queue.annotators_per_item} "
        f"annotator(s) per item · created by {plain(queue.created_by)} on {common.when(queue.created_at)} UTC"
        + (f" · {plain(queue.description)}" if queue.description else "")
    )
    if not progress.items:
        st.progress(0.0, text="No items yet: add chat answers or a playground run's outputs below.")
    else:
        st.progress(
            min(progress.share, 1.0),
            text=f"{progress.labels} of {progress.places} labels ({progress.share:.0%}) · {progress.complete_items} "
            f"of {progress.items} items complete · {progress.adjudicated} adjudicated",
        )
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**Annotators**")
        if progress.annotators:
            st.dataframe(
                pd.DataFrame([
                    {"annotator": a.username, "submitted": a.submitted, "flagged": a.flagged, "skipped": a.skipped,
                     "in progress": a.in_progress, "available": a.available}
                    for a in sorted(progress.annotators, key=lambda a: a.username)
                ]),
                hide_index=True, key="review_annotators_table",
                column_config={"available": st.column_config.NumberColumn(help="Items they could still be given")},
            )  # fmt: skip
        else:
            st.caption("Nobody labels this queue yet: choose its members.")
        held = sum(a.in_progress for a in progress.annotators)
        if held and st.button(
            f"Release items open for more than a day ({held} open now)", key="review_release_held",
            icon=":material/lock_open:", help="An annotator who opened an item and left holds its place; this gives "
            "places held for over 24 hours back to the other annotators.",
        ):  # fmt: skip
            released = container.label_queues.release_held(actor, queue.id)
            common.leave_notice("queue", f"Released {released} item(s) held for more than a day.")
            st.rerun()
    with right:
        members_editor(container, actor, queue, users)
        status_switch(container, actor, queue)


def members_editor(container: Container, actor: Actor, queue: QueueView, users: list[UserView]) -> None:
    by_id = {u.id: u for u in users}
    current = [u.id for u in users if u.username in queue.members]
    common.refill("members", (queue.id, tuple(queue.members)), {"review_members": current})
    chosen = st.multiselect(
        "Members", list(by_id), key="review_members", placeholder="annotators, analysts or admins",
        format_func=lambda uid: f"{by_id[uid].username} ({by_id[uid].role})",
        help="Removing someone keeps the labels they gave; the items they had open go back to the others.",
    )  # fmt: skip
    changed = set(chosen) != set(current)
    if st.button("Save members", key="review_members_save", icon=":material/group:", disabled=not changed):
        try:
            saved = container.label_queues.set_members(actor, queue.id, chosen)
        except LabellingError as exc:
            common.show_error(exc)
            return
        common.leave_notice("queue", f"Members of {queue.name}: {', '.join(saved.members) or 'nobody'}.")
        st.rerun()


def status_switch(container: Container, actor: Actor, queue: QueueView) -> None:
    closing = queue.status == "open"
    label, icon = ("Close queue", ":material/lock:") if closing else ("Reopen queue", ":material/lock_open:")
    if st.button(label, key="review_queue_status", icon=icon):
        container.label_queues.set_status(actor, queue.id, "closed" if closing else "open")
        common.leave_notice("queue", f"{queue.name} is {'closed' if closing else 'open'}.")
        st.rerun()
    st.caption(
        "Closed: annotators get no new items; labels already given stay."
        if closing
        else "Closed: annotators get no new items. Reopen it to continue labelling."
    )


# -- adding items -------------------------------------------------------------------------------------------------


def add_items(container: Container, actor: Actor, queue: QueueView) -> None:
    st.markdown("**Add items**")
    st.caption("An item is in a queue once: adding a chat answer or playground output again changes nothing.")
    source = st.segmented_control("Source", [CHAT, PLAYGROUND], key="review_add_source", default=CHAT)
    common.show_notice("add")
    if source is None:
        st.caption("Choose where the items come from.")
        return
    drafts = chat_drafts(container) if source == CHAT else playground_drafts(container)
    if drafts is None:
        return
    noun = "answer(s)" if source == CHAT else "output(s)"
    if st.button(
        f"Add {len(drafts):,} {noun} to {queue.name}", key="review_add_items", type="primary",
        icon=":material/playlist_add:", disabled=not drafts,
    ):  # fmt: skip
        try:
            added, already = container.label_queues.add_items(actor, queue.id, drafts)
        except LabellingError as exc:
            common.show_error(exc)
            return
        common.leave_notice("add", f"Added {added} item(s), {already} already in the queue.")
        st.rerun()


def chat_drafts(container: Container) -> list[ItemDraft] | None:
    """Chat answers matching the filters, newest first; None (with a message) when the filters are not usable."""
    first, second, third = st.columns(3)
    feedback = first.selectbox(
        "Feedback", FEEDBACK_CHOICES, key="review_add_feedback", format_func=FEEDBACK_NAMES.__getitem__
    )
    bases = [kb.name for kb in container.rag.list_knowledge_bases()]
    knowledge_base = second.selectbox(
        "Knowledge base", [None, *bases], key="review_add_kb", format_func=lambda n: "any (or none)" if n is None else n
    )
    models = [spec.id for spec in container.llm_runtime.catalog.all()]
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
    drafts = chat_items(container.uow(), source)
    if not drafts:
        st.info("No chat answer matches these filters. Widen them, or chat first.", icon=":material/search_off:")
        return drafts
    st.caption(f"**{len(drafts):,}** answer(s) match, newest first" + (" (the limit)" if len(drafts) == limit else ""))
    preview(drafts)
    return drafts


def playground_drafts(container: Container) -> list[ItemDraft] | None:
    runs = container.playground.runs()
    if not runs:
        st.info("No playground runs yet. Run variants on the Playground page first.", icon=":material/experiment:")
        return None
    by_id = {run.id: run for run in runs}
    run_id = st.selectbox(
        "Playground run", list(by_id), key="review_add_run",
        format_func=lambda rid: f"{by_id[rid].title} · {by_id[rid].kind} · {by_id[rid].status} · "
        f"{by_id[rid].counts.get('ok', 0)} answer(s) · {common.when(by_id[rid].created_at)}",
    )  # fmt: skip
    drafts = playground_items(container.uow(), run_id)
    if not drafts:
        st.info("This run has no finished answers to label.", icon=":material/hourglass_empty:")
        return drafts
    st.caption(f"**{len(drafts):,}** finished output(s): one item per row and variant")
    preview(drafts)
    return drafts


def preview(drafts: list[ItemDraft]) -> None:
    st.dataframe(
        pd.DataFrame([
            {"question": common.shorten(d.question, 120), "answer": common.shorten(d.answer, 160),
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


# -- a new queue --------------------------------------------------------------------------------------------------


def new_queue_form(container: Container, actor: Actor, users: list[UserView]) -> None:
    rubrics = container.label_queues.rubrics(actor)
    if not rubrics:
        st.info(
            "A queue labels with a rubric, and there is none yet. Write one on the Rubrics tab, or start with the "
            "default one (correct, helpfulness 1–5, main issue, a better answer, relevant passages).",
            icon=":material/checklist:",
        )
        if st.button("Save the default rubric", key="review_default_rubric", icon=":material/checklist:"):
            container.label_queues.save_rubric(actor, "default", DEFAULT_RUBRIC, "Answer quality, the starting point")
            st.rerun()
        return
    by_version = {r.version_id: r for r in rubrics}
    by_user = {u.id: u for u in users}
    with st.form("review-new-queue", border=False):
        left, middle, right = st.columns([3, 3, 1])
        name = left.text_input("Name", key="review_new_name", placeholder="e.g. support answers, week 12")
        rubric = middle.selectbox(
            "Rubric", list(by_version), key="review_new_rubric",
            format_func=lambda vid: f"{by_version[vid].name} v{by_version[vid].version}",
        )  # fmt: skip
        per_item = right.number_input("Per item", 1, MAX_ANNOTATORS, 2, key="review_new_n", help="Annotators per item")
        members = st.multiselect(
            "Members", list(by_user), key="review_new_members",
            format_func=lambda uid: f"{by_user[uid].username} ({by_user[uid].role})",
        )  # fmt: skip
        description = st.text_area("Description", key="review_new_description", height=80)
        slot = st.container()
        submitted = st.form_submit_button("Create queue", type="primary", icon=":material/add:")
    if not submitted:
        return
    try:
        queue = container.label_queues.create_queue(
            actor, name or "", rubric, int(per_item), members, (description or "").strip()
        )
    except LabellingError as exc:
        with slot:
            common.show_error(exc)
        return
    short = (
        f" Each item needs {per_item} annotators and the queue has {len(members)} member(s): add members, or items "
        "cannot be completed."
        if len(members) < per_item
        else ""
    )
    common.leave_notice("queue", f"Created queue {queue.name}. Add items to it below.{short}")
    common.goto({common.QUEUE_KEY: queue.id}, clear=NEW_QUEUE_FIELDS)
    st.rerun()
