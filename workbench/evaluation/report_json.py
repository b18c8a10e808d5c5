"""Runs, summaries and comparisons as JSON: what `workbench eval ... --json` prints and the API returns, one shape."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from workbench.evaluation.gate import EXIT_FAILED, EXIT_PASSED
from workbench.evaluation.reports import Comparison, GateVerdict, RunSummary
from workbench.evaluation.run_view import RunView
from workbench.evaluation.stats import MetricComparison


def run_ref(run: RunView) -> dict[str, Any]:
    return {"id": run.id, "name": run.name, "repeat": run.repeat, "dataset": run.dataset,
            "dataset_version": run.dataset_version, "status": run.status}  # fmt: skip


def summary_json(summary: RunSummary) -> dict[str, Any]:
    run = summary.run
    return {
        **run_ref(run), "tags": list(run.tags), "config_hash": run.config_hash, "items": run.item_count,
        "done": run.done_count, "failed": run.failed_count, "error": run.error,
        "summary": {m: {"mean": s.mean, "ci_low": s.ci_low, "ci_high": s.ci_high, "n_ok": s.n_ok,
                        "n_failed": s.n_failed, "n_skipped": s.n_skipped, "failures": s.failures}
                    for m, s in summary.metrics.items()},
    }  # fmt: skip


def comparison_json(
    comparison: Comparison, verdicts: Sequence[GateVerdict], *, test: str, alpha: float
) -> dict[str, Any]:
    failed = [v.metric for v in verdicts if v.failed]
    return {
        "baseline": run_ref(comparison.baseline), "candidate": run_ref(comparison.candidate), "test": test,
        "alpha": alpha, "unpaired_items": comparison.unpaired,
        "metrics": [metric_json(c) for c in comparison.metrics], "gate": [verdict_json(v) for v in verdicts],
        "passed": not failed, "failed_metrics": failed, "exit_code": EXIT_FAILED if failed else EXIT_PASSED,
    }  # fmt: skip


def metric_json(c: MetricComparison) -> dict[str, Any]:
    return {
        "metric": c.metric, "n": c.n, "baseline_mean": finite(c.baseline_mean),
        "candidate_mean": finite(c.candidate_mean), "delta": finite(c.delta.estimate),
        "delta_ci_low": finite(c.delta.low), "delta_ci_high": finite(c.delta.high), "wins": c.wins, "ties": c.ties,
        "losses": c.losses, "p_value": finite(c.test.p_value), "p_holm": finite(c.p_adjusted),
        "higher_is_better": c.higher_is_better,
    }  # fmt: skip


def verdict_json(v: GateVerdict) -> dict[str, Any]:
    # The gate's own comparison: its Holm family is the gated metrics, so its p may differ from "metrics".
    return {"metric": v.metric, "max_drop": v.max_drop, "failed": v.failed, "worse": v.worse, "missing": v.missing,
            **metric_json(v.comparison)}  # fmt: skip


def finite(value: float) -> float | None:
    """JSON has no NaN: an undefined figure (no pairs, a constant sample) is null."""
    return None if math.isnan(value) else value
