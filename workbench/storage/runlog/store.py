"""The run-log repository over MongoDB: raw logs in `run_logs`, hourly rollups in `run_log_rollups`.

Reads follow what the MongoDB-wire server does cheaply: a sort+limit reads every matching document before
limiting, so pages are fetched in bounded time windows sized from the rollups, and counts and charts come
from rollups only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from workbench.domain.runlog import RunLog
from workbench.domain.runlog_query import (
    HOUR,
    PageCursor,
    RunLogBucket,
    RunLogFacets,
    RunLogFilter,
    RunLogPage,
    RunLogSummary,
    floor_hour,
)
from workbench.storage.runlog.rollups import SummaryAccumulator, rollup_increments

DUPLICATE_KEY = 11000
_FILTER_FIELDS = (("kinds", "kind"), ("models", "model"), ("user_ids", "user_id"), ("statuses", "status"))

RUN_LOG_INDEXES = [
    IndexModel([("created_at", DESCENDING)], name="created_at_desc"),
    IndexModel([("kind", ASCENDING), ("created_at", DESCENDING)], name="kind_created_at"),
    IndexModel([("model", ASCENDING), ("created_at", DESCENDING)], name="model_created_at"),
    IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)], name="user_created_at"),
    IndexModel([("status", ASCENDING), ("created_at", DESCENDING)], name="status_created_at"),
    IndexModel([("run_id", ASCENDING)], name="run_id"),
    IndexModel([("conversation_id", ASCENDING), ("created_at", ASCENDING)], name="conversation_created_at"),
]
ROLLUP_INDEXES = [IndexModel([("bucket", DESCENDING)], name="bucket_desc")]


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class MongoRunLogStore:
    """Repository for run logs. Thread-safe (pymongo clients are); holds no per-request state."""

    def __init__(self, database: Database[Any]) -> None:
        self._db = database
        self.logs: Collection[Any] = database["run_logs"]
        self.rollups: Collection[Any] = database["run_log_rollups"]

    def ensure_indexes(self) -> None:
        self.logs.create_indexes(RUN_LOG_INDEXES)
        self.rollups.create_indexes(ROLLUP_INDEXES)

    # Writes -----------------------------------------------------------------

    def insert_batch(self, docs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Insert logs, skipping ids already stored; returns the documents that were new.

        Rollups are not touched here so that the caller can retry them separately.
        """
        if not docs:
            return []
        try:
            self.logs.insert_many(list(docs), ordered=False)
            return list(docs)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != DUPLICATE_KEY for err in errors):
                raise
            duplicate = {err["index"] for err in errors}
            return [doc for i, doc in enumerate(docs) if i not in duplicate]

    def apply_rollups(self, docs: Iterable[Mapping[str, Any]]) -> None:
        operations = []
        for key, entry in rollup_increments(docs).items():
            operations.append(
                UpdateOne(
                    {"_id": key},
                    {"$inc": entry["inc"], "$setOnInsert": {"bucket": entry["bucket"], **entry["dims"]}},
                    upsert=True,
                )
            )
        if operations:
            self.rollups.bulk_write(operations, ordered=False)

    def write(self, docs: Sequence[Mapping[str, Any]]) -> int:
        """Insert and roll up; returns how many logs were new."""
        fresh = self.insert_batch(docs)
        self.apply_rollups(fresh)
        return len(fresh)

    def rebuild_rollups(self, batch_size: int = 5_000) -> int:
        """Recompute every rollup from the raw logs (repair after a crash between insert and rollup)."""
        self.rollups.delete_many({})
        total = 0
        batch: list[Mapping[str, Any]] = []
        projection = {"created_at": 1, "latency_ms": 1, "ttft_ms": 1, "input_tokens": 1, "output_tokens": 1}
        projection.update({name: 1 for name in ("kind", "provider", "model", "user_id", "status")})
        for doc in self.logs.find({}, projection):
            batch.append(doc)
            if len(batch) >= batch_size:
                self.apply_rollups(batch)
                total += len(batch)
                batch = []
        self.apply_rollups(batch)
        return total + len(batch)

    # Reads ------------------------------------------------------------------

    def count_raw(self, query: Mapping[str, Any] | None = None) -> int:
        return self.logs.count_documents(dict(query or {}))

    def get(self, log_id: str) -> RunLog | None:
        doc = self.logs.find_one({"_id": log_id})
        return RunLog.from_document(doc) if doc else None

    def page(self, flt: RunLogFilter, cursor: PageCursor | None = None, limit: int = 50) -> RunLogPage:
        """Newest-first page of logs older than `cursor`, read through rollup-sized time windows."""
        flt = flt.aligned()
        dims = self._dimension_query(flt)
        lower = flt.start or datetime(1970, 1, 1, tzinfo=UTC)
        upper = _as_utc(cursor.created_at) if cursor else (flt.end or self._newest_bucket_end(dims))
        if upper is None:
            return RunLogPage(items=[], next_cursor=None)
        if flt.end is not None:
            upper = min(upper, flt.end)
        counts = self._hourly_counts(dims, lower, upper)
        items: list[RunLog] = []
        first = True
        while len(items) < limit and upper > lower:
            needed = limit - len(items)
            window_start = self._window_start(counts, upper, lower, needed)
            query: dict[str, Any] = dict(dims)
            time_range = {"$gte": window_start, "$lt": upper}
            if first and cursor is not None:
                # Same-millisecond neighbours of the cursor are split by id.
                query["$or"] = [
                    {"created_at": {"$gte": window_start, "$lt": _as_utc(cursor.created_at)}},
                    {"created_at": _as_utc(cursor.created_at), "_id": {"$lt": cursor.log_id}},
                ]
                time_range["$lte"] = time_range.pop("$lt")
            query["created_at"] = time_range
            found = self.logs.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(needed)
            items.extend(RunLog.from_document(doc) for doc in found)
            upper = window_start
            first = False
        has_more = len(items) == limit and self._any_before(counts, dims, items[-1], lower)
        next_cursor = PageCursor(items[-1].created_at, items[-1].id) if has_more else None
        return RunLogPage(items=items, next_cursor=next_cursor)

    def summary(self, flt: RunLogFilter) -> RunLogSummary:
        accumulator = SummaryAccumulator()
        for rollup in self.rollups.find(self._rollup_query(flt.aligned())):
            accumulator.add(rollup)
        return accumulator.summary()

    def timeseries(self, flt: RunLogFilter, *, by_model: bool = True, bucket: str = "hour") -> list[RunLogBucket]:
        """Per-hour (or per-day) summaries, optionally split by model, oldest first."""
        groups: dict[tuple[datetime, str], SummaryAccumulator] = defaultdict(SummaryAccumulator)
        for rollup in self.rollups.find(self._rollup_query(flt.aligned())):
            start = _as_utc(rollup["bucket"])
            if bucket == "day":
                start = start.replace(hour=0)
            groups[(start, rollup.get("model", "") if by_model else "")].add(rollup)
        return [
            RunLogBucket(start=start, model=model, summary=acc.summary())
            for (start, model), acc in sorted(groups.items())
        ]

    def facets(self) -> RunLogFacets:
        values: dict[str, set[str]] = {"kind": set(), "model": set(), "user_id": set(), "status": set()}
        projection = {name: 1 for name in values}
        for rollup in self.rollups.find({}, projection):
            for name, seen in values.items():
                if rollup.get(name):
                    seen.add(rollup[name])
        return RunLogFacets(
            kinds=sorted(values["kind"]),
            models=sorted(values["model"]),
            user_ids=sorted(values["user_id"]),
            statuses=sorted(values["status"]),
        )

    # Helpers ----------------------------------------------------------------

    @staticmethod
    def _dimension_query(flt: RunLogFilter) -> dict[str, Any]:
        query: dict[str, Any] = {}
        for attr, field_name in _FILTER_FIELDS:
            values = getattr(flt, attr)
            if values:
                query[field_name] = values[0] if len(values) == 1 else {"$in": list(values)}
        return query

    def _rollup_query(self, flt: RunLogFilter) -> dict[str, Any]:
        query = self._dimension_query(flt)
        bucket: dict[str, datetime] = {}
        if flt.start:
            bucket["$gte"] = flt.start
        if flt.end:
            bucket["$lt"] = flt.end
        if bucket:
            query["bucket"] = bucket
        return query

    def _newest_bucket_end(self, dims: Mapping[str, Any]) -> datetime | None:
        newest = self.rollups.find_one(dict(dims), sort=[("bucket", DESCENDING)], projection={"bucket": 1})
        return _as_utc(newest["bucket"]) + HOUR if newest else None

    def _hourly_counts(self, dims: Mapping[str, Any], lower: datetime, upper: datetime) -> list[tuple[datetime, int]]:
        """Counts per hour between lower and upper, newest first, from rollups."""
        query = dict(dims)
        query["bucket"] = {"$gte": floor_hour(lower), "$lt": upper}
        per_hour: dict[datetime, int] = defaultdict(int)
        for rollup in self.rollups.find(query, {"bucket": 1, "count": 1}):
            per_hour[_as_utc(rollup["bucket"])] += int(rollup.get("count", 0))
        return sorted(per_hour.items(), reverse=True)

    @staticmethod
    def _window_start(
        counts: list[tuple[datetime, int]], upper: datetime, lower: datetime, needed: int
    ) -> datetime:
        """The latest start time whose window [start, upper) should hold `needed` logs.

        Within a busy hour the window is cut in proportion, assuming logs spread evenly, with 50% margin;
        if the guess falls short the caller simply asks for the next window.
        """
        remaining = needed
        for hour, count in counts:
            if hour >= upper or count == 0:
                continue
            hour_end = min(hour + HOUR, upper)
            span = hour_end - hour
            if count >= remaining:
                fraction = min(1.0, 1.5 * remaining / count)
                start = hour_end - timedelta(seconds=span.total_seconds() * fraction)
                return max(start, lower, hour)
            remaining -= count
        return lower

    def _any_before(
        self, counts: list[tuple[datetime, int]], dims: Mapping[str, Any], last: RunLog, lower: datetime
    ) -> bool:
        if any(hour < floor_hour(last.created_at) and count for hour, count in counts):
            return True
        query = dict(dims)
        query["$or"] = [
            {"created_at": {"$gte": max(lower, floor_hour(last.created_at)), "$lt": last.created_at}},
            {"created_at": last.created_at, "_id": {"$lt": last.id}},
        ]
        return self.logs.find_one(query, projection={"_id": 1}) is not None
