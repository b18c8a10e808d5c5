"""Labelling: an annotator's queue, one item at a time, the rubric as a compact form, and their own labels to revise.

The item on screen always comes from the service (the assignment in progress first), so a reload shows the same
item; a label is stored the moment it is submitted. Others' labels of an item stay hidden until this annotator's
own is in (the service enforces that too).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.components.markdown import plain
from app.views.labelling import form
from app.views.labelling.actions import (
    FLASH_KEY,
    PROBLEMS_KEY,
    QUEUE_KEY,
    REVISE_KEY,
    close_revision,
    finish,
    open_revision,
    reason_key,
    submit,
)
from workbench.domain.users import UserView
from workbench.labelling.annotation import AnnotationService
from workbench.labelling.queues import QueueService
from workbench.labelling.views import Actor, ItemView, LabellingError, LabellingForbidden, QueueView

STATUS_TEXT = {"submitted": "labelled", "flagged": "flagged", "skipped": "skipped", "assigned": "in progress"}


def render(user: UserView, *, annotation: AnnotationService, label_queues: QueueService) -> None:
    actor = Actor(user.id, user.username, user.role)
    st.title("Labelling")
    queue = choose_queue(label_queues, actor)
    if queue is None:
        return
    st.caption(
        f"{plain(queue.description) + ' · ' if queue.description else ''}rubric {plain(queue.rubric.name)} "
        f"v{queue.rubric.version} · {queue.annotators_per_item} annotator(s) per item"
    )
    progress_line(label_queues, actor, queue)
    flash(annotation, actor, queue)
    revising = st.session_state.get(REVISE_KEY)
    if revising:
        revision(annotation, actor, queue, revising)
    else:
        current_item(annotation, actor, queue)
    my_labels(annotation, actor, queue)


def choose_queue(label_queues: QueueService, actor: Actor) -> QueueView | None:
    # Reviewers see every queue; they label only the ones they are members of.
    queues = [queue for queue in label_queues.queues(actor) if actor.username in queue.members]
    if not queues:
        text = (
            "You are not an annotator of any queue; add yourself to a queue's members on the Review page."
            if actor.reviews
            else "You are not in any labelling queue yet; an analyst adds you on the Review page."
        )
        st.info(text, icon=":material/label_off:")
        return None
    by_id = {queue.id: queue for queue in queues}
    chosen = st.selectbox(
        "Queue", list(by_id), key=QUEUE_KEY, on_change=close_revision,
        format_func=lambda qid: by_id[qid].name + ("" if by_id[qid].status == "open" else " (closed)"),
    )  # fmt: skip
    return by_id[chosen]


def progress_line(label_queues: QueueService, actor: Actor, queue: QueueView) -> None:
    progress = label_queues.progress(actor, queue.id)
    mine = next((line for line in progress.annotators if line.annotator_id == actor.id), None)
    if mine is not None:
        left = mine.in_progress + mine.available
        st.markdown(
            f"**You:** {mine.submitted} labelled · {mine.flagged} flagged · {mine.skipped} skipped · **{left} left**"
        )
    st.progress(
        min(1.0, progress.share),
        text=f"Queue: {progress.labels} of {progress.places} labels given ({progress.share:.0%}) · "
        f"{progress.complete_items} of {progress.items} items complete",
    )


def flash(annotation: AnnotationService, actor: Actor, queue: QueueView) -> None:
    """The outcome of the last action; after a submit, how the others labelled that item (now that mine is in)."""
    note = st.session_state.get(FLASH_KEY)
    if not note or note.get("queue") != queue.id:
        return
    if "error" in note:
        st.error(note["error"], icon=":material/error:")
        return
    st.success(note["text"], icon=":material/check_circle:")
    if note.get("item"):
        try:
            done = annotation.item(actor, note["item"])
        except (LabellingError, LabellingForbidden):
            return
        others_expander(queue, done, expanded=False)


def others_expander(queue: QueueView, item: ItemView, *, expanded: bool) -> None:
    if item.others is None:  # blind until this annotator's own label is in
        return
    title = f"How others labelled it ({len(item.others)})"
    with st.expander(title, icon=":material/groups:", expanded=expanded):
        st.caption(plain(item.question[:200]))
        if not item.others:
            st.caption("No one else has labelled this item yet.")
        st.dataframe(form.labels_table(queue.rubric.rubric, item), hide_index=True, key=f"lab_others_{item.id}")


def labelling_area(
    annotation: AnnotationService, actor: Actor, queue: QueueView, item: ItemView, *, revising: bool
) -> None:
    """The item on the left, the rubric form and its buttons on the right."""
    rubric = queue.rubric.rubric
    # A skipped item's place went to someone else: labelling it now would give it one label too many.
    locked = item.adjudicated or item.status == "skipped"
    form.prefill(item, rubric)
    problems = st.session_state.get(PROBLEMS_KEY) or {}
    problems = problems.get("problems", {}) if problems.get("item") == item.id else {}
    left, right = st.columns([3, 2], gap="large")
    with left:
        form.show_item(item)
        form.show_chunks(item, relevance=rubric.chunk_relevance, disabled=locked)
    with right, st.container(border=True, key=f"lab_form_{item.id}"):
        if rubric.instructions:
            st.caption(plain(rubric.instructions))
        form.rubric_fields(item, rubric, problems, disabled=locked)
        if locked:
            text = (
                "This item has been adjudicated; its labels can no longer change."
                if item.adjudicated
                else "You skipped this item; it went to another annotator."
            )
            st.info(text, icon=":material/lock:")
            return
        if problems:
            st.error("Some fields need a value; see the notes above.", icon=":material/error:")
        st.button(
            "Save changes" if revising else "Submit", key=f"lab_submit_{item.id}", type="primary", width="stretch",
            icon=":material/check:", shortcut="Ctrl+Enter", on_click=submit,
            args=(annotation, actor, queue.id, item, rubric, revising),
        )  # fmt: skip
        if not revising:
            skip_and_flag(annotation, actor, queue, item)
        st.caption(form.legend(rubric, form.shortcuts(rubric), can_skip=not revising))


def skip_and_flag(annotation: AnnotationService, actor: Actor, queue: QueueView, item: ItemView) -> None:
    # A form, so the reason typed just before Ctrl+Shift+S goes with the click (a text box outside a form sends
    # its value only on Enter or when it loses focus, and a keyboard shortcut does neither).
    with st.form(f"lab_actions_{item.id}", border=False, enter_to_submit=False):
        st.text_input(
            "Reason", key=reason_key(item.id), placeholder="Why skip or flag? (needed to flag)",
            label_visibility="collapsed", max_chars=2000,
        )  # fmt: skip
        with st.container(horizontal=True, gap="small"):
            st.form_submit_button(
                "Skip", key=f"lab_skip_{item.id}", icon=":material/skip_next:", shortcut="Ctrl+Shift+S",
                on_click=finish, args=(annotation, actor, queue.id, item.id, "skip"), width="stretch",
            )  # fmt: skip
            st.form_submit_button(
                "Flag", key=f"lab_flag_{item.id}", icon=":material/flag:", on_click=finish,
                args=(annotation, actor, queue.id, item.id, "flag"), width="stretch",
                help="For a reviewer: broken, unsafe or unclear items. Say why in the reason.",
            )  # fmt: skip


def current_item(annotation: AnnotationService, actor: Actor, queue: QueueView) -> None:
    try:
        item = annotation.next_item(actor, queue.id)
    except (LabellingError, LabellingForbidden) as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if item is None:
        closed = " This queue is closed." if queue.status != "open" else ""
        st.info(f"Nothing left for you in this queue.{closed} Thank you!", icon=":material/task_alt:")
        return
    labelling_area(annotation, actor, queue, item, revising=False)


def revision(annotation: AnnotationService, actor: Actor, queue: QueueView, item_id: str) -> None:
    try:
        item = annotation.item(actor, item_id)
    except (LabellingError, LabellingForbidden) as exc:
        st.error(str(exc), icon=":material/error:")
        close_revision()
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f"**Revising your label** · {STATUS_TEXT.get(item.status or '', item.status)}")
        st.button("Back to the queue", key="lab_revise_back", icon=":material/arrow_back:", on_click=close_revision)
    labelling_area(annotation, actor, queue, item, revising=True)
    others_expander(queue, item, expanded=False)


def my_labels(annotation: AnnotationService, actor: Actor, queue: QueueView) -> None:
    """The items this annotator finished in the queue, newest first; any not yet adjudicated can be revised."""
    items = annotation.my_items(actor, queue.id)
    st.subheader(f"My labels ({len(items)})", divider="gray")
    if not items:
        st.caption("Items you label, skip or flag appear here; you can revise a label until it is adjudicated.")
        return
    rubric = queue.rubric.rubric
    rows = [
        {
            "question": item.question[:120],
            "status": STATUS_TEXT.get(item.status or "", item.status),
            "my label": form.summary(rubric, item.mine),
            "adjudicated": item.adjudicated,
            "label updated (UTC)": item.mine.updated_at.strftime("%Y-%m-%d %H:%M") if item.mine else "",
        }
        for item in items
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="lab_mine_table")
    by_id = {item.id: item for item in items}
    pick, button = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Open one of my items", list(by_id), key="lab_mine_pick",
        format_func=lambda iid: f"{STATUS_TEXT.get(by_id[iid].status or '', '')} · {by_id[iid].question[:90]}",
    )  # fmt: skip
    verb = "View" if by_id[chosen].adjudicated or by_id[chosen].status == "skipped" else "Revise"
    button.button(verb, key="lab_mine_open", icon=":material/edit:", width="stretch", on_click=open_revision,
                  args=(chosen,))  # fmt: skip
