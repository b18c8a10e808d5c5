"""Hourly rollups of run logs, kept up to date as logs are written so that counts and charts never scan raw logs.

A rollup document is keyed by (hour, kind, provider, model, user, status) and holds counts, sums and a
latency histogram on a geometric scale (ratio 1.2, so percentiles are estimated within about 10%).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from workbench.domain.runlog_query import RunLogFilter, RunLogSummary, floor_hour

LATENCY_RATIO = 1.2
MAX_LATENCY_BUCKET = 90  # 1.2**90 ms is about 4.5 days: anything slower lands in the last bucket
DIMENSIONS = ("kind", "provider", "model", "user_id", "status")


def latency_bucket(latency_ms: float) -> int:
    if latency_ms <= 1.0:
        return 0
    return min(MAX_LATENCY_BUCKET, int(math.log(latency_ms) / math.log(LATENCY_RATIO)) + 1)


def bucket_bounds(index: int) -> tuple[float, float]:
    if index == 0:
        return 0.0, 1.0
    return LATENCY_RATIO ** (index - 1), LATENCY_RATIO**index


def percentile_from_histogram(histogram: Mapping[int, int], q: float) -> float | None:
    """Estimate the q-th quantile (0..1) by linear interpolation inside the histogram bucket."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index in sorted(histogram):
        count = histogram[index]
        if count and seen + count >= rank:
            low, high = bucket_bounds(index)
            return low + (high - low) * ((rank - seen) / count)
        seen += count
    return bucket_bounds(max(histogram))[1]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def as_utc(moment: datetime) -> datetime:
    """pymongo may hand back naive UTC datetimes; make them aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# RunLogFilter attribute -> document field, for the filters the Run log page offers.
FILTER_FIELDS = (("kinds", "kind"), ("models", "model"), ("user_ids", "user_id"), ("statuses", "status"))


def wanted_values(flt: RunLogFilter) -> dict[str, tuple[str, ...]]:
    """Filter fields and their accepted values, e.g. {"model": ("gpt-4o-mini",)}."""
    return {field_name: getattr(flt, attr) for attr, field_name in FILTER_FIELDS if getattr(flt, attr)}


def as_query(wanted: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """The MongoDB filter for `wanted_values`: equality for one value, $in for several."""
    return {name: values[0] if len(values) == 1 else {"$in": list(values)} for name, values in wanted.items()}


def rollup_key(doc: Mapping[str, Any]) -> str:
    hour = floor_hour(_aware(doc["created_at"]))
    parts = [hour.strftime("%Y%m%d%H")] + [str(doc.get(name) or "") for name in DIMENSIONS]
    return "|".join(parts)


def rollup_increments(docs: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Fold logs into per-key increments: {key: {"bucket": hour, "dims": {...}, "inc": {...}}}."""
    folded: dict[str, dict[str, Any]] = {}
    for doc in docs:
        key = rollup_key(doc)
        entry = folded.get(key)
        if entry is None:
            entry = {
                "bucket": floor_hour(_aware(doc["created_at"])),
                "dims": {name: doc.get(name) or "" for name in DIMENSIONS},
                "inc": defaultdict(float),
            }
            folded[key] = entry
        inc = entry["inc"]
        inc["count"] += 1
        if doc.get("status") not in (None, "ok"):
            inc["errors"] += 1
        latency = doc.get("latency_ms")
        if latency is not None:
            inc["latency_sum"] += latency
            inc["latency_n"] += 1
            inc[f"hist.{latency_bucket(latency)}"] += 1
        ttft = doc.get("ttft_ms")
        if ttft is not None:
            inc["ttft_sum"] += ttft
            inc["ttft_n"] += 1
        inc["input_tokens"] += doc.get("input_tokens") or 0
        inc["output_tokens"] += doc.get("output_tokens") or 0
    for entry in folded.values():
        entry["inc"] = {k: (int(v) if float(v).is_integer() else v) for k, v in entry["inc"].items()}
    return folded


class SummaryAccumulator:
    """Merges rollup documents into one RunLogSummary."""

    def __init__(self) -> None:
        self.count = 0
        self.errors = 0
        self.latency_sum = 0.0
        self.latency_n = 0
        self.ttft_sum = 0.0
        self.ttft_n = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.histogram: dict[int, int] = defaultdict(int)

    def add(self, rollup: Mapping[str, Any]) -> None:
        self.count += int(rollup.get("count", 0))
        self.errors += int(rollup.get("errors", 0))
        self.latency_sum += float(rollup.get("latency_sum", 0.0))
        self.latency_n += int(rollup.get("latency_n", 0))
        self.ttft_sum += float(rollup.get("ttft_sum", 0.0))
        self.ttft_n += int(rollup.get("ttft_n", 0))
        self.input_tokens += int(rollup.get("input_tokens", 0))
        self.output_tokens += int(rollup.get("output_tokens", 0))
        for index, count in (rollup.get("hist") or {}).items():
            self.histogram[int(index)] += int(count)

    def summary(self) -> RunLogSummary:
        return RunLogSummary(
            count=self.count,
            errors=self.errors,
            latency_p50_ms=percentile_from_histogram(self.histogram, 0.50),
            latency_p95_ms=percentile_from_histogram(self.histogram, 0.95),
            latency_mean_ms=self.latency_sum / self.latency_n if self.latency_n else None,
            ttft_mean_ms=self.ttft_sum / self.ttft_n if self.ttft_n else None,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )
