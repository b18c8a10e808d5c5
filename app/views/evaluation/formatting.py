"""How the Evaluation page writes metrics, statistics and runs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from app.components.formatting import DASH
from workbench.evaluation.metrics import METRICS
from workbench.evaluation.runs import RunView
from workbench.evaluation.stats import MetricComparison

ALPHA = 0.05
TESTS = {"wilcoxon": "Wilcoxon signed-rank", "sign": "Sign test"}


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
