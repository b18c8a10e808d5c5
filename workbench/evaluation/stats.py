"""Statistics behind run summaries and run comparisons: bootstrap intervals, paired tests and the Holm correction.

Scores come as one value per item, NaN where the metric failed on that item (failures are counted elsewhere, so they
are dropped here). Two runs are compared item by item: the caller aligns both runs on item id, so position i of the
baseline and of the candidate is the same item, and a pair is used only when both values are present.
Everything reproduces a reference implementation exactly on the same data and seed: the bootstrap intervals equal
`scipy.stats.bootstrap(..., np.mean, method="percentile")`, the tests equal `scipy.stats.wilcoxon` and
`scipy.stats.binomtest`, the Holm correction equals statsmodels' `multipletests(method="holm")`; the tests check it.
Numpy and scipy only, no I/O. Undefined results are NaN with the reason said, never an exception or a warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
Values: TypeAlias = Sequence[float] | npt.NDArray[Any]
TestName = Literal["wilcoxon", "sign"]

# scipy's default is 9,999 resamples. Drawing and averaging them costs ~65 ms per metric of 1,000 items here (2 cores):
# about 260 ms to compare 7 metrics and 480 ms for their 7 intervals, over the 200 ms a dashboard can spend. With 2,000
# it is ~30 ms and ~75 ms, and the Monte Carlo error of a 95% percentile interval's ends stays small next to the
# interval's width (Efron & Tibshirani suggest 1,000-2,000 for percentile intervals). Pass n_resamples=9999 for scipy's.
DEFAULT_RESAMPLES = 2000

# Why an interval is NaN or collapses onto its estimate: (no data, one value, all values equal).
VALUE_REASONS = ("no values", "fewer than 2 values", "all values equal")
PAIR_REASONS = ("no pairs", "fewer than 2 pairs", "all differences equal")


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean with its bootstrap interval; `reason` says why low/high are NaN or collapse onto the estimate."""

    estimate: float  # the mean (NaN when there are no values)
    low: float
    high: float
    n: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TestResult:
    """A paired test of candidate against baseline; `reason` says why the p-value is NaN or set by convention."""

    __test__ = False  # a result record, not a pytest test class, whatever its name

    test: str  # "wilcoxon" or "sign"
    statistic: float
    p_value: float
    n: int  # pairs used (both values present), zero differences included
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class MetricComparison:
    """One metric compared between two runs over the items both runs scored."""

    metric: str
    n: int  # paired items with both values
    baseline_mean: float
    candidate_mean: float
    delta: Interval  # mean of candidate - baseline, with its paired bootstrap interval
    wins: int  # items where the candidate is better by more than the tolerance
    ties: int
    losses: int
    test: TestResult
    p_adjusted: float  # Holm-adjusted across the metrics compared together (== test.p_value for one metric)
    higher_is_better: bool = True


def mean_ci(
    values: Values, *, confidence: float = 0.95, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> Interval:
    """The mean of the non-NaN values with its percentile bootstrap interval (as scipy.stats.bootstrap computes it)."""
    _check_bootstrap(confidence, n_resamples)
    x = _as_values(values, "values")
    return _mean_interval(x[~np.isnan(x)], VALUE_REASONS, confidence, n_resamples, seed, {})


def paired_delta_ci(
    baseline: Values,
    candidate: Values,
    *,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """Mean of candidate - baseline over the complete pairs, with its percentile bootstrap interval."""
    _check_bootstrap(confidence, n_resamples)
    return _mean_interval(_differences(baseline, candidate), PAIR_REASONS, confidence, n_resamples, seed, {})


def wilcoxon_test(baseline: Values, candidate: Values) -> TestResult:
    """Wilcoxon signed-rank test (two-sided, zero differences dropped) of candidate - baseline over complete pairs."""
    return _wilcoxon(_differences(baseline, candidate))


def sign_test(baseline: Values, candidate: Values) -> TestResult:
    """Two-sided sign test: is the candidate better on more items than chance? The statistic counts its wins."""
    return _sign(_differences(baseline, candidate))


def win_tie_loss(
    baseline: Values, candidate: Values, *, tolerance: float = 1e-9, higher_is_better: bool = True
) -> tuple[int, int, int]:
    """Complete pairs where the candidate is better, within `tolerance` of the baseline, or worse."""
    _check_tolerance(tolerance)
    return _win_tie_loss(_differences(baseline, candidate), tolerance, higher_is_better)


def holm(p_values: Values) -> list[float]:
    """Holm-Bonferroni adjusted p-values in input order; NaN stays NaN and does not count in the family size."""
    p = _as_values(p_values, "p-values")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("p-values must lie between 0 and 1 (NaN for an undefined p-value)")
    present = ~np.isnan(p)
    family = p[present]
    order = np.argsort(family)
    # The same arithmetic as statsmodels: p_(i) * (m - i + 1), made monotone, capped at 1.
    adjusted_sorted = np.maximum.accumulate(family[order] * np.arange(family.size, 0, -1))
    adjusted_sorted[adjusted_sorted > 1] = 1
    adjusted = np.full(p.shape, math.nan)
    adjusted[np.flatnonzero(present)[order]] = adjusted_sorted
    return [float(v) for v in adjusted]


def compare_metrics(
    baseline: Mapping[str, Values],
    candidate: Mapping[str, Values],
    *,
    test: TestName = "wilcoxon",
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    tolerance: float = 1e-9,
    lower_is_better: Collection[str] = (),
) -> list[MetricComparison]:
    """Compare each metric both runs have (in the baseline's order), Holm-correcting the tests across them.

    Deltas are always candidate - baseline; for the metrics named in `lower_is_better` (latency, cost) a decrease
    counts as a win and `significantly_worse` looks for an increase.
    """
    if test not in _TESTS:
        raise ValueError(f"test must be one of {sorted(_TESTS)}; got {test!r}")
    _check_bootstrap(confidence, n_resamples)
    _check_tolerance(tolerance)
    # The resample indices depend only on (seed, n, n_resamples): metrics with the same number of pairs share one draw,
    # which is the costly part, and each still gets exactly what its own scipy.stats.bootstrap call would give.
    indices: dict[int, IntArray] = {}
    rows = []
    for metric in (name for name in baseline if name in candidate):
        b, c = _pairs(baseline[metric], candidate[metric], f"metric {metric!r}: ")
        d = c - b
        higher_is_better = metric not in lower_is_better
        wins, ties, losses = _win_tie_loss(d, tolerance, higher_is_better)
        result = _TESTS[test](d)
        rows.append(
            MetricComparison(
                metric=metric,
                n=d.size,
                baseline_mean=_mean(b),
                candidate_mean=_mean(c),
                delta=_mean_interval(d, PAIR_REASONS, confidence, n_resamples, seed, indices),
                wins=wins,
                ties=ties,
                losses=losses,
                test=result,
                p_adjusted=result.p_value,  # until the Holm correction below
                higher_is_better=higher_is_better,
            )
        )
    adjusted = holm([row.test.p_value for row in rows])
    return [replace(row, p_adjusted=p) for row, p in zip(rows, adjusted, strict=True)]


def significantly_worse(comparison: MetricComparison, max_drop: float, alpha: float = 0.05) -> bool:
    """True when the candidate is worse by more than `max_drop`, significantly: the rule of a CI quality gate.

    For a higher-is-better metric all three must hold: the mean delta is below -max_drop, the Holm-adjusted p-value is
    below alpha, and the whole delta interval lies below zero (delta.high < 0). For a lower-is-better metric the signs
    flip (delta above +max_drop, delta.low > 0). Anything NaN (no pairs, an undefined test) never counts as worse.
    """
    if not max_drop >= 0:
        raise ValueError(f"max_drop is a non-negative size of drop in the metric's units; got {max_drop}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1; got {alpha}")
    delta = comparison.delta
    significant = comparison.p_adjusted < alpha
    if comparison.higher_is_better:
        return delta.estimate < -max_drop and significant and delta.high < 0
    return delta.estimate > max_drop and significant and delta.low > 0


def _mean_interval(
    x: FloatArray,
    reasons: tuple[str, str, str],
    confidence: float,
    n_resamples: int,
    seed: int,
    indices: dict[int, IntArray],
) -> Interval:
    """The bootstrap interval of x's mean; degenerate samples (scipy would refuse or collapse) are said so."""
    n = x.size
    no_data, one_value, all_equal = reasons
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, no_data)
    estimate = float(np.mean(x))
    if n == 1:
        return Interval(estimate, estimate, estimate, 1, one_value)
    if (x == x[0]).all():
        return Interval(estimate, estimate, estimate, n, all_equal)
    if n not in indices:
        # scipy.stats.bootstrap with batch=None draws every resample in one call, rng.integers(0, n, (n_resamples, n)),
        # from the generator it is given; the same call on the same seed gives the same indices.
        indices[n] = np.random.default_rng(seed).integers(0, n, (n_resamples, n))
    means = np.mean(np.take(x, indices[n]), axis=-1)  # the statistic exactly as scipy evaluates np.mean (axis=-1)
    alpha = (1 - confidence) / 2
    low, high = _quantiles_linear(means, (alpha, 1 - alpha))
    return Interval(estimate, low, high, n)


def _quantiles_linear(values: FloatArray, probabilities: tuple[float, ...]) -> list[float]:
    """scipy.stats.quantile(values, p) with its default 'linear' method, the same arithmetic, by partial sorting."""
    n = float(values.size)
    # Per p: jg = p*n + (1 - p); the quantile is (1 - g)*y[j] + g*y[j + 1] with j = floor(jg) - 1, g = jg mod 1, both
    # indices clipped to [0, n - 1] (and g = 0 when j < 0), as in scipy.stats._quantile._quantile_hf.
    plans = []
    for p in probabilities:
        jg = p * n + (1 - p)
        jp1 = jg // 1
        j = jp1 - 1
        g = 0.0 if j < 0 else jg % 1
        plans.append((int(min(max(j, 0.0), n - 1)), int(min(max(jp1, 0.0), n - 1)), g))
    ranks = sorted({k for j, jp1, _ in plans for k in (j, jp1)})
    y = np.partition(values, ranks)  # each rank holds the value a full sort would put there
    return [float((1 - g) * y[j] + g * y[jp1]) for j, jp1, g in plans]


def _wilcoxon(d: FloatArray) -> TestResult:
    if d.size == 0:
        return TestResult("wilcoxon", math.nan, math.nan, 0, "no pairs")
    if not d.any():
        # scipy would divide by a zero variance (a warning and NaN); no difference is no evidence of one.
        return TestResult("wilcoxon", 0.0, 1.0, d.size, "no differences")
    # scipy's default method: exact for up to 50 pairs without ties or zeros, an exhaustive permutation test for up to
    # 13 pairs with them, otherwise the normal approximation with continuity correction. Its permutation test takes
    # ~0.5 s for 12 pairs and ~1 s for 13 (it re-ranks every sign flip), so that one case is enumerated here directly.
    magnitudes = np.abs(d[d != 0])
    if d.size <= _MAX_EXHAUSTIVE_PAIRS and (magnitudes.size < d.size or np.unique(magnitudes).size < magnitudes.size):
        statistic, p_value = _wilcoxon_exhaustive(d)
        return TestResult("wilcoxon", statistic, p_value, d.size)
    stats = _scipy_stats()
    result = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return TestResult("wilcoxon", float(result.statistic), float(result.pvalue), d.size)


# scipy's permutation test enumerates all sign flips while 2**n is within its 9,999 default resamples.
_MAX_EXHAUSTIVE_PAIRS = 13


def _wilcoxon_exhaustive(d: FloatArray) -> tuple[float, float]:
    """scipy.stats.wilcoxon's result for few pairs with ties or zeros: its exact sign-flip permutation test."""
    ranks = np.zeros(d.size)
    ranks[d != 0] = _scipy_stats().rankdata(np.abs(d[d != 0]))  # average ranks; zero differences are dropped
    r_plus, r_minus = float(ranks[d > 0].sum()), float(ranks[d < 0].sum())
    # Row k of `flips` is one of the 2**n sign assignments (bit i: pair i ends up positive); its rank sum is that
    # assignment's r_plus. Ranks are multiples of 1/2, so every sum is exact and ties compare exactly.
    flips = (np.arange(2**d.size)[:, np.newaxis] >> np.arange(d.size)) & 1
    null = flips @ ranks
    extreme = min(int(np.count_nonzero(null <= r_plus)), int(np.count_nonzero(null >= r_plus)))
    return min(r_plus, r_minus), min(1.0, 2 * extreme / 2**d.size)


def _sign(d: FloatArray) -> TestResult:
    if d.size == 0:
        return TestResult("sign", math.nan, math.nan, 0, "no pairs")
    positive = int(np.count_nonzero(d > 0))
    nonzero = int(np.count_nonzero(d))
    if nonzero == 0:
        return TestResult("sign", 0.0, 1.0, d.size, "no differences")
    p_value = _scipy_stats().binomtest(positive, nonzero, p=0.5, alternative="two-sided").pvalue
    return TestResult("sign", float(positive), float(p_value), d.size)


_TESTS: dict[str, Callable[[FloatArray], TestResult]] = {"wilcoxon": _wilcoxon, "sign": _sign}


def _scipy_stats() -> Any:
    """scipy.stats, imported on first use: it takes ~1-2 s, which every process that imports evaluation (the app,
    each worker, the CLI) paid at start-up though only a comparison runs these tests. scipy ships no type
    information (no py.typed, scipy-stubs not installed): its results are read as floats."""
    from scipy import stats  # type: ignore[import-untyped]

    return stats


def _win_tie_loss(d: FloatArray, tolerance: float, higher_is_better: bool) -> tuple[int, int, int]:
    above = int(np.count_nonzero(d > tolerance))
    below = int(np.count_nonzero(d < -tolerance))
    ties = d.size - above - below
    return (above, ties, below) if higher_is_better else (below, ties, above)


def _differences(baseline: Values, candidate: Values) -> FloatArray:
    b, c = _pairs(baseline, candidate)
    return c - b


def _pairs(baseline: Values, candidate: Values, context: str = "") -> tuple[FloatArray, FloatArray]:
    """The complete pairs: both arrays, aligned by position, where neither value is NaN."""
    b = _as_values(baseline, f"{context}baseline")
    c = _as_values(candidate, f"{context}candidate")
    if b.size != c.size:
        raise ValueError(
            f"{context}baseline and candidate must be aligned item by item; got {b.size} and {c.size} values"
        )
    complete = ~(np.isnan(b) | np.isnan(c))
    return b[complete], c[complete]


def _as_values(values: Values, name: str) -> FloatArray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers; got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError(f"{name} must be finite numbers (NaN for a missing value)")
    return x


def _mean(x: FloatArray) -> float:
    return float(np.mean(x)) if x.size else math.nan


def _check_bootstrap(confidence: float, n_resamples: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1; got {confidence}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive whole number; got {n_resamples!r}")


def _check_tolerance(tolerance: float) -> None:
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be a non-negative number; got {tolerance}")
