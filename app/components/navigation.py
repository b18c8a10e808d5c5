"""Links from one page to another."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

PAGES = Path(__file__).resolve().parents[2] / "pages"


def page_link(page: str, label: str, icon: str, fallback: str) -> None:
    """A link to another page of the app, or `fallback` as text when the page is not in this user's navigation."""
    try:
        st.page_link(str(PAGES / page), label=label, icon=icon)
    except StreamlitPageNotFoundError:  # not registered (this role, or the page run on its own as in tests)
        st.caption(fallback)
