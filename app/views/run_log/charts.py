"""Plotly figures for the Run log page, built from the service's summaries (never from raw logs)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app.components.charts import PALETTE
from workbench.domain.runlog_query import RunLogBucket


def model_colours(models: list[str]) -> dict[str, str]:
    """One colour per model, stable for a given set of models, shared by every series of that model."""
    return {model: PALETTE[i % len(PALETTE)] for i, model in enumerate(sorted(models))}


def series_frame(series: list[RunLogBucket]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "start": bucket.start,
                "model": bucket.model or "(none)",
                "calls": bucket.summary.count,
                "errors": bucket.summary.errors,
                "p50_ms": bucket.summary.latency_p50_ms,
                "p95_ms": bucket.summary.latency_p95_ms,
                "input_tokens": bucket.summary.input_tokens,
                "output_tokens": bucket.summary.output_tokens,
            }
            for bucket in series
        ]
    )


def _layout(figure: go.Figure, title: str, y_title: str) -> go.Figure:
    figure.update_layout(
        barmode="stack",
        height=320,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
        title={"text": title, "font": {"size": 14}, "y": 0.98, "yanchor": "top"},
        yaxis_title=y_title,
        hovermode="x unified",
    )
    return figure


def calls(frame: pd.DataFrame, bucket: str) -> go.Figure:
    """Calls per bucket, stacked by model."""
    figure = go.Figure()
    colours = model_colours(list(frame["model"].unique()))
    for model, rows in frame.groupby("model", sort=True):
        figure.add_bar(x=rows["start"], y=rows["calls"], name=str(model), marker={"color": colours[str(model)]})
    return _layout(figure, f"Calls per {bucket}", "calls")


def latency(overall: pd.DataFrame, bucket: str) -> go.Figure:
    """p50 and p95 latency per bucket over all selected calls."""
    figure = go.Figure()
    figure.add_scatter(x=overall["start"], y=overall["p50_ms"], name="p50", mode="lines+markers")
    figure.add_scatter(x=overall["start"], y=overall["p95_ms"], name="p95", mode="lines+markers", line={"dash": "dot"})
    figure.update_yaxes(rangemode="tozero")
    return _layout(figure, f"Latency per {bucket}", "ms")


def tokens(frame: pd.DataFrame, bucket: str) -> go.Figure:
    """Input plus output tokens per bucket, stacked by model."""
    figure = go.Figure()
    colours = model_colours(list(frame["model"].unique()))
    for model, rows in frame.groupby("model", sort=True):
        total = rows["input_tokens"] + rows["output_tokens"]
        figure.add_bar(
            x=rows["start"], y=total, name=str(model), marker={"color": colours[str(model)]},
            customdata=rows[["input_tokens", "output_tokens"]],
            hovertemplate="%{y:,} tokens (%{customdata[0]:,} in, %{customdata[1]:,} out)",
        )  # fmt: skip
    return _layout(figure, f"Tokens per {bucket}", "tokens")


KIND_COLOURS = {"CHAIN": PALETTE[0], "RETRIEVER": PALETTE[1], "LLM": PALETTE[2], "EMBEDDING": PALETTE[3],
                "TOOL": PALETTE[4 % len(PALETTE)], "AGENT": PALETTE[5 % len(PALETTE)]}  # fmt: skip


def waterfall(spans: pd.DataFrame) -> go.Figure:
    """A trace's spans on one time axis (ms from its start), top to bottom in tree order, coloured by kind;
    failed spans are outlined in red."""
    figure = go.Figure()
    labels = [f"{i + 1}. {name}" for i, name in enumerate(spans["span"])]  # numbered: names may repeat
    for kind, rows in spans.assign(label=labels).groupby("kind", sort=False):
        figure.add_bar(
            y=rows["label"], x=rows["duration_ms"].clip(lower=0.5), base=rows["offset_ms"], orientation="h",
            name=str(kind), marker={"color": KIND_COLOURS.get(str(kind), PALETTE[-1]),
                                    "line": {"color": ["#d62728" if s == "error" else "rgba(0,0,0,0)"
                                                       for s in rows["status"]], "width": 2}},
            hovertemplate="%{y}: %{x:.0f} ms from %{base:.0f} ms<extra>" + str(kind) + "</extra>",
        )  # fmt: skip
    figure.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    figure.update_xaxes(title="ms from the trace's start", rangemode="tozero")
    figure.update_layout(
        height=max(160, 60 + 28 * len(spans)),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        barmode="overlay",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
    )
    return figure
