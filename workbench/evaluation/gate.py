"""The CI gate's rules, shared by `workbench eval compare` and the API's `POST /api/v1/eval-runs/compare`, so a gate
reads the same from a terminal and from another machine (the JSON both print is in report_json.py).

Exit semantics (the CLI's codes; the API reports `exit_code` in the body): 0 the gate passed, 1 the candidate is
significantly worse or incomplete on a gated metric (or a run cannot be compared), 2 a malformed rule or option.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from workbench.evaluation.metrics import METRICS

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class GateRuleError(ValueError):
    """A --fail-if-worse rule (or an option of the comparison) that cannot be used; the message says why."""


def parse_rules(specs: Sequence[str]) -> dict[str, float]:
    """METRIC:DELTA rules (the largest drop allowed per metric)."""
    rules: dict[str, float] = {}
    for spec in specs:
        metric, sep, value = (part.strip() for part in spec.partition(":"))
        if not sep or not metric or not value:
            raise _bad(spec, "it is not METRIC:DELTA (for example faithfulness:0.02)")
        if metric not in METRICS:
            raise _bad(spec, f"unknown metric '{metric}'; known: {', '.join(METRICS)}")
        try:
            drop = float(value)
        except ValueError:
            raise _bad(spec, f"'{value}' is not a number") from None
        if not math.isfinite(drop) or drop < 0:
            raise _bad(spec, "DELTA is the largest drop allowed, a number >= 0")
        if metric in rules:
            raise _bad(spec, f"{metric} has a rule already")
        rules[metric] = drop
    return rules


def check_options(metrics: Sequence[str], alpha: float, alpha_name: str = "--alpha") -> None:
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise GateRuleError(f"Unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}.")
    if not 0 < alpha < 1:
        raise GateRuleError(f"{alpha_name} must lie strictly between 0 and 1; got {alpha:g}.")


def _bad(spec: str, reason: str) -> GateRuleError:
    return GateRuleError(f"--fail-if-worse '{spec}': {reason}.")
