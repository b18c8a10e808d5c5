"""Showing playground runs from SQL: a try's answers side by side, a dataset run's progress, grid and summary.

Everything here is read back from the service on each run, so a reload, another tab or another process sees
the same results. A run that is being worked on is shown in a fragment that refreshes itself every second.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app.components.formatting import format_ms
from app.components.runs import RUN_STATUS_ICONS, is_live
from workbench.playground.service import Cell, PlaygroundError, PlaygroundService, RunView
from workbench.playground.variants import Variant
from workbench.services.queued_runs import RunJobs

# Formatting ---------------------------------------------------------------------------------------------------------


def format_cost(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0:
        return "$0"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def format_tokens(cell: Cell) -> str:
    tokens_in = "–" if cell.input_tokens is None else f"{cell.input_tokens:,}"
    tokens_out = "–" if cell.output_tokens is None else f"{cell.output_tokens:,}"
    return f"{tokens_in} → {tokens_out} tokens" + (" (estimated)" if cell.tokens_estimated else "")


def cell_figures(cell: Cell) -> str:
    return (
        f":material/timer: latency {format_ms(cell.latency_ms)} · first token {format_ms(cell.ttft_ms)} · "
        f"{format_tokens(cell)} · cost {format_cost(cell.cost_usd)}"
    )


def parameters_text(variant: Variant) -> str:
    chosen = variant.parameters()
    names = {"temperature": "temperature", "max_tokens": "max tokens", "top_p": "top-p"}
    text = " · ".join(f"{names[name]} {value}" for name, value in chosen.items())
    return text + (" · own system prompt" if variant.system_prompt is not None else "")


def show_cell(cell: Cell) -> None:
    """One answer under its variant: the text, its figures, and the error when the call failed."""
    if cell.output.strip():
        st.markdown(cell.output)
    elif cell.status == "ok":
        st.caption("(the model returned no text)")
    st.caption(cell_figures(cell))
    if cell.status != "ok":
        st.error(f"{cell.status}: {cell.error or 'no details'}", icon=":material/error:")


# A try: one row, variants side by side --------------------------------------------------------------------------


def show_try(playground: PlaygroundService, jobs: RunJobs, run_id: str) -> None:
    """The stored answers of an interactive run, one column per variant."""
    try:
        view = playground.run(run_id)
    except PlaygroundError:
        return
    live = is_live(jobs, view)
    st.fragment(_try_body, run_every=1.0 if live else None)(playground, jobs, run_id, live)


def _try_body(playground: PlaygroundService, jobs: RunJobs, run_id: str, was_live: bool) -> None:
    snapshot = playground.snapshot(run_id)
    view = snapshot.run
    if was_live and not is_live(jobs, view):
        st.rerun()  # finished: show it without the refresh timer
    variants, cells = snapshot.variants, {cell.position: cell for cell in snapshot.cells}
    st.caption(
        f"{RUN_STATUS_ICONS.get(view.status, '')} {view.title} · {view.created_at:%Y-%m-%d %H:%M} UTC · {view.status}"
    )
    for position, column in enumerate(st.columns(len(variants), border=True)):
        with column, st.container(key=f"pg_result_{position}"):
            variant = variants[position]
            st.markdown(f"**{position + 1}. {variant.label}**")
            st.caption(parameters_text(variant))
            cell = cells.get(position)
            if cell is not None:
                show_cell(cell)
            elif is_live(jobs, view):
                st.info("Still answering…", icon=":material/hourglass_top:")
            else:
                st.warning("No answer was stored for this variant: the run ended before it finished.")
    if view.error:
        st.error(f"The run failed: {view.error}", icon=":material/error:")


# A dataset run: progress, controls, grid, summary ---------------------------------------------------------------


def run_panel(playground: PlaygroundService, jobs: RunJobs, run_id: str, prefix: str) -> None:
    """A run's progress and controls, its grid (rows x variants), a per-variant summary and the CSV export."""
    try:
        view = playground.run(run_id)
    except PlaygroundError as exc:
        st.warning(str(exc))
        return
    live = is_live(jobs, view)
    st.fragment(_panel_body, run_every=1.0 if live else None)(playground, jobs, run_id, prefix, live)


def _panel_body(playground: PlaygroundService, jobs: RunJobs, run_id: str, prefix: str, was_live: bool) -> None:
    snapshot = playground.snapshot(run_id)
    view = snapshot.run
    live = is_live(jobs, view)
    if was_live and not live:
        st.rerun()  # finished or stopped: redraw the page once, without the refresh timer
    ok = view.counts.get("ok", 0)
    st.markdown(
        f"**{view.title}** · {RUN_STATUS_ICONS.get(view.status, '')} {view.status} · {view.kind} · "
        f"started {view.created_at:%Y-%m-%d %H:%M} UTC"
    )
    st.progress(
        view.progress,
        text=f"{view.done_cells:,} of {view.total_cells:,} cells · {ok:,} ok · {view.failed_cells:,} failed",
    )
    error = jobs.error(run_id) or view.error
    if error and not live:
        st.error(f"The run stopped early: {error}", icon=":material/error:")
    buttons = st.container(horizontal=True)
    if live:
        if buttons.button("Stop", key=f"pg_{prefix}_stop", icon=":material/stop_circle:"):
            jobs.stop(run_id)
            st.toast("Stopping after the cells in progress…")
    else:
        if view.done_cells < view.total_cells and buttons.button(
            "Resume", key=f"pg_{prefix}_resume", icon=":material/play_arrow:", type="primary"
        ):
            _start(jobs, run_id, retry_failed=False)
        if view.failed_cells and buttons.button(
            "Retry failed cells", key=f"pg_{prefix}_retry", icon=":material/replay:"
        ):
            _start(jobs, run_id, retry_failed=True)
    variants, inputs, cells = snapshot.variants, snapshot.inputs, snapshot.cells
    buttons.download_button(
        "Export CSV", data=_exporter(playground, run_id), file_name=f"playground-{run_id[:8]}.csv", mime="text/csv",
        key=f"pg_{prefix}_export", icon=":material/download:", on_click="ignore",
    )  # fmt: skip
    st.caption(" · ".join(f"**v{n}** {variant.label} ({parameters_text(variant)})"
                          for n, variant in enumerate(variants, start=1)))  # fmt: skip
    grid, config = grid_frame(variants, inputs, cells)
    st.dataframe(grid, hide_index=True, column_config=config, key=f"pg_{prefix}_grid")
    st.markdown("**Per variant**")
    st.dataframe(summary_frame(variants, cells), hide_index=True, key=f"pg_{prefix}_summary")


def _exporter(playground: PlaygroundService, run_id: str) -> Callable[[], str]:
    # A callable: the CSV is built when someone downloads it, not on every refresh of a running run.
    return lambda: playground.export_csv(run_id)


def _start(jobs: RunJobs, run_id: str, *, retry_failed: bool) -> None:
    try:
        started = jobs.start(run_id, retry_failed=retry_failed)
    except RuntimeError as exc:
        st.error(f"Could not start the run: {exc}")
        return
    if not started:
        st.info("This run is already being worked on.")
        return
    st.rerun()  # the whole page, so the panel refreshes itself while the run goes on


def grid_frame(
    variants: list[Variant], inputs: list[dict[str, Any]], cells: list[Cell]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One line per input row: its values, then per variant the answer (or its error) and its latency."""
    by_key = {(cell.row_index, cell.position): cell for cell in cells}
    names = list(dict.fromkeys(name for values in inputs for name in values))
    records = []
    for row_index, values in enumerate(inputs):
        record: dict[str, Any] = {"#": row_index + 1, **{name: values.get(name, "") for name in names}}
        for position in range(len(variants)):
            cell = by_key.get((row_index, position))
            record[f"v{position + 1}"] = grid_text(cell)
            record[f"v{position + 1} s"] = None if cell is None or cell.latency_ms is None else cell.latency_ms / 1000
        records.append(record)
    config: dict[str, Any] = {"#": st.column_config.NumberColumn(width="small")}
    for name in names:
        config[name] = st.column_config.TextColumn(name, width="medium")
    for position, variant in enumerate(variants, start=1):
        width = "large" if len(variants) == 1 else "medium"  # every variant's latency stays in view
        config[f"v{position}"] = st.column_config.TextColumn(f"v{position}", width=width, help=variant.label)
        config[f"v{position} s"] = st.column_config.NumberColumn(f"v{position} latency", format="%.2f s", width="small")
    return pd.DataFrame(records), config


def grid_text(cell: Cell | None) -> str:
    if cell is None:
        return "…"
    if cell.status != "ok":
        return f"⚠ {cell.status}: {cell.error or 'no details'}"
    return cell.output


def summary_frame(variants: list[Variant], cells: list[Cell]) -> pd.DataFrame:
    """Per variant: cells ok/failed, median latency and time to first token, tokens and cost."""
    rows = []
    for position, variant in enumerate(variants):
        mine = [cell for cell in cells if cell.position == position]
        ok = [cell for cell in mine if cell.status == "ok"]
        costs = [cell.cost_usd for cell in mine if cell.cost_usd is not None]
        estimated = any(cell.tokens_estimated for cell in mine)
        rows.append(
            {
                "variant": f"v{position + 1}",
                "prompt · model": variant.label,
                "ok": len(ok),
                "failed": len(mine) - len(ok),
                "median latency": format_ms(_median([cell.latency_ms for cell in ok])),
                "median first token": format_ms(_median([cell.ttft_ms for cell in ok])),
                "tokens in": _total([cell.input_tokens for cell in mine], estimated),
                "tokens out": _total([cell.output_tokens for cell in mine], estimated),
                "cost": format_cost(sum(costs)) if costs else "–",
            }
        )
    return pd.DataFrame(rows)


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _total(values: list[int | None], estimated: bool) -> str:
    present = [value for value in values if value is not None]
    if not present:
        return "–"
    return ("~" if estimated else "") + f"{sum(present):,}"


# History ----------------------------------------------------------------------------------------------------------


def history_frame(runs: list[RunView]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "title": run.title,
                "kind": run.kind,
                "status": run.status,
                "progress": f"{run.done_cells:,}/{run.total_cells:,}",
                "failed": run.failed_cells,
                "variants": run.variant_count,
                "rows": run.row_count,
                "created (UTC)": run.created_at.strftime("%Y-%m-%d %H:%M"),
            }
            for run in runs
        ]
    )


def run_choice_label(run: RunView) -> str:
    return f"{run.created_at:%Y-%m-%d %H:%M} · {run.title} · {run.status} ({run.done_cells}/{run.total_cells})"
