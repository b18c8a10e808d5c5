"""A run's per-metric summary rows: mean with a 95% bootstrap interval over the scored items, and the failures
counted apart by cause (a failed judge call is never averaged in as a zero or hidden as a NaN)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from workbench.evaluation.metrics import FailureCause, ScoreStatus
from workbench.evaluation.stats import mean_ci
from workbench.storage.sql.models import EvalSummaryRow

# One seed for every summary: the same scores always give the same interval.
SUMMARY_SEED = 0


def summarise(
    run_id: str, values: Mapping[str, Sequence[tuple[float | None, str, str | None]]]
) -> list[EvalSummaryRow]:
    """values: per metric, (value, status, cause) of every scored item."""
    rows = []
    for metric, scores in sorted(values.items()):
        ok = [value for value, status, _ in scores if status == ScoreStatus.OK and value is not None]
        causes = Counter(
            cause or FailureCause.ERROR.value for _, status, cause in scores if status == ScoreStatus.FAILED
        )
        skipped = sum(1 for _, status, _ in scores if status == ScoreStatus.SKIPPED)
        interval = mean_ci(ok, seed=SUMMARY_SEED)
        rows.append(
            EvalSummaryRow(
                run_id=run_id,
                metric=metric,
                n_ok=len(ok),
                n_failed=sum(causes.values()),
                n_skipped=skipped,
                mean=_finite(interval.estimate),
                ci_low=_finite(interval.low),
                ci_high=_finite(interval.high),
                failures=dict(causes),
            )
        )
    return rows


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
