"""What the Review page's tabs share: the open tab and queue, notices left for the next run, readable errors and
the formatting of figures and label values.

Which tab, queue and item are open is UI state (session_state); every queue, label and decision is in SQL. After a
change the page reruns so every figure is re-read: `leave_notice` keeps the message for that run, and `goto` the
queue, tab or item to open, because a widget's value cannot be set once the widget has been drawn in this run.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import streamlit as st

from workbench.labelling.annotation import LabelProblems
from workbench.labelling.rubrics import RubricError, RubricField
from workbench.labelling.views import LabellingError, LabellingForbidden, QueueView

TABS = ("Queues", "Rubrics", "Agreement", "Adjudicate", "Golden datasets")
TAB_KEY = "review_tab"
QUEUE_KEY = "review_queue"
ITEM_KEY = "review_adj_item"
FILTER_KEY = "review_adj_filter"
_GOTO = "review_goto"  # widget key -> value to set at the start of the next run
_NOTICES = "review_notices"  # place -> (kind, text) shown there on the next run
_SEEN = "review_seen"
DASH = "–"


# -- navigation and notices ---------------------------------------------------------------------------------------


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


def leave_notice(place: str, text: str, kind: str = "success") -> None:
    st.session_state.setdefault(_NOTICES, {})[place] = (kind, text)


def show_notice(place: str) -> None:
    notice = st.session_state.get(_NOTICES, {}).pop(place, None)
    if notice is None:
        return
    kind, text = notice
    if kind == "info":
        st.info(text, icon=":material/info:")
    else:
        st.success(text, icon=":material/check_circle:")


def refill(marker: str, owner: object, values: dict[str, object]) -> None:
    """Reset widgets to `values` when what they belong to (`owner`) changed since they were last filled."""
    if st.session_state.get(f"{_SEEN}:{marker}") != owner:
        st.session_state[f"{_SEEN}:{marker}"] = owner
        st.session_state.update(values)


# -- errors -------------------------------------------------------------------------------------------------------


def show_error(exc: Exception, fields: dict[str, RubricField] | None = None) -> None:
    """A labelling error as the reviewer should read it: per field for label problems."""
    if isinstance(exc, LabelProblems):
        named = fields or {}
        lines = [f"- **{named[key].label if key in named else key}**: {text}" for key, text in exc.problems.items()]
        st.error("The label does not fit the rubric:\n" + "\n".join(lines), icon=":material/error:")
    elif isinstance(exc, LabellingForbidden):
        st.error(f"Not allowed: {exc}", icon=":material/block:")
    elif isinstance(exc, LabellingError | RubricError):
        st.error(str(exc), icon=":material/error:")
    else:
        raise exc


# -- formatting ---------------------------------------------------------------------------------------------------


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def stat(value: float | None, digits: int = 3) -> str:
    """A statistic, or a dash when it is undefined (NaN) or does not apply (None)."""
    if value is None or math.isnan(value):
        return DASH
    return f"{value:.{digits}f}"


def share(value: float | None, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return DASH
    return f"{value:.{digits}%}"


def shorten(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label_value(field: RubricField | None, value: Any) -> str:
    """A label value as a reviewer reads it: yes/no, the category, the number, the text; a dash when missing."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value == int(value) and (field is None or field.kind != "numeric"):
        return str(int(value))
    return str(value)


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
