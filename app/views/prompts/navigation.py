"""Which prompt and version the Prompts page shows, and opening another one.

That is UI state (session_state); every version and label is in the registry (SQL). After a change the page reruns on
the version it produced: `navigate` leaves the target and a toast for the next run, because a widget's value cannot
be set once the widget has been drawn in this run.
"""

from __future__ import annotations

import streamlit as st

from app.components.widget_state import mark_filled, refill
from workbench.prompting.registry import PromptVersion

PROMPT_KEY = "prompts_name"
VERSION_KEY = "prompts_version"
VERSION_FILLED = "prompts_version"  # the prompt the version selector was last filled for
_GOTO = "prompts_goto"  # (name, version) to open on the next run
_TOAST = "prompts_toast"
_CLEARED_AFTER_SAVE = (
    "prompts_edit_message", "prompts_edit_label", "prompts_new_name", "prompts_new_message", "prompts_new_content"
)  # fmt: skip


def navigate(name: str, version: int, toast: str | None = None) -> None:
    """Open `name` at `version` on a fresh run (after a save or a label move)."""
    st.session_state[_GOTO] = (name, version)
    if toast:
        st.session_state[_TOAST] = toast
    st.rerun()


def apply_pending_navigation() -> None:
    """Call before any widget is drawn: open what `navigate` asked for, clear the submitted fields, show the toast."""
    goto = st.session_state.pop(_GOTO, None)
    if goto is not None:
        st.session_state[PROMPT_KEY], st.session_state[VERSION_KEY] = goto
        mark_filled(VERSION_FILLED, goto[0])  # so `choose_version` keeps the version asked for
        for key in _CLEARED_AFTER_SAVE:
            st.session_state.pop(key, None)
    toast = st.session_state.pop(_TOAST, None)
    if toast:
        st.toast(toast, icon=":material/check_circle:")


def open_version(number: int) -> None:
    """A button callback (it runs before the script, so it may still set the selector's value)."""
    st.session_state[VERSION_KEY] = number


def choose_version(name: str, versions: list[PromptVersion]) -> PromptVersion:
    """The version selector (newest first, the latest by default when a prompt is opened)."""
    numbers = [v.version for v in versions]
    refill(VERSION_FILLED, name, {VERSION_KEY: numbers[0]})
    if st.session_state.get(VERSION_KEY) not in numbers:
        st.session_state[VERSION_KEY] = numbers[0]
    by_number = {v.version: v for v in versions}
    number = st.selectbox(
        "Version", numbers, key=VERSION_KEY,
        format_func=lambda n: f"v{n}" + (f"  ·  {', '.join(by_number[n].labels)}" if by_number[n].labels else ""),
    )  # fmt: skip
    return by_number[number]
