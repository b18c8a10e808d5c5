"""What the Labelling page's buttons do. They are button callbacks: they run before the page is drawn again, so the
page shows their outcome; what to show is left in session_state (UI state: the label itself is stored at once)."""

from __future__ import annotations

import streamlit as st

from app.views.labelling import form
from workbench.labelling.annotation import AnnotationService, LabelProblems
from workbench.labelling.rubrics import Rubric
from workbench.labelling.views import Actor, ItemView, LabellingError, LabellingForbidden

QUEUE_KEY = "lab_queue"
REVISE_KEY = "lab_revise"  # the id of the finished item being revised, if any
FLASH_KEY = "lab_flash"  # what the last action did: {"queue", "text", "item"}
PROBLEMS_KEY = "lab_problems"  # {"item", "problems"} from the last refused submit


def reason_key(item_id: str) -> str:
    return f"lab_reason_{item_id}"


def submit(
    annotation: AnnotationService, actor: Actor, queue_id: str, item: ItemView, rubric: Rubric, revising: bool
) -> None:
    try:
        stored = annotation.submit(actor, item.id, form.read(item, rubric))
    except LabelProblems as exc:
        st.session_state[PROBLEMS_KEY] = {"item": item.id, "problems": exc.problems}
        return
    except (LabellingError, LabellingForbidden) as exc:
        st.session_state[FLASH_KEY] = {"queue": queue_id, "error": str(exc)}
        return
    form.forget(item.id)
    st.session_state.pop(PROBLEMS_KEY, None)
    st.session_state.pop(REVISE_KEY, None)
    text = "Your label is updated." if revising else "Label saved."
    st.session_state[FLASH_KEY] = {"queue": queue_id, "text": text, "item": stored.id}


def finish(annotation: AnnotationService, actor: Actor, queue_id: str, item_id: str, action: str) -> None:
    """Skip or flag the item with the reason typed beside the buttons."""
    reason = str(st.session_state.get(reason_key(item_id)) or "")
    try:
        if action == "flag":
            annotation.flag(actor, item_id, reason)
        else:
            annotation.skip(actor, item_id, reason)
    except (LabellingError, LabellingForbidden) as exc:
        st.session_state[FLASH_KEY] = {"queue": queue_id, "error": str(exc), "item": item_id}
        return
    form.forget(item_id)
    st.session_state.pop(PROBLEMS_KEY, None)
    st.session_state.pop(reason_key(item_id), None)
    done = "Flagged for a reviewer." if action == "flag" else "Skipped; it goes to someone else."
    st.session_state[FLASH_KEY] = {"queue": queue_id, "text": done}


def open_revision(item_id: str | None) -> None:
    if item_id is not None:
        form.forget(item_id)  # start from the stored label, not from earlier unsaved input
    st.session_state[REVISE_KEY] = item_id
    st.session_state.pop(FLASH_KEY, None)


def close_revision() -> None:
    st.session_state.pop(REVISE_KEY, None)
