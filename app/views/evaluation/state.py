"""Which tab, runs and item of the Evaluation page are open, and the button callbacks that open them.

The open tab, the chosen runs and the opened item are UI state (session_state); every run, score and summary is in
SQL and read again on each run of the page, so a reload loses nothing. Callbacks run before the script, so they may
still set the widgets' values.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from workbench.evaluation.runs import RunView

TABS = ("Runs", "Summary", "Compare", "Trends")
TAB_KEY = "eval_tab"
SUMMARY_RUN = "eval_summary_run"
BASELINE = "eval_cmp_baseline"
CANDIDATES = "eval_cmp_candidates"
TEST = "eval_cmp_test"
ITEM = "eval_item"  # (baseline id, candidate id, item key) of the drill-down that is open
NOTICE = "evaluation"  # where the page's notices are shown
START_HINT = (
    "Start one on the **Eval datasets** page, or from a terminal:\n\n"
    "```\nworkbench eval run --dataset northwind-qa --config datasets/eval/configs/baseline.yaml\n```"
)


def open_summary(run_id: str) -> None:
    st.session_state[TAB_KEY] = "Summary"
    st.session_state[SUMMARY_RUN] = run_id


def open_compare(runs: Sequence[RunView]) -> None:
    """The oldest run is the baseline, the others its candidates."""
    ordered = sorted(runs, key=lambda run: run.created_at)
    st.session_state[TAB_KEY] = "Compare"
    st.session_state[BASELINE] = ordered[0].id
    st.session_state[CANDIDATES] = [run.id for run in ordered[1:]]
    st.session_state.pop(ITEM, None)


def open_item(baseline_id: str, candidate_id: str, item_key: str) -> None:
    st.session_state[ITEM] = (baseline_id, candidate_id, item_key)


def close_item() -> None:
    st.session_state.pop(ITEM, None)
