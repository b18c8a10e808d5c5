"""Which tab, dataset and version of the Eval datasets page are open.

That is UI state (session_state); every dataset, version and item is in SQL.
"""

from __future__ import annotations

import streamlit as st

TABS = ("Datasets", "Import", "From labelling", "Run")
TAB_KEY = "evd_tab"
PICK_KEY = "evd_pick"  # the dataset open on the Datasets tab
VERSION_KEY = "evd_version"  # and its version


def open_dataset(name: str, version: int) -> None:
    """A button callback (it runs before the script, so it may still set the tab and the dataset shown)."""
    st.session_state[TAB_KEY] = "Datasets"
    st.session_state[PICK_KEY] = name
    st.session_state[VERSION_KEY] = version
