"""The run-log repository over MongoDB: raw logs in `run_logs`, hourly rollups in `run_log_rollups`, and one
small document in `run_log_meta` (time bounds and the values seen, for paging and the filter widgets).

Reads follow what the MongoDB-wire server does cheaply: a sort+limit reads every matching document before
limiting, so pages are fetched in bounded time windows sized from the rollups, and counts and charts come
from rollups only. Its planner also matters: it serves a filter from one index, either a compound index
whose leading equalities and one trailing range cover the whole filter, or else the index of the FIRST
filter field that has one, every other clause being checked document by document. Raw-log queries
therefore name `created_at` first, and filters on several fields are read through one field's compound
index per value (see `_read_window`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
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
from workbench.storage.runlog.rollup_reader import RollupReader, touched_days_update
from workbench.storage.runlog.rollups import FILTER_FIELDS, as_query, as_utc, rollup_increments, wanted_values
from workbench.storage.runlog.traces import TraceStore

DUPLICATE_KEY = 11000

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
META_ID = "bounds"
_FACETS = tuple(field_name for _, field_name in FILTER_FIELDS)
_FIRST_CHUNK = timedelta(hours=6)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MongoRunLogStore:
    """Repository for run logs. Thread-safe (pymongo clients are); holds no per-request state."""

    def __init__(self, database: Database[Any]) -> None:
        self._db = database
        self.logs: Collection[Any] = database["run_logs"]
        self.rollups: Collection[Any] = database["run_log_rollups"]
        self.meta: Collection[Any] = database["run_log_meta"]
        self.daily_rollups: Collection[Any] = database["run_log_rollups_daily"]
        self._reader = RollupReader(self.rollups, self.daily_rollups, self.meta, META_ID)

    def ensure_indexes(self) -> None:
        self.logs.create_indexes(RUN_LOG_INDEXES)
        self.rollups.create_indexes(ROLLUP_INDEXES)
        self._reader.ensure_indexes()

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

    def insert_spans(self, docs: Sequence[Mapping[str, Any]]) -> None:
        """Trace spans (the chat's own, through the writer); keyed, so spans already stored are skipped."""
        TraceStore(self._db).add(docs)

    def apply_rollups(self, docs: Iterable[Mapping[str, Any]]) -> None:
        increments = rollup_increments(docs)
        if not increments:
            return
        # Meta first: its $min/$max/$addToSet are idempotent, so a retry after a failed rollup write is harmless.
        meta_update = _meta_update(increments.values())
        buckets = [entry["bucket"] for entry in increments.values()]
        meta_update["$max"].update(touched_days_update(buckets, datetime.now(UTC)))
        self.meta.update_one({"_id": META_ID}, meta_update, upsert=True)
        operations = [
            UpdateOne(
                {"_id": key},
                {"$inc": entry["inc"], "$setOnInsert": {"bucket": entry["bucket"], **entry["dims"]}},
                upsert=True,
            )
            for key, entry in increments.items()
        ]
        self.rollups.bulk_write(operations, ordered=False)

    def write(self, docs: Sequence[Mapping[str, Any]]) -> int:
        """Insert and roll up; returns how many logs were new."""
        fresh = self.insert_batch(docs)
        self.apply_rollups(fresh)
        return len(fresh)

    def rebuild_rollups(self, batch_size: int = 5_000) -> int:
        """Recompute every rollup from the raw logs (repair after a crash between insert and rollup)."""
        self.rollups.delete_many({})
        self.meta.delete_many({})
        self._reader.clear()
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
        self.meta.update_one({"_id": META_ID}, {"$set": {"complete": True}}, upsert=True)
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
        meta = self._meta()
        if "newest" not in meta:
            return RunLogPage(items=[], next_cursor=None)
        wanted = wanted_values(flt)
        lower = flt.start or _EPOCH
        upper = as_utc(cursor.created_at) if cursor else (flt.end or as_utc(meta["newest"]) + HOUR)
        if flt.end is not None:
            upper = min(upper, flt.end)
        counts = _HourlyCounts(self.rollups, wanted, max(lower, as_utc(meta["oldest"])), upper)
        items: list[RunLog] = []
        if cursor is not None and lower <= as_utc(cursor.created_at) == upper:
            # Same-millisecond neighbours of the cursor are split by id. A separate equality query rather than
            # an $or: the MongoDB-wire server scans the whole collection for any $or.
            same = {"created_at": upper, "_id": {"$lt": cursor.log_id}, **as_query(wanted)}
            items.extend(RunLog.from_document(doc) for doc in self.logs.find(same).sort(_NEWEST_FIRST).limit(limit))
        while len(items) < limit and upper > lower:
            needed = limit - len(items)
            window_start = self._window_start(counts, upper, lower, needed)
            items.extend(self._read_window(wanted, counts, window_start, upper, needed))
            upper = window_start
        has_more = len(items) == limit and self._any_before(counts, wanted, items[-1], lower)
        next_cursor = PageCursor(items[-1].created_at, items[-1].id) if has_more else None
        return RunLogPage(items=items, next_cursor=next_cursor)

    def summary(self, flt: RunLogFilter) -> RunLogSummary:
        return self._reader.summary(flt)

    def timeseries(self, flt: RunLogFilter, *, by_model: bool = True, bucket: str = "hour") -> list[RunLogBucket]:
        """Per-hour (or per-day) summaries, optionally split by model, oldest first."""
        return self._reader.timeseries(flt, by_model=by_model, bucket=bucket)

    def overview(
        self, flt: RunLogFilter, bucket: str = "hour"
    ) -> tuple[RunLogSummary, list[RunLogBucket], list[RunLogBucket]]:
        """Summary, per-model series and all-models series in one read of the rollups."""
        return self._reader.overview(flt, bucket)

    def facets(self) -> RunLogFacets:
        meta = self._meta()
        return RunLogFacets(
            kinds=sorted(meta.get("kind", [])),
            models=sorted(meta.get("model", [])),
            user_ids=sorted(meta.get("user_id", [])),
            statuses=sorted(meta.get("status", [])),
        )

    # Helpers ----------------------------------------------------------------

    def _meta(self) -> Mapping[str, Any]:
        """Time bounds and facet values; rollups written before this document existed are folded in once."""
        meta: Mapping[str, Any] | None = self.meta.find_one({"_id": META_ID})
        if meta is not None and meta.get("complete"):
            return meta
        projection = {name: 1 for name in ("bucket", *_FACETS)}
        entries = [
            {"bucket": as_utc(rollup["bucket"]), "dims": {name: rollup.get(name) or "" for name in _FACETS}}
            for rollup in self.rollups.find({}, projection)
        ]
        update = _meta_update(entries) if entries else {}
        update["$set"] = {"complete": True}
        healed = self.meta.find_one_and_update(
            {"_id": META_ID}, update, upsert=True, return_document=ReturnDocument.AFTER
        )
        return healed or {}

    def _read_window(
        self, wanted: Mapping[str, tuple[str, ...]], counts: _HourlyCounts, start: datetime, end: datetime, limit: int
    ) -> list[RunLog]:
        """The newest `limit` matching logs in [start, end)."""
        window = {"$gte": start, "$lt": end}
        if len(wanted) <= 1 and all(len(values) == 1 for values in wanted.values()):
            # No filter, or one field with one value: the created_at or (field, created_at) index serves it.
            query = {"created_at": window, **as_query(wanted)}
            return [RunLog.from_document(doc) for doc in self.logs.find(query).sort(_NEWEST_FIRST).limit(limit)]
        # Several fields, or several values: no single index covers the filter, and the server would fall back to
        # one field's index over all time. Read the window through the field that matches the fewest logs in it,
        # one bounded (field, created_at) lookup per value, and check the other fields here.
        field = counts.cheapest_field(start, end)
        others = [(name, values) for name, values in wanted.items() if name != field]
        found = [
            doc
            for value in wanted[field]
            for doc in self.logs.find({field: value, "created_at": window})
            if all(doc.get(name) in values for name, values in others)
        ]
        found.sort(key=lambda doc: (doc["created_at"], doc["_id"]), reverse=True)
        return [RunLog.from_document(doc) for doc in found[:limit]]

    @staticmethod
    def _window_start(
        counts: Iterable[tuple[datetime, int]], upper: datetime, lower: datetime, needed: int
    ) -> datetime:
        """The latest start time whose window [start, upper) should hold `needed` logs.

        Within a busy hour the window is cut in proportion, assuming logs spread evenly, with 50% margin;
        if the guess falls short the caller simply asks for the next window.
        """
        remaining: float = needed
        for hour, count in counts:
            if hour >= upper or count == 0:
                continue
            hour_end = min(hour + HOUR, upper)
            span = hour_end - hour
            # Only the part of the hour below `upper` is left to read: its share of the hour's count.
            in_span = count * (span / HOUR)
            if in_span >= remaining:
                fraction = min(1.0, 1.5 * remaining / in_span)
                start = hour_end - timedelta(seconds=span.total_seconds() * fraction)
                return max(start, lower, hour)
            remaining -= in_span
        return lower

    def _any_before(
        self, counts: _HourlyCounts, wanted: Mapping[str, tuple[str, ...]], last: RunLog, lower: datetime
    ) -> bool:
        last_hour = floor_hour(last.created_at)
        if any(hour < last_hour and count for hour, count in counts):  # reads older rollups only until one is found
            return True
        # Two lookups bounded by created_at rather than one $or, which the MongoDB-wire server answers with a full
        # scan; created_at first so that a filter no compound index covers still rides the created_at index.
        dims = as_query(wanted)
        older = {"created_at": {"$gte": max(lower, last_hour), "$lt": last.created_at}, **dims}
        same = {"created_at": last.created_at, "_id": {"$lt": last.id}, **dims}
        return any(self.logs.find_one(query, projection={"_id": 1}) is not None for query in (older, same))


_NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]


def _meta_update(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """$min/$max/$addToSet update folding rollup entries ({"bucket": hour, "dims": {...}}) into the meta document."""
    entries = list(entries)
    buckets = [entry["bucket"] for entry in entries]
    seen = {name: sorted({entry["dims"].get(name) or "" for entry in entries} - {""}) for name in _FACETS}
    return {
        "$min": {"oldest": min(buckets)},
        "$max": {"newest": max(buckets)},
        "$addToSet": {name: {"$each": values} for name, values in seen.items()},
    }


# Which field to read a multi-field window through when no index covers the whole filter: the one likely to
# match the fewest logs. Failures are rare, a user is one of many, a model one of a few, a kind one of four.
_SELECTIVITY = ("status", "user_id", "model", "kind")


class _HourlyCounts:
    """Matching logs per hour from the rollups, newest first, read a chunk at a time and only as far back as asked.

    Chunks start at a few hours and double, so a busy filter reads only the hours it pages through and a sparse
    one reaches far back in a few reads. The whole filter is sent to the server, so only matching rollups travel.
    """

    def __init__(
        self, rollups: Collection[Any], wanted: Mapping[str, tuple[str, ...]], floor: datetime, upper: datetime
    ) -> None:
        self._rollups = rollups
        self._wanted = wanted
        self._floor = floor_hour(floor)
        self._next_end = upper  # exclusive end of the next chunk to read
        self._span = _FIRST_CHUNK
        self._hours: list[tuple[datetime, int]] = []

    def __iter__(self) -> Iterator[tuple[datetime, int]]:
        index = 0
        while True:
            while index < len(self._hours):
                yield self._hours[index]
                index += 1
            if not self._read_chunk():
                return

    def cheapest_field(self, start: datetime, end: datetime) -> str:
        """The filter field to read a window through (see _SELECTIVITY); an all-'ok' status filter is not rare."""
        ranked = [name for name in _SELECTIVITY if name in self._wanted]
        if ranked[0] == "status" and set(self._wanted["status"]) == {"ok"} and len(ranked) > 1:
            return ranked[1]
        return ranked[0]

    def _read_chunk(self) -> bool:
        if self._next_end <= self._floor:
            return False
        start = max(self._floor, floor_hour(self._next_end - self._span))
        # `bucket` first: the server serves a query from the index of its first indexed field.
        query: dict[str, Any] = {"bucket": {"$gte": start, "$lt": self._next_end}, **as_query(self._wanted)}
        per_hour: dict[datetime, int] = defaultdict(int)
        for rollup in self._rollups.find(query, {"bucket": 1, "count": 1}):
            per_hour[as_utc(rollup["bucket"])] += int(rollup.get("count", 0))
        self._hours.extend(sorted(per_hour.items(), reverse=True))
        self._next_end = start
        self._span *= 2
        return True
