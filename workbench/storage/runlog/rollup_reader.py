"""Reads the rollups for summaries and charts, through daily rollups for whole days.

Hourly rollups are kept up to date as logs are written. A whole day of them (~40 documents an hour with a few
models and users) is slow to read on the MongoDB-wire server, so each finished day is folded once into daily
rollups (`run_log_rollups_daily`), built from the hourly ones on first read. The write path records, in the meta
document, when each day was last touched (`touched.YYYYMMDD`); a day touched after its daily rollups were built
(a late spool replay) is rebuilt on the next read. Building is idempotent (replace by key), so two readers racing
to build the same day agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING, IndexModel, ReplaceOne
from pymongo.collection import Collection

from workbench.domain.runlog_query import HOUR, RunLogBucket, RunLogFilter, RunLogSummary
from workbench.storage.runlog.rollups import DIMENSIONS, SummaryAccumulator, as_query, as_utc, wanted_values

DAY = timedelta(days=1)
DAILY_INDEXES = [IndexModel([("bucket", DESCENDING)], name="bucket_desc")]
_SUMS = ("count", "errors", "latency_sum", "latency_n", "ttft_sum", "ttft_n", "input_tokens", "output_tokens")


def day_key(moment: datetime) -> str:
    return moment.strftime("%Y%m%d")


def _floor_day(moment: datetime) -> datetime:
    return as_utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(moment: datetime) -> datetime:
    floored = _floor_day(moment)
    return floored if floored == as_utc(moment) else floored + DAY


def touched_days_update(buckets: list[datetime], now: datetime) -> dict[str, datetime]:
    """The `$max` part of the meta update marking the days a write batch touched."""
    return {f"touched.{day_key(bucket)}": now for bucket in buckets}


class RollupReader:
    def __init__(self, hourly: Collection[Any], daily: Collection[Any], meta: Collection[Any], meta_id: str) -> None:
        self._hourly = hourly
        self._daily = daily
        self._meta = meta
        self._meta_id = meta_id

    def ensure_indexes(self) -> None:
        self._daily.create_indexes(DAILY_INDEXES)

    def clear(self) -> None:
        self._daily.delete_many({})

    # Public reads ---------------------------------------------------------------

    def summary(self, flt: RunLogFilter) -> RunLogSummary:
        accumulator = SummaryAccumulator()
        for rollup in self._rollups(flt, hourly_only=False):
            accumulator.add(rollup)
        return accumulator.summary()

    def overview(self, flt: RunLogFilter, bucket: str) -> tuple[RunLogSummary, list[RunLogBucket], list[RunLogBucket]]:
        """Summary, per-model series and all-models series from ONE pass over the rollups."""
        total = SummaryAccumulator()
        per_model: dict[tuple[datetime, str], SummaryAccumulator] = defaultdict(SummaryAccumulator)
        overall: dict[datetime, SummaryAccumulator] = defaultdict(SummaryAccumulator)
        for rollup in self._rollups(flt, hourly_only=bucket == "hour"):
            start = as_utc(rollup["bucket"])
            if bucket == "day":
                start = start.replace(hour=0)
            total.add(rollup)
            per_model[(start, rollup.get("model", ""))].add(rollup)
            overall[start].add(rollup)
        series = [RunLogBucket(start=s, model=m, summary=acc.summary()) for (s, m), acc in sorted(per_model.items())]
        merged = [RunLogBucket(start=s, model="", summary=acc.summary()) for s, acc in sorted(overall.items())]
        return total.summary(), series, merged

    def timeseries(self, flt: RunLogFilter, *, by_model: bool, bucket: str) -> list[RunLogBucket]:
        _, series, merged = self.overview(flt, bucket)
        return series if by_model else merged

    # Internals -----------------------------------------------------------------

    def _rollups(self, flt: RunLogFilter, *, hourly_only: bool) -> Iterator[Mapping[str, Any]]:
        """Rollup documents covering the filter: daily ones for whole finished days, hourly ones for the rest."""
        flt = flt.aligned()
        dims = as_query(wanted_values(flt))
        if hourly_only:
            yield from self._hourly.find(_bucket_query(dims, flt.start, flt.end))
            return
        meta = self._meta.find_one({"_id": self._meta_id}) or {}
        if "oldest" not in meta:
            return
        today = _floor_day(datetime.now(UTC))
        start = max(flt.start or as_utc(meta["oldest"]), as_utc(meta["oldest"]))
        end = min(flt.end or today + DAY, as_utc(meta["newest"]) + HOUR)
        first_day, last_day = _ceil_day(start), min(_floor_day(end), today)
        if first_day >= last_day:  # no whole finished day inside: hours only
            yield from self._hourly.find(_bucket_query(dims, start, end))
            return
        self._build_stale_days(first_day, last_day, meta.get("touched", {}))
        if start < first_day:
            yield from self._hourly.find(_bucket_query(dims, start, first_day))
        yield from self._daily.find(_bucket_query(dims, first_day, last_day))
        if last_day < end:
            yield from self._hourly.find(_bucket_query(dims, last_day, end))

    def _build_stale_days(self, first: datetime, last: datetime, touched: Mapping[str, datetime]) -> None:
        built = {
            doc["_id"][len("built|") :]: as_utc(doc["built_at"])
            for doc in self._daily.find({"_id": {"$gte": "built|", "$lt": "built}"}})
        }
        day = first
        while day < last:
            key = day_key(day)
            last_touch = touched.get(key)
            if last_touch is not None and (key not in built or built[key] < as_utc(last_touch)):
                self._build_day(day)
            day += DAY

    def _build_day(self, day: datetime) -> None:
        started = datetime.now(UTC)
        folded: dict[tuple[str, ...], dict[str, Any]] = {}
        for rollup in self._hourly.find({"bucket": {"$gte": day, "$lt": day + DAY}}):
            dims = tuple(str(rollup.get(name) or "") for name in DIMENSIONS)
            entry = folded.setdefault(dims, {"hist": defaultdict(int), **dict.fromkeys(_SUMS, 0)})
            for name in _SUMS:
                entry[name] += rollup.get(name, 0)
            for index, count in (rollup.get("hist") or {}).items():
                entry["hist"][index] += count
        operations = []
        for dims, entry in folded.items():
            key = "|".join((day.strftime("%Y%m%d"), *dims))
            doc = {"_id": key, "bucket": day, **dict(zip(DIMENSIONS, dims, strict=True)), **entry}
            doc["hist"] = dict(entry["hist"])
            operations.append(ReplaceOne({"_id": key}, doc, upsert=True))
        if operations:
            self._daily.bulk_write(operations, ordered=False)
        marker = f"built|{day_key(day)}"
        self._daily.replace_one({"_id": marker}, {"_id": marker, "built_at": started}, upsert=True)


def _bucket_query(dims: Mapping[str, Any], start: datetime | None, end: datetime | None) -> dict[str, Any]:
    # `bucket` first: the server serves a filter from the index of its first indexed field, and the time range
    # is what bounds the read.
    bucket: dict[str, datetime] = {}
    if start is not None:
        bucket["$gte"] = start
    if end is not None:
        bucket["$lt"] = end
    query: dict[str, Any] = {"bucket": bucket} if bucket else {}
    query.update(dims)
    return query
