"""Run statistics against independent references: scipy's bootstrap, wilcoxon and binomtest, statsmodels' Holm."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests

from workbench.evaluation.stats import (
    DEFAULT_RESAMPLES,
    Interval,
    MetricComparison,
    TestResult,
    compare_metrics,
    holm,
    mean_ci,
    paired_delta_ci,
    sign_test,
    significantly_worse,
    wilcoxon_test,
    win_tie_loss,
)

NAN = math.nan

# The statistics promise undefined results as NaN with a reason, never a warning.
pytestmark = pytest.mark.filterwarnings("error")


def continuous(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


def likert(n: int, seed: int) -> np.ndarray:
    """Scores on a 1-5 scale mapped to [0, 1]: many ties, and many zero differences between two runs."""
    return np.random.default_rng(seed).integers(1, 6, n) / 5


def scipy_ci(x: np.ndarray, confidence: float, n_resamples: int, seed: int) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about the standard error of a single resample
        result = scipy_stats.bootstrap(
            (x,),
            np.mean,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def with_nans(x: np.ndarray, every: int) -> np.ndarray:
    y = x.copy()
    y[::every] = NAN
    return y


# --- bootstrap intervals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "seed", "confidence", "n_resamples"),
    [
        (2, 0, 0.95, DEFAULT_RESAMPLES),
        (2, 3, 0.5, 7),
        (5, 0, 0.95, DEFAULT_RESAMPLES),
        (5, 1, 0.9, 1),
        (5, 2, 0.99, 2),
        (30, 0, 0.95, DEFAULT_RESAMPLES),
        (30, 1, 0.8, 9999),
        (30, 7, 0.999, 99),
        (1000, 0, 0.95, DEFAULT_RESAMPLES),
        (1000, 5, 0.9, 500),
    ],
)
def test_mean_ci_equals_scipy_percentile_bootstrap(n: int, seed: int, confidence: float, n_resamples: int) -> None:
    x = continuous(n, seed=100 + n)
    interval = mean_ci(x, confidence=confidence, n_resamples=n_resamples, seed=seed)
    assert (interval.low, interval.high) == scipy_ci(x, confidence, n_resamples, seed)
    assert interval == Interval(float(np.mean(x)), interval.low, interval.high, n, None)


def test_mean_ci_default_arguments_are_scipys_with_seed_zero() -> None:
    x = likert(50, seed=4)
    assert (mean_ci(x).low, mean_ci(x).high) == scipy_ci(x, 0.95, DEFAULT_RESAMPLES, 0)
    assert mean_ci(list(x)) == mean_ci(x)


def test_mean_ci_drops_nan_values() -> None:
    x = with_nans(continuous(40, seed=9), every=4)
    kept = x[~np.isnan(x)]
    interval = mean_ci(x, seed=3)
    assert interval.n == 30
    assert interval.estimate == float(np.mean(kept))
    assert (interval.low, interval.high) == scipy_ci(kept, 0.95, DEFAULT_RESAMPLES, 3)


def test_mean_ci_of_no_values_is_nan_with_reason() -> None:
    for values in ([], [NAN, NAN]):
        interval = mean_ci(values)
        assert math.isnan(interval.estimate) and math.isnan(interval.low) and math.isnan(interval.high)
        assert (interval.n, interval.reason) == (0, "no values")


def test_mean_ci_of_one_value_collapses_where_scipy_refuses() -> None:
    with pytest.raises(ValueError, match="two or more observations"):
        scipy_ci(np.array([0.25]), 0.95, 100, 0)
    assert mean_ci([0.25, NAN]) == Interval(0.25, 0.25, 0.25, 1, "fewer than 2 values")


def test_mean_ci_of_equal_values_collapses_onto_the_mean() -> None:
    interval = mean_ci([0.1, 0.1, 0.1, NAN])
    assert interval == Interval(
        float(np.mean([0.1, 0.1, 0.1])), interval.estimate, interval.estimate, 3, interval.reason
    )
    assert interval.reason == "all values equal"


@pytest.mark.parametrize(("n", "seed", "confidence"), [(2, 0, 0.95), (5, 1, 0.9), (30, 2, 0.95), (1000, 3, 0.99)])
def test_paired_delta_ci_equals_scipy_on_the_differences(n: int, seed: int, confidence: float) -> None:
    baseline, candidate = continuous(n, seed=seed), continuous(n, seed=seed + 50)
    interval = paired_delta_ci(baseline, candidate, confidence=confidence, seed=seed)
    d = candidate - baseline
    assert interval.estimate == float(np.mean(d))
    assert (interval.low, interval.high) == scipy_ci(d, confidence, DEFAULT_RESAMPLES, seed)
    assert (interval.n, interval.reason) == (n, None)


def test_paired_delta_ci_uses_only_complete_pairs() -> None:
    baseline = with_nans(likert(60, seed=1), every=5)
    candidate = with_nans(likert(60, seed=2), every=7)
    complete = ~(np.isnan(baseline) | np.isnan(candidate))
    d = candidate[complete] - baseline[complete]
    interval = paired_delta_ci(baseline, candidate, seed=11)
    assert interval.n == int(complete.sum()) == 60 - 12 - 9 + 2  # every 5th, every 7th, both at 0 and 35
    assert (interval.estimate, interval.low, interval.high) == (float(np.mean(d)), *scipy_ci(d, 0.95, 2000, 11))


def test_paired_delta_ci_degenerate_cases_say_why() -> None:
    assert paired_delta_ci([NAN, 0.5], [0.5, NAN]).reason == "no pairs"
    assert paired_delta_ci([0.5, NAN], [0.75, 0.1]) == Interval(0.25, 0.25, 0.25, 1, "fewer than 2 pairs")
    assert paired_delta_ci([0.5, 0.25], [0.75, 0.5]) == Interval(0.25, 0.25, 0.25, 2, "all differences equal")


# --- paired tests ----------------------------------------------------------------------------------------------------

PAIRED_CASES = {
    "exact, 8 pairs": (continuous(8, seed=1), continuous(8, seed=2)),
    "exact, 40 pairs": (continuous(40, seed=3), continuous(40, seed=4) * 0.9),
    "permutation, ties and zeros in 10 pairs": (likert(10, seed=5), likert(10, seed=6)),
    "permutation, zeros in 13 pairs": (
        np.r_[0.5, 0.5, continuous(11, seed=30)],
        np.r_[0.5, 0.5, continuous(11, seed=31)],
    ),
    "normal approximation, ties in 14 pairs": (likert(14, seed=32), likert(14, seed=33)),
    "normal approximation, ties and zeros in 30 pairs": (likert(30, seed=7), likert(30, seed=8)),
    "normal approximation, 1000 pairs": (continuous(1000, seed=9), continuous(1000, seed=10) + 0.02),
    "NaN pairs dropped": (with_nans(continuous(50, seed=11), 6), with_nans(continuous(50, seed=12), 9)),
    "one pair": (np.array([0.2]), np.array([0.7])),
}


def complete_differences(baseline: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    complete = ~(np.isnan(baseline) | np.isnan(candidate))
    return candidate[complete] - baseline[complete]


@pytest.mark.parametrize("case", PAIRED_CASES)
def test_wilcoxon_equals_scipy(case: str) -> None:
    baseline, candidate = PAIRED_CASES[case]
    d = complete_differences(baseline, candidate)
    reference = scipy_stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    assert wilcoxon_test(baseline, candidate) == TestResult(
        "wilcoxon", float(reference.statistic), float(reference.pvalue), d.size
    )


def test_wilcoxon_with_few_tied_pairs_equals_scipys_permutation_test() -> None:
    # Up to 13 pairs with ties or zeros, scipy runs an exhaustive sign-flip permutation test; the module enumerates the
    # same flips itself, so check it on many small samples of coarse scores (2 to 8 pairs keep scipy quick).
    rng = np.random.default_rng(2024)
    checked = 0
    for _ in range(60):
        n = int(rng.integers(2, 9))
        baseline, candidate = rng.integers(0, 4, n) / 4, rng.integers(0, 4, n) / 4
        d = candidate - baseline
        if not d.any():
            continue
        reference = scipy_stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        result = wilcoxon_test(baseline, candidate)
        assert (result.statistic, result.p_value) == (float(reference.statistic), float(reference.pvalue))
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("case", PAIRED_CASES)
def test_sign_test_equals_scipy_binomtest(case: str) -> None:
    baseline, candidate = PAIRED_CASES[case]
    d = complete_differences(baseline, candidate)
    positive, nonzero = int((d > 0).sum()), int((d != 0).sum())
    reference = scipy_stats.binomtest(positive, nonzero, p=0.5, alternative="two-sided").pvalue
    assert sign_test(baseline, candidate) == TestResult("sign", float(positive), float(reference), d.size)


def test_results_hold_plain_python_numbers() -> None:
    baseline, candidate = PAIRED_CASES["permutation, ties and zeros in 10 pairs"]
    (row,) = compare_metrics({"m": baseline}, {"m": candidate})
    for value in (row.baseline_mean, row.candidate_mean, row.p_adjusted, row.delta.estimate, row.delta.low):
        assert type(value) is float
    assert type(row.delta.high) is float and type(row.test.statistic) is float and type(row.test.p_value) is float
    assert type(row.n) is int and type(row.wins) is int and type(row.delta.n) is int and type(row.test.n) is int
    assert all(type(p) is float for p in holm([0.1, NAN]))
    assert all(type(count) is int for count in win_tie_loss(baseline, candidate))
    sign = sign_test(baseline, candidate)
    assert type(sign.statistic) is float and type(sign.p_value) is float


@pytest.mark.parametrize("test", [wilcoxon_test, sign_test])
def test_tests_without_differences_give_p_one_with_reason(test: object) -> None:
    assert callable(test)
    result = test([0.5, 0.25, NAN, 1.0], [0.5, 0.25, 0.3, 1.0])
    assert (result.statistic, result.p_value, result.n, result.reason) == (0.0, 1.0, 3, "no differences")


@pytest.mark.parametrize("test", [wilcoxon_test, sign_test])
def test_tests_without_pairs_are_nan_with_reason(test: object) -> None:
    assert callable(test)
    for baseline, candidate in (([], []), ([NAN, 0.5], [0.5, NAN])):
        result = test(baseline, candidate)
        assert math.isnan(result.statistic) and math.isnan(result.p_value)
        assert (result.n, result.reason) == (0, "no pairs")


def test_win_tie_loss_counts_complete_pairs_within_tolerance() -> None:
    baseline = [0.5, 0.5, 0.5, NAN, 0.2, 0.4, 0.9]
    candidate = [0.7, 0.5 + 1e-12, 0.1, 0.9, NAN, 0.6, 0.95]
    assert win_tie_loss(baseline, candidate) == (3, 1, 1)
    assert win_tie_loss(baseline, candidate, tolerance=0.1) == (2, 2, 1)
    assert win_tie_loss(baseline, candidate, higher_is_better=False) == (1, 1, 3)
    assert win_tie_loss([], []) == (0, 0, 0)


@pytest.mark.parametrize(
    "function",
    [paired_delta_ci, wilcoxon_test, sign_test, win_tie_loss],
)
def test_pairs_of_different_lengths_are_refused(function: object) -> None:
    assert callable(function)
    with pytest.raises(ValueError, match="aligned item by item; got 3 and 2 values"):
        function([0.1, 0.2, 0.3], [0.1, 0.2])


# --- Holm ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p_values",
    [
        [0.04],
        [0.01, 0.04, 0.03, 0.005],
        [0.02, 0.02, 0.5, 0.02, 1.0, 0.0],
        [0.3, 0.6, 0.9],  # every adjusted value capped at 1
        list(np.random.default_rng(0).random(25) ** 3),
    ],
)
def test_holm_equals_statsmodels(p_values: list[float]) -> None:
    assert holm(p_values) == list(multipletests(p_values, method="holm")[1])


def test_holm_passes_nan_through_outside_the_family() -> None:
    adjusted = holm([0.01, NAN, 0.04, NAN, 0.03])
    reference = multipletests([0.01, 0.04, 0.03], method="holm")[1]
    assert math.isnan(adjusted[1]) and math.isnan(adjusted[3])
    assert [adjusted[0], adjusted[2], adjusted[4]] == list(reference)
    assert holm([]) == []
    assert all(math.isnan(p) for p in holm([NAN]))


@pytest.mark.parametrize("bad", [[0.5, 1.5], [-0.1], [[0.1, 0.2]], [math.inf]])
def test_holm_refuses_what_is_not_a_p_value(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="p-values"):
        holm(bad)


# --- comparisons -----------------------------------------------------------------------------------------------------


def runs() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    faithfulness = continuous(120, seed=21)
    correctness = likert(120, seed=22)
    latency = 1 + continuous(120, seed=23)
    baseline = {
        "faithfulness": faithfulness,
        "correctness": correctness,
        "latency_s": latency,
        "only_in_baseline": continuous(120, seed=24),
    }
    candidate = {
        "latency_s": latency + np.random.default_rng(25).normal(0.2, 0.1, 120),
        "correctness": with_nans(np.clip(likert(120, seed=26) + 0.1, 0, 1), every=10),
        "faithfulness": np.clip(faithfulness - np.random.default_rng(27).normal(0.05, 0.1, 120), 0, 1),
        "only_in_candidate": continuous(120, seed=28),
    }
    return baseline, candidate


@pytest.mark.parametrize("test", ["wilcoxon", "sign"])
def test_compare_metrics_end_to_end_against_the_references(test: str) -> None:
    baseline, candidate = runs()
    rows = compare_metrics(baseline, candidate, test=test, seed=5, lower_is_better={"latency_s", "unused"})  # type: ignore[arg-type]
    assert [row.metric for row in rows] == ["faithfulness", "correctness", "latency_s"]
    raw_p = []
    for row in rows:
        b, c = baseline[row.metric], candidate[row.metric]
        complete = ~(np.isnan(b) | np.isnan(c))
        b, c = b[complete], c[complete]
        d = c - b
        if test == "wilcoxon":
            reference = scipy_stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
            statistic, p_value = float(reference.statistic), float(reference.pvalue)
        else:
            statistic = float((d > 0).sum())
            p_value = float(scipy_stats.binomtest(int((d > 0).sum()), int((d != 0).sum())).pvalue)
        raw_p.append(p_value)
        higher = row.metric != "latency_s"
        better, worse = ((d > 1e-9), (d < -1e-9)) if higher else ((d < -1e-9), (d > 1e-9))
        assert row.n == d.size == (108 if row.metric == "correctness" else 120)
        assert (row.baseline_mean, row.candidate_mean) == (float(np.mean(b)), float(np.mean(c)))
        assert row.delta == Interval(float(np.mean(d)), *scipy_ci(d, 0.95, DEFAULT_RESAMPLES, 5), d.size)
        assert (row.wins, row.ties, row.losses) == (int(better.sum()), int((~better & ~worse).sum()), int(worse.sum()))
        assert row.test == TestResult(test, statistic, p_value, d.size)
        assert row.higher_is_better is higher
    assert [row.p_adjusted for row in rows] == list(multipletests(raw_p, method="holm")[1])


def test_compare_metrics_of_one_metric_leaves_its_p_value() -> None:
    baseline, candidate = runs()
    (row,) = compare_metrics({"faithfulness": baseline["faithfulness"]}, candidate)
    assert row.p_adjusted == row.test.p_value
    assert row.delta.estimate < 0 and row.delta.high < 0 and row.losses > row.wins


def test_compare_metrics_keeps_a_metric_without_pairs_out_of_the_family() -> None:
    baseline, candidate = runs()
    rows = compare_metrics(
        {"faithfulness": baseline["faithfulness"], "empty": [NAN, NAN]},
        {"faithfulness": candidate["faithfulness"], "empty": [0.5, NAN]},
    )
    assert rows[1].n == 0 and math.isnan(rows[1].p_adjusted) and rows[1].test.reason == "no pairs"
    assert rows[0].p_adjusted == rows[0].test.p_value


def test_compare_metrics_refuses_misaligned_runs_and_unknown_tests() -> None:
    with pytest.raises(ValueError, match="metric 'recall': baseline and candidate must be aligned item by item"):
        compare_metrics({"recall": [0.1, 0.2]}, {"recall": [0.1]})
    with pytest.raises(ValueError, match="test must be one of"):
        compare_metrics({}, {}, test="t-test")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda: mean_ci([0.1, 0.2], confidence=1.0),
        lambda: mean_ci([0.1, 0.2], confidence=0.0),
        lambda: mean_ci([0.1, 0.2], n_resamples=0),
        lambda: mean_ci([0.1, 0.2], n_resamples=2.5),
        lambda: mean_ci([0.1, math.inf]),
        lambda: mean_ci([[0.1, 0.2]]),
        lambda: win_tie_loss([0.1], [0.2], tolerance=-1e-9),
        lambda: compare_metrics({}, {}, n_resamples=-1),
    ],
)
def test_invalid_arguments_are_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError):
        call()


# --- the CI gate -----------------------------------------------------------------------------------------------------


def comparison(
    estimate: float, low: float, high: float, p_adjusted: float, higher_is_better: bool = True
) -> MetricComparison:
    test = TestResult("wilcoxon", 10.0, p_adjusted, 100)
    delta = Interval(estimate, low, high, 100)
    return MetricComparison(
        "faithfulness", 100, 0.8, 0.8 + estimate, delta, 10, 80, 10, test, p_adjusted, higher_is_better
    )


@pytest.mark.parametrize(
    ("estimate", "low", "high", "p_adjusted", "higher_is_better", "expected"),
    [
        (-0.10, -0.15, -0.05, 0.001, True, True),  # worse by more than the allowed drop, significantly
        (-0.03, -0.05, -0.01, 0.001, True, False),  # worse, significantly, but within the allowed drop
        (-0.10, -0.15, -0.05, 0.2, True, False),  # not significant after Holm
        (-0.10, -0.20, 0.01, 0.001, True, False),  # the interval reaches zero
        (0.10, 0.05, 0.15, 0.001, True, False),  # better
        (NAN, NAN, NAN, NAN, True, False),  # no pairs
        (-0.10, -0.15, -0.05, NAN, True, False),  # undefined test
        (0.10, 0.05, 0.15, 0.001, False, True),  # lower is better: an increase is the drop
        (0.10, -0.01, 0.15, 0.001, False, False),
        (-0.10, -0.15, -0.05, 0.001, False, False),
    ],
)
def test_significantly_worse_truth_table(
    estimate: float, low: float, high: float, p_adjusted: float, higher_is_better: bool, expected: bool
) -> None:
    row = comparison(estimate, low, high, p_adjusted, higher_is_better)
    assert significantly_worse(row, max_drop=0.05) is expected


def test_the_gate_on_a_real_comparison() -> None:
    # faithfulness fell by ~0.04, correctness rose by ~0.12, latency rose by ~0.2 s (lower is better).
    rows = compare_metrics(*runs(), lower_is_better={"latency_s"})
    assert {row.metric: significantly_worse(row, max_drop=0.02) for row in rows} == {
        "faithfulness": True,
        "correctness": False,
        "latency_s": True,
    }
    assert not any(significantly_worse(row, max_drop=0.3) for row in rows)


def test_significantly_worse_boundaries_are_strict() -> None:
    assert not significantly_worse(comparison(-0.05, -0.1, -0.01, 0.001), max_drop=0.05)
    assert not significantly_worse(comparison(-0.10, -0.15, -0.05, 0.05), max_drop=0.05, alpha=0.05)
    assert not significantly_worse(comparison(-0.10, -0.15, 0.0, 0.001), max_drop=0.05)
    assert significantly_worse(comparison(-0.001, -0.002, -0.0005, 0.001), max_drop=0.0)
    with pytest.raises(ValueError, match="max_drop"):
        significantly_worse(comparison(-0.1, -0.2, -0.05, 0.001), max_drop=-0.01)
    with pytest.raises(ValueError, match="alpha"):
        significantly_worse(comparison(-0.1, -0.2, -0.05, 0.001), max_drop=0.01, alpha=1.0)
