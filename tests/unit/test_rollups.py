from __future__ import annotations

import math
import random
from collections import Counter
from datetime import timedelta
from itertools import pairwise

import numpy as np
import pytest

from tests.factories import run_log, utc
from workbench.domain.runlog_query import floor_hour
from workbench.storage.runlog.rollups import (
    LATENCY_RATIO,
    MAX_LATENCY_BUCKET,
    SummaryAccumulator,
    bucket_bounds,
    latency_bucket,
    percentile_from_histogram,
    rollup_increments,
    rollup_key,
)

# One bucket spans a factor LATENCY_RATIO; interpolation inside it keeps estimates well within that.
BUCKET_TOLERANCE = LATENCY_RATIO - 1


def _histogram(values: np.ndarray) -> dict[int, int]:
    return dict(Counter(latency_bucket(float(v)) for v in values))


# Buckets ----------------------------------------------------------------------------------------


def test_latency_bucket_is_monotone() -> None:
    values = np.concatenate([np.linspace(0, 5, 500), np.geomspace(5, 1e9, 5_000)])
    buckets = [latency_bucket(float(v)) for v in values]
    assert all(a <= b for a, b in pairwise(buckets))
    assert buckets[0] == 0
    assert buckets[-1] == MAX_LATENCY_BUCKET


def test_bucket_bounds_are_contiguous_and_growing() -> None:
    previous_high = 0.0
    for index in range(MAX_LATENCY_BUCKET + 1):
        low, high = bucket_bounds(index)
        assert low == pytest.approx(previous_high)
        assert high > low
        if index > 1:
            assert high / low == pytest.approx(LATENCY_RATIO)
        previous_high = high


def test_values_fall_inside_their_bucket_bounds() -> None:
    rng = np.random.default_rng(7)
    for value in np.concatenate([rng.uniform(0, 1, 200), rng.lognormal(5, 3, 5_000)]):
        index = latency_bucket(float(value))
        low, high = bucket_bounds(index)
        if index < MAX_LATENCY_BUCKET:
            # math.log rounding can put a value a hair past a bound; allow one part in 1e9.
            assert low * (1 - 1e-9) <= value <= high * (1 + 1e-9), (value, index)
        else:
            assert value >= low * (1 - 1e-9)


def test_bucket_zero_holds_sub_millisecond_latencies() -> None:
    assert latency_bucket(0.0) == latency_bucket(0.3) == latency_bucket(1.0) == 0
    assert latency_bucket(1.0001) == 1


# Percentiles against numpy --------------------------------------------------------------------------

FIXED_DATA = {
    "lognormal": np.random.default_rng(42).lognormal(mean=6.0, sigma=0.8, size=20_000),
    "uniform": np.random.default_rng(43).uniform(50, 3_000, size=5_000),
    "bimodal": np.concatenate(
        [np.random.default_rng(44).normal(120, 10, 4_000), np.random.default_rng(45).normal(2_500, 300, 1_000)]
    ),
}
SMALL_DATA = np.array([12.0, 15.5, 18.0, 22.0, 40.0, 41.0, 43.0, 90.0, 250.0, 1_200.0])


@pytest.mark.parametrize("name", sorted(FIXED_DATA))
@pytest.mark.parametrize("q", [0.05, 0.25, 0.5, 0.9, 0.95, 0.99])
def test_percentile_from_histogram_matches_numpy(name: str, q: float) -> None:
    values = FIXED_DATA[name]
    expected = float(np.percentile(values, q * 100))
    estimate = percentile_from_histogram(_histogram(values), q)
    assert estimate is not None
    assert estimate == pytest.approx(expected, rel=BUCKET_TOLERANCE)


@pytest.mark.parametrize("q", [0.05, 0.25, 0.5, 0.9, 0.95, 0.99])
def test_percentile_of_sparse_data_lies_between_the_neighbouring_buckets(q: float) -> None:
    # With ten values numpy interpolates between two far-apart order statistics, which a histogram cannot;
    # the estimate must still fall between the buckets holding those two values.
    estimate = percentile_from_histogram(_histogram(SMALL_DATA), q)
    below = float(np.percentile(SMALL_DATA, q * 100, method="lower"))
    above = float(np.percentile(SMALL_DATA, q * 100, method="higher"))
    assert estimate is not None
    assert bucket_bounds(latency_bucket(below))[0] <= estimate <= bucket_bounds(latency_bucket(above))[1]


def test_percentile_of_an_empty_histogram_is_none() -> None:
    assert percentile_from_histogram({}, 0.5) is None
    assert percentile_from_histogram({3: 0}, 0.5) is None


def test_percentile_of_one_value_is_inside_its_bucket() -> None:
    low, high = bucket_bounds(latency_bucket(333.0))
    for q in (0.0, 0.5, 1.0):
        estimate = percentile_from_histogram({latency_bucket(333.0): 1}, q)
        assert estimate is not None
        assert low <= estimate <= high


def test_percentiles_are_monotone_in_q() -> None:
    histogram = _histogram(FIXED_DATA["bimodal"])
    estimates = [percentile_from_histogram(histogram, q / 100) for q in range(101)]
    assert all(a is not None and b is not None and a <= b for a, b in pairwise(estimates))


# Increments ---------------------------------------------------------------------------------------------


@pytest.fixture
def docs() -> list[dict[str, object]]:
    rng = random.Random(11)
    start = utc(2026, 5, 4, 10)
    logs = [run_log(rng=rng, created_at=start + timedelta(seconds=rng.randrange(3 * 3600))) for _ in range(2_000)]
    logs += [run_log(rng=rng, created_at=start, latency_ms=None, ttft_ms=None) for _ in range(20)]
    return [log.to_document() for log in logs]


def test_rollup_increments_sum_to_the_raw_totals(docs: list[dict[str, object]]) -> None:
    folded = rollup_increments(docs)
    incs = [entry["inc"] for entry in folded.values()]

    def total(name: str) -> float:
        return sum(inc.get(name, 0) for inc in incs)

    latencies = [d["latency_ms"] for d in docs if d["latency_ms"] is not None]
    ttfts = [d["ttft_ms"] for d in docs if d["ttft_ms"] is not None]
    assert total("count") == len(docs)
    assert total("errors") == sum(1 for d in docs if d["status"] != "ok")
    assert total("latency_n") == len(latencies)
    assert total("latency_sum") == pytest.approx(math.fsum(latencies))  # type: ignore[arg-type]
    assert total("ttft_n") == len(ttfts)
    assert total("ttft_sum") == pytest.approx(math.fsum(ttfts))  # type: ignore[arg-type]
    assert total("input_tokens") == sum(d["input_tokens"] or 0 for d in docs)  # type: ignore[misc]
    assert total("output_tokens") == sum(d["output_tokens"] or 0 for d in docs)  # type: ignore[misc]
    hist_total = sum(v for inc in incs for k, v in inc.items() if k.startswith("hist."))
    assert hist_total == len(latencies)


def test_rollup_increments_group_by_hour_and_dimensions(docs: list[dict[str, object]]) -> None:
    folded = rollup_increments(docs)

    expected = Counter(
        (floor_hour(d["created_at"]), d["kind"], d["provider"], d["model"], d["user_id"] or "", d["status"])  # type: ignore[arg-type]
        for d in docs
    )
    got = {
        (e["bucket"], e["dims"]["kind"], e["dims"]["provider"], e["dims"]["model"], e["dims"]["user_id"],
         e["dims"]["status"]): e["inc"]["count"]
        for e in folded.values()
    }  # fmt: skip
    assert got == dict(expected)
    for key, entry in folded.items():
        assert key.startswith(entry["bucket"].strftime("%Y%m%d%H") + "|")
        assert all(isinstance(v, int) for k, v in entry["inc"].items() if k not in {"latency_sum", "ttft_sum"})


def test_rollup_key_accepts_naive_utc_and_missing_dimensions() -> None:
    aware = {"created_at": utc(2026, 1, 2, 3, 45), "kind": "llm", "model": "m", "status": "ok"}
    naive = dict(aware, created_at=utc(2026, 1, 2, 3, 5).replace(tzinfo=None))
    assert rollup_key(aware) == rollup_key(naive) == "2026010203|llm||m||ok"


def test_summary_accumulator_merges_rollups(docs: list[dict[str, object]]) -> None:
    accumulator = SummaryAccumulator()
    for entry in rollup_increments(docs).values():
        inc = entry["inc"]
        # The shape of a stored rollup document: "hist.N" increments become a nested "hist" map.
        stored = {k: v for k, v in inc.items() if not k.startswith("hist.")}
        stored["hist"] = {k.split(".", 1)[1]: v for k, v in inc.items() if k.startswith("hist.")}
        accumulator.add(stored)
    summary = accumulator.summary()

    latencies = np.array([d["latency_ms"] for d in docs if d["latency_ms"] is not None], dtype=float)
    assert summary.count == len(docs)
    assert summary.errors == sum(1 for d in docs if d["status"] != "ok")
    assert summary.latency_mean_ms == pytest.approx(latencies.mean())
    assert summary.latency_p50_ms == pytest.approx(np.percentile(latencies, 50), rel=BUCKET_TOLERANCE)
    assert summary.latency_p95_ms == pytest.approx(np.percentile(latencies, 95), rel=BUCKET_TOLERANCE)
    assert summary.error_rate == pytest.approx(summary.errors / len(docs))


def test_empty_summary() -> None:
    summary = SummaryAccumulator().summary()
    assert (summary.count, summary.latency_p50_ms, summary.latency_mean_ms, summary.error_rate) == (0, None, None, 0.0)
