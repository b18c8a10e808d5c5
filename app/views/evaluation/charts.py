"""Plotly figures for the Evaluation page, built from the evaluation services' results (pure: no Streamlit)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.components.charts import PALETTE
from workbench.evaluation.metrics import METRICS
from workbench.evaluation.reports import ItemDelta, MetricSummary, TrendPoint
from workbench.evaluation.stats import MetricComparison

BETTER, WORSE, NEUTRAL = "#10B981", "#EF4444", "#64748B"
TIE = "#CBD5E1"
ALPHA = 0.05


def _label(metric: str) -> str:
    info = METRICS.get(metric)
    return info.label if info else metric


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _layout(figure: go.Figure, title: str, height: int) -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        title={"text": title, "font": {"size": 14}, "y": 0.98, "yanchor": "top"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
    )
    return figure


def _rows_height(rows: int) -> int:
    return 110 + 34 * max(rows, 1)


def summary_means(summaries: Sequence[MetricSummary]) -> go.Figure:
    """Each metric's mean over the scored items with its 95% bootstrap interval (one horizontal error bar each)."""
    rows = [s for s in summaries if _finite(s.mean) is not None]
    labels = [_label(s.metric) for s in rows]
    means = [float(s.mean or 0.0) for s in rows]
    plus = [max(0.0, (_finite(s.ci_high) or m) - m) for s, m in zip(rows, means, strict=True)]
    minus = [max(0.0, m - (_finite(s.ci_low) or m)) for s, m in zip(rows, means, strict=True)]
    figure = go.Figure(
        go.Scatter(
            x=means, y=labels, mode="markers", marker={"size": 10, "color": PALETTE[0]},
            error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "thickness": 2},
            customdata=[[s.n_ok, s.ci_low, s.ci_high] for s in rows],
            hovertemplate="%{y}: %{x:.3f} (95% CI %{customdata[1]:.3f} to %{customdata[2]:.3f}, "
            "n=%{customdata[0]})<extra></extra>",
        )
    )  # fmt: skip
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title="mean with 95% bootstrap CI", zeroline=True)
    return _layout(figure, "Mean per metric", _rows_height(len(rows)))


def _significance_colour(row: MetricComparison) -> str:
    if math.isnan(row.p_adjusted) or row.p_adjusted >= ALPHA or row.delta.estimate == 0:
        return NEUTRAL
    better = (row.delta.estimate > 0) == row.higher_is_better
    return BETTER if better else WORSE


def _bound(value: float, estimate: float) -> float:
    """An interval bound, or the estimate itself when the bound is undefined (NaN)."""
    finite = _finite(value)
    return estimate if finite is None else finite


def forest(rows: Sequence[MetricComparison]) -> go.Figure:
    """Δ (candidate - baseline) per metric with its paired 95% bootstrap CI; coloured when Holm-adjusted p < 0.05."""
    shown = [r for r in rows if _finite(r.delta.estimate) is not None]
    estimates = [r.delta.estimate for r in shown]
    # `is None`, not `or`: a bound of exactly 0.0 is the borderline case the chart must show.
    plus = [max(0.0, _bound(r.delta.high, e) - e) for r, e in zip(shown, estimates, strict=True)]
    minus = [max(0.0, e - _bound(r.delta.low, e)) for r, e in zip(shown, estimates, strict=True)]
    figure = go.Figure(
        go.Scatter(
            x=estimates, y=[_label(r.metric) for r in shown], mode="markers",
            marker={"size": 11, "symbol": "diamond", "color": [_significance_colour(r) for r in shown]},
            error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "thickness": 2,
                     "color": NEUTRAL},
            customdata=[[r.delta.low, r.delta.high, r.p_adjusted, r.n] for r in shown],
            hovertemplate="%{y}: Δ %{x:+.3f} (95% CI %{customdata[0]:+.3f} to %{customdata[1]:+.3f}), "
            "Holm p %{customdata[2]:.3g}, n=%{customdata[3]}<extra></extra>",
        )
    )  # fmt: skip
    figure.add_vline(x=0, line={"dash": "dot", "color": NEUTRAL})
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title="Δ candidate − baseline", zeroline=False)
    return _layout(figure, "Difference per metric (95% paired bootstrap CI)", _rows_height(len(shown)))


def win_tie_loss(rows: Sequence[MetricComparison]) -> go.Figure:
    """Per metric, the paired items where the candidate is better, equal or worse."""
    labels = [_label(r.metric) for r in rows]
    figure = go.Figure()
    for name, values, colour in (
        ("wins", [r.wins for r in rows], BETTER),
        ("ties", [r.ties for r in rows], TIE),
        ("losses", [r.losses for r in rows], WORSE),
    ):
        figure.add_bar(
            y=labels, x=values, name=name, orientation="h", marker={"color": colour},
            text=[v or "" for v in values], textposition="inside",
            hovertemplate=f"%{{y}}: %{{x}} {name}<extra></extra>",
        )  # fmt: skip
    figure.update_layout(barmode="stack", legend_traceorder="normal")
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title="paired items")
    return _layout(figure, "Candidate wins, ties and losses per item", _rows_height(len(rows)))


def delta_distribution(deltas: Sequence[ItemDelta], metric: str) -> go.Figure:
    """The per-item differences of one metric: a histogram above, every item as a point below (hover: question)."""
    values = [d.delta for d in deltas]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    spread = (max(values) - min(values)) if values else 0.0
    # Bins of a twentieth of the spread (at least 0.02): one value repeated is one narrow bar, not the whole axis.
    figure.add_trace(
        go.Histogram(x=values, xbins={"size": max(spread / 20, 0.02)}, marker={"color": PALETTE[1]},
                     name="items", hovertemplate="Δ %{x}: %{y} items<extra></extra>"),
        row=1, col=1,
    )  # fmt: skip
    colours = [BETTER if v > 0 else WORSE if v < 0 else NEUTRAL for v in values]
    if not METRICS.get(metric, METRICS["exact_match"]).higher_is_better:
        colours = [BETTER if v < 0 else WORSE if v > 0 else NEUTRAL for v in values]
    # A fixed jitter (no randomness): the same comparison always draws the same picture.
    jitter = [((i * 7919) % 100) / 100 - 0.5 for i in range(len(values))]
    figure.add_trace(
        go.Scatter(
            x=values, y=jitter, mode="markers", marker={"size": 7, "color": colours, "opacity": 0.75},
            customdata=[[d.question[:120], d.baseline, d.candidate] for d in deltas], name="per item",
            hovertemplate="%{customdata[0]}<br>%{customdata[1]:.3f} → %{customdata[2]:.3f} (Δ %{x:+.3f})"
            "<extra></extra>",
        ),
        row=2, col=1,
    )  # fmt: skip
    if values:
        mean = sum(values) / len(values)
        figure.add_vline(x=0, line={"dash": "dot", "color": NEUTRAL})
        figure.add_vline(
            x=mean, line={"color": PALETTE[0]}, annotation_text=f"mean {mean:+.3f}", annotation_position="top left",
            row=1, col=1,
        )  # fmt: skip
    figure.update_yaxes(visible=False, row=2, col=1)
    figure.update_yaxes(title="items", row=1, col=1)
    figure.update_xaxes(title=f"Δ {_label(metric)} (candidate − baseline)", row=2, col=1)
    figure.update_layout(showlegend=False, bargap=0.05)
    return _layout(figure, f"Per-item differences in {_label(metric)}", 340)


def trend(points: Sequence[TrendPoint], metric: str) -> go.Figure:
    """A metric's mean over the dataset's runs by time, with the 95% interval as a band; hover names the run."""
    shown = [p for p in points if _finite(p.mean) is not None]
    times = [p.run.created_at for p in shown]
    means = [float(p.mean or 0.0) for p in shown]
    lows = [_finite(p.ci_low) if _finite(p.ci_low) is not None else m for p, m in zip(shown, means, strict=True)]
    highs = [_finite(p.ci_high) if _finite(p.ci_high) is not None else m for p, m in zip(shown, means, strict=True)]
    figure = go.Figure()
    figure.add_scatter(x=times, y=highs, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False)
    figure.add_scatter(
        x=times, y=lows, mode="lines", line={"width": 0}, fill="tonexty", fillcolor="rgba(79, 70, 229, 0.15)",
        hoverinfo="skip", name="95% CI",
    )  # fmt: skip
    figure.add_scatter(
        x=times, y=means, mode="lines+markers", name="mean", line={"color": PALETTE[0]}, marker={"size": 8},
        customdata=[[p.run.label, _config(p), p.run.dataset_version, p.n_ok, lo, hi]
                    for p, lo, hi in zip(shown, lows, highs, strict=True)],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>dataset v%{customdata[2]} · n=%{customdata[3]}"
        "<br>mean %{y:.3f} (95% CI %{customdata[4]:.3f} to %{customdata[5]:.3f})<extra></extra>",
    )  # fmt: skip
    figure.update_yaxes(title=_label(metric))
    figure.update_xaxes(title="run created (UTC)")
    return _layout(figure, f"{_label(metric)} over runs", 380)


def _config(point: TrendPoint) -> str:
    config = point.run.config
    kb = config.get("knowledge_base")
    where = f"{kb} k={config.get('top_k')}" if kb else "no retrieval"
    return f"{config.get('model', '')} · {config.get('prompt', '')} v{config.get('prompt_version', '?')} · {where}"
