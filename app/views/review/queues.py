"""The Queues tab of the Review page: every queue with its progress; the open queue's annotators, members and
status; adding items (app/views/review/adding.py); a new queue."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.components.formatting import when
from app.components.markdown import plain
from app.components.notices import leave_notice, show_notice
from app.components.widget_state import refill
from app.views.review.adding import add_items
from app.views.review.display import show_error
from app.views.review.state import QUEUE_KEY, goto
from workbench.domain.users import UserView
from workbench.labelling.queues import MAX_ANNOTATORS, QueueService
from workbench.labelling.rubrics import DEFAULT_RUBRIC
from workbench.labelling.views import Actor, LabellingError, QueueProgress, QueueView
from workbench.llm.catalog import ModelCatalog
from workbench.playground.service import PlaygroundService
from workbench.rag.engine import RagEngine
from workbench.services.directory import UserDirectory

NEW_QUEUE_FIELDS = ("review_new_name", "review_new_members", "review_new_description", "review_new_n")


def members_to_choose(users: UserDirectory) -> list[UserView]:
    """Annotators, analysts and admins can label; viewers cannot, and inactive users are left out."""
    return sorted(users.members_to_choose(), key=lambda u: u.username)


def render(
    actor: Actor, queues: list[QueueView], queue: QueueView | None, *, label_queues: QueueService,
    users: UserDirectory, playground: PlaygroundService, rag: RagEngine, catalog: ModelCatalog,
) -> None:  # fmt: skip
    progress = {q.id: label_queues.progress(actor, q.id) for q in queues}
    people = members_to_choose(users)
    show_notice("queue")
    if queues:
        queues_table(queues, progress)
    else:
        st.info(
            "No queues yet. A queue holds the items to label (chat answers, playground outputs, evaluation items), "
            "the rubric they are labelled with and how many annotators label each item. Create one below.",
            icon=":material/inbox:",
        )
    if queue is not None:
        st.subheader(plain(queue.name), divider="gray")  # a name is any text: shown as text, not Markdown
        queue_panel(label_queues, actor, queue, progress[queue.id], people)
        with st.container(border=True):
            add_items(actor, queue, label_queues=label_queues, playground=playground, rag=rag, catalog=catalog)
    with st.expander("New queue", icon=":material/add:", expanded=not queues):
        new_queue_form(label_queues, actor, people)


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
    label_queues: QueueService, actor: Actor, queue: QueueView, progress: QueueProgress, users: list[UserView]
) -> None:
    """Progress per queue and per annotator, the members, and open/close."""
    st.caption(
        f"Rubric **{plain(queue.rubric.name)} v{queue.rubric.version}** · {queue.annotators_per_item} "
        f"annotator(s) per item · created by {plain(queue.created_by)} on {when(queue.created_at)} UTC"
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
            released = label_queues.release_held(actor, queue.id)
            leave_notice("queue", f"Released {released} item(s) held for more than a day.")
            st.rerun()
    with right:
        members_editor(label_queues, actor, queue, users)
        status_switch(label_queues, actor, queue)


def members_editor(label_queues: QueueService, actor: Actor, queue: QueueView, users: list[UserView]) -> None:
    by_id = {u.id: u for u in users}
    current = [u.id for u in users if u.username in queue.members]
    refill("review_members", (queue.id, tuple(queue.members)), {"review_members": current})
    chosen = st.multiselect(
        "Members", list(by_id), key="review_members", placeholder="annotators, analysts or admins",
        format_func=lambda uid: f"{by_id[uid].username} ({by_id[uid].role})",
        help="Removing someone keeps the labels they gave; the items they had open go back to the others.",
    )  # fmt: skip
    changed = set(chosen) != set(current)
    if st.button("Save members", key="review_members_save", icon=":material/group:", disabled=not changed):
        try:
            saved = label_queues.set_members(actor, queue.id, chosen)
        except LabellingError as exc:
            show_error(exc)
            return
        leave_notice("queue", f"Members of {queue.name}: {', '.join(saved.members) or 'nobody'}.")
        st.rerun()


def status_switch(label_queues: QueueService, actor: Actor, queue: QueueView) -> None:
    closing = queue.status == "open"
    label, icon = ("Close queue", ":material/lock:") if closing else ("Reopen queue", ":material/lock_open:")
    if st.button(label, key="review_queue_status", icon=icon):
        label_queues.set_status(actor, queue.id, "closed" if closing else "open")
        leave_notice("queue", f"{queue.name} is {'closed' if closing else 'open'}.")
        st.rerun()
    st.caption(
        "Closed: annotators get no new items; labels already given stay."
        if closing
        else "Closed: annotators get no new items. Reopen it to continue labelling."
    )


# -- a new queue --------------------------------------------------------------------------------------------------


def new_queue_form(label_queues: QueueService, actor: Actor, users: list[UserView]) -> None:
    rubrics = label_queues.rubrics(actor)
    if not rubrics:
        st.info(
            "A queue labels with a rubric, and there is none yet. Write one on the Rubrics tab, or start with the "
            "default one (correct, helpfulness 1–5, main issue, a better answer, relevant passages).",
            icon=":material/checklist:",
        )
        if st.button("Save the default rubric", key="review_default_rubric", icon=":material/checklist:"):
            label_queues.save_rubric(actor, "default", DEFAULT_RUBRIC, "Answer quality, the starting point")
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
        queue = label_queues.create_queue(
            actor, name or "", rubric, int(per_item), members, (description or "").strip()
        )
    except LabellingError as exc:
        with slot:
            show_error(exc)
        return
    short = (
        f" Each item needs {per_item} annotators and the queue has {len(members)} member(s): add members, or items "
        "cannot be completed."
        if len(members) < per_item
        else ""
    )
    leave_notice("queue", f"Created queue {queue.name}. Add items to it below.{short}")
    goto({QUEUE_KEY: queue.id}, clear=NEW_QUEUE_FIELDS)
    st.rerun()
