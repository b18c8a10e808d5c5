"""Uploaded or shipped tables (CSV, JSONL) as a page previews them."""

from __future__ import annotations

import streamlit as st

from app.components.markdown import plain
from workbench.tabular import Table


def table_preview(table: Table, key: str, rows: int = 5) -> None:
    """The table's name and fingerprint, and its first rows."""
    st.caption(f"{plain(table.label)} · sha256 {table.short_sha} · first {min(rows, table.row_count)} rows:")
    st.dataframe([dict(row) for row in table.rows[:rows]], hide_index=True, key=key)
