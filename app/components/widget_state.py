"""Widget values kept in step with what they show: reset when the thing they belong to changes."""

from __future__ import annotations

from collections.abc import Collection

import streamlit as st

_FILLED = "filled"  # + ":" + marker -> the owner the widgets were last filled for


def refill(marker: str, owner: object, values: dict[str, object]) -> None:
    """Reset widgets to `values` when what they belong to (`owner`) changed since they were last filled."""
    if st.session_state.get(f"{_FILLED}:{marker}") != owner:
        mark_filled(marker, owner)
        st.session_state.update(values)


def mark_filled(marker: str, owner: object) -> None:
    """Record the widgets under `marker` as filled for `owner` (when their values were set some other way)."""
    st.session_state[f"{_FILLED}:{marker}"] = owner


def choose(key: str, options: Collection[object], default: object) -> None:
    """Before drawing a select: reset its value to `default` when the current one is no longer offered."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
