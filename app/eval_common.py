"""What the Evaluation page's tabs share: which tab, runs and item are open, the run controls, and the formatting
of runs, metrics and statistics.

The open tab, the chosen runs and the opened item are UI state (session_state); every run, score and summary is in
SQL and read again on each run of the page, so a reload loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import streamlit as st

from app.ui import RUN_STATUS_ICONS, plain
from workbench.bootstrap import Container
from workbench.evaluation.metrics import METRICS
from workbench.evaluation.runs import RunView
from workbench.evaluation.stats import MetricComparison

TABS = ("Runs", "Summary", "Compare", "Trends")
TAB_KEY = "eval_tab"
SUMMARY_RUN = "eval_summary_run"
BASELINE = "eval_cmp_baseline"
CANDIDATES = "eval_cmp_candidates"
TEST = "eval_cmp_test"
ITEM = "eval_item"  # (baseline id, candidate id, item key) of the drill-down that is open
_NOTICE = "eval_notice"
DASH = "–"
ALPHA = 0.05
TESTS = {"wilcoxon": "Wilcoxon signed-rank", "sign": "Sign test"}
# Material icons, not emoji: they render the same in every browser (a headless one has no emoji font).
START_HINT = (
    "Start one on the **Eval datasets** page, or from a terminal:\n\n"
    "```\nworkbench eval run --dataset northwind-qa --config datasets/eval/configs/baseline.yaml\n```"
)


# -- navigation (button callbacks: they run before the script, so they may still set widgets) ----------------------


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


def leave_notice(text: str) -> None:
    st.session_state[_NOTICE] = text


def show_notice() -> None:
    text = st.session_state.pop(_NOTICE, None)
    if text:
        st.success(text, icon=":material/check_circle:")


# -- running runs ----------------------------------------------------------------------------------------------------


def is_live(container: Container, run: RunView) -> bool:
    """Worked on by this process, or by a runner elsewhere whose lease is current."""
    return container.eval_jobs.is_running(run.id) or run.live


def run_controls(container: Container, run: RunView, prefix: str) -> None:
    """Stop a live run; resume a stopped one or retry its failed items, in the background."""
    jobs = container.eval_jobs
    live = is_live(container, run)
    error = jobs.error(run.id)
    if error and not live:
        st.error(f"The last attempt stopped early: {error}", icon=":material/error:")
    buttons = st.container(horizontal=True)
    if live:
        if buttons.button("Stop", key=f"{prefix}_stop_{run.id}", icon=":material/stop_circle:"):
            jobs.stop(run.id)
            st.toast("Stopping after the items in progress…")
        if not jobs.is_running(run.id):
            st.caption(
                "Worked on by another process. If that process has ended, **Resume** takes the run over once its "
                "lease runs out."
            )
    if not jobs.is_running(run.id):
        if run.resumable and buttons.button(
            "Resume", key=f"{prefix}_resume_{run.id}", icon=":material/play_arrow:", type="primary"
        ):
            _start(container, run, retry_failed=False)
        retry = f"Retry {run.failed_count} failed item(s)"
        if (
            run.failed_count
            and not live
            and buttons.button(retry, key=f"{prefix}_retry_{run.id}", icon=":material/replay:")
        ):
            _start(container, run, retry_failed=True)


def _start(container: Container, run: RunView, *, retry_failed: bool) -> None:
    try:
        started = container.eval_jobs.start(run.id, retry_failed=retry_failed)
    except RuntimeError as exc:
        st.error(f"Could not start the run: {exc}", icon=":material/error:")
        return
    if not started:
        st.info("This run is already being worked on here.")
        return
    leave_notice(f"Working on {run.label} in the background.")
    st.rerun()


def live_progress(container: Container, live_ids: list[str]) -> None:
    """Progress bars of the runs being worked on, refreshed every two seconds; the page reruns when they end."""
    st.fragment(_live_body, run_every=2.0)(container, live_ids)


def _live_body(container: Container, live_ids: list[str]) -> None:
    runs = [container.eval_runs.run(run_id) for run_id in live_ids]
    still = [run for run in runs if is_live(container, run)]
    if len(still) < len(runs):
        st.rerun()  # one ended: redraw the page with its summaries
    for run in still:
        st.progress(
            run.progress,
            text=f"{RUN_STATUS_ICONS['running']} **{plain(run.label)}** · {run.done_count:,} of {run.item_count:,} "
            f"items · {run.failed_count:,} failed",
        )
    st.caption("Means and intervals are refreshed every few seconds while a run goes on.")


# -- formatting ------------------------------------------------------------------------------------------------------


def metric_label(metric: str) -> str:
    info = METRICS.get(metric)
    return info.label if info else metric


def ordered_metrics(names: set[str] | Sequence[str]) -> list[str]:
    """Metrics in the registry's order (retrieval first, then answer, then judged), unknown ones last."""
    known = [m for m in METRICS if m in names]
    return known + sorted(set(names) - set(known))


def number(value: float | None) -> float | None:
    """None for a missing or NaN value (a blank cell in a numeric column)."""
    return None if value is None or math.isnan(value) else value


def stat(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return DASH
    return f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return DASH
    return f"{value:+.{digits}f}"


def interval(low: float | None, high: float | None, digits: int = 3) -> str:
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return DASH
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def p_value(value: float) -> str:
    if math.isnan(value):
        return DASH
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def verdict(row: MetricComparison) -> str:
    """▲ / ▼ when the Holm-adjusted p-value is below ALPHA, in the direction that is better for the metric."""
    if math.isnan(row.p_adjusted) or math.isnan(row.delta.estimate):
        return DASH
    if row.p_adjusted >= ALPHA or row.delta.estimate == 0:
        return "not significant"
    better = (row.delta.estimate > 0) == row.higher_is_better
    return "▲ better" if better else "▼ worse"


def run_config(run: RunView) -> dict[str, object]:
    """The figures of a run's pinned configuration that tell runs apart."""
    config = run.config
    kb = config.get("knowledge_base")
    return {
        "model": config.get("model", ""),
        "prompt": f"{config.get('prompt', '')} v{config.get('prompt_version', '?')}",
        "KB": kb or "none",
        "top_k": config.get("top_k") if kb else None,
        "judge": config.get("judge_model") or "",
    }


def config_text(run: RunView) -> str:
    figures = run_config(run)
    where = f"{figures['KB']} k={figures['top_k']}" if run.config.get("knowledge_base") else "no retrieval"
    judge = f" · judge {figures['judge']}" if figures["judge"] else ""
    return f"{figures['model']} · {figures['prompt']} · {where}{judge}"


def named_config(run: RunView) -> str:
    """The configuration in words, unless the run's name already says it (the default name does)."""
    text = config_text(run)
    return "" if text == run.name else text


def run_choice(run: RunView) -> str:
    """A run as a selectbox shows it: name, dataset version and time tell apart runs of one configuration."""
    return f"{run.label} · {run.dataset} v{run.dataset_version} · {run.created_at:%Y-%m-%d %H:%M}"


def shorten(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
