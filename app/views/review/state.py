"""Which tab, queue and item of the Review page are open, and the navigation between them.

That is UI state (session_state); every queue, label and decision is in SQL. After a change the page reruns so every
figure is re-read: `goto` keeps the queue, tab or item to open, because a widget's value cannot be set once the widget
has been drawn in this run.
"""

from __future__ import annotations

import streamlit as st

from workbench.labelling.views import QueueView

TABS = ("Queues", "Rubrics", "Agreement", "Adjudicate", "Golden datasets")
TAB_KEY = "review_tab"
QUEUE_KEY = "review_queue"
ITEM_KEY = "review_adj_item"
FILTER_KEY = "review_adj_filter"
_GOTO = "review_goto"  # widget key -> value to set at the start of the next run


def goto(values: dict[str, object] | None = None, clear: tuple[str, ...] = ()) -> None:
    """On the next run, set these widgets (a queue, the tab, an item) and empty those (a submitted form's fields).
    Call `st.rerun()` after."""
    pending = st.session_state.setdefault(_GOTO, {"set": {}, "clear": set()})
    pending["set"].update(values or {})
    pending["clear"].update(clear)


def apply_pending_navigation() -> None:
    """Call before any widget is drawn: do what `goto` asked for."""
    pending = st.session_state.pop(_GOTO, None)
    if pending is None:
        return
    for key in pending["clear"]:
        st.session_state.pop(key, None)
    st.session_state.update(pending["set"])


def open_in_adjudicate(item_id: str, which: str = "all") -> None:
    """A button callback (it runs before the script, so it may still set the tab, the filter and the item)."""
    st.session_state[TAB_KEY] = "Adjudicate"
    st.session_state[FILTER_KEY] = which
    st.session_state[ITEM_KEY] = item_id


def queue_title(queue: QueueView) -> str:
    return f"{queue.name}" + ("  ·  closed" if queue.status != "open" else "")


def choose_queue(queues: list[QueueView]) -> QueueView | None:
    """The queue the Queues, Agreement, Adjudicate and Golden datasets tabs work on."""
    if not queues:
        return None
    by_id = {queue.id: queue for queue in queues}
    if st.session_state.get(QUEUE_KEY) not in by_id:
        st.session_state[QUEUE_KEY] = queues[0].id
    chosen = st.selectbox(
        "Queue", list(by_id), key=QUEUE_KEY, format_func=lambda queue_id: queue_title(by_id[queue_id]),
        help="The queue the Queues, Agreement, Adjudicate and Golden datasets tabs show.",
    )  # fmt: skip
    return by_id[chosen]
