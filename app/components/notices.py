"""Messages left for the next run of a page, shown at a named place in it.

A page that changes something reruns so that every figure is read again; the message about the change would be
lost with the run that made it, so it waits in session_state (UI state, not data) until its place is drawn.
"""

from __future__ import annotations

import streamlit as st

_NOTICES = "notices"  # place -> (kind, text) shown there on the next run


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
