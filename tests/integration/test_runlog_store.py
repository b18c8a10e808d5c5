"""MongoRunLogStore on the real MongoDB-wire server, checked against brute-force recomputation of the raw logs."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from pymongo import MongoClient
from pymongo.database import Database

from tests.conftest import MongoServerHandle
from tests.factories import run_log, run_logs_between, utc
from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.domain.runlog_query import PageCursor, RunLogFilter, ceil_hour, floor_hour
from workbench.storage.runlog.rollups import LATENCY_RATIO
from workbench.storage.runlog.store import MongoRunLogStore

pytestmark = pytest.mark.integration

BUCKET_TOLERANCE = LATENCY_RATIO - 1
T0 = utc(2026, 3, 10)
SAME_MS = T0 + timedelta(hours=20, minutes=13, seconds=7, milliseconds=421)
ON_THE_HOUR = T0 + timedelta(hours=30)


@dataclass
class Dataset:
    store: MongoRunLogStore
    records: dict[str, RunLog]  # by id, as written


def _build_records() -> list[RunLog]:
    rng = random.Random(20260310)
    records = run_logs_between(700, T0, T0 + timedelta(hours=20), rng=rng)
    # Nothing between hour 20:14 and 27: pages must step over empty hours.
    records += run_logs_between(250, T0 + timedelta(hours=27), T0 + timedelta(hours=48), rng=rng)
    records += run_logs_between(150, T0 + timedelta(hours=5), T0 + timedelta(hours=5, minutes=1), rng=rng)  # burst
    records += [run_log(rng=rng, created_at=SAME_MS) for _ in range(120)]  # one millisecond, 120 logs
    records += [run_log(rng=rng, created_at=ON_THE_HOUR) for _ in range(30)]  # exactly on an hour boundary
    records += [run_log(rng=rng, created_at=ON_THE_HOUR - timedelta(milliseconds=1)) for _ in range(10)]
    records += [run_log(rng=rng, created_at=T0, user_id=None, latency_ms=None) for _ in range(5)]
    return records


@pytest.fixture(scope="module")
def dataset(mongo_server: MongoServerHandle) -> Iterator[Dataset]:
    """About 1,300 logs written once for the read tests of this module (they only read)."""
    if mongo_server.server.process is None:
        mongo_server.start()
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_server.url, tz_aware=True, tzinfo=UTC)
    name = f"test_store_{uuid.uuid4().hex[:8]}"
    store = MongoRunLogStore(client[name])
    store.ensure_indexes()
    records = _build_records()
    for start in range(0, len(records), 500):
        store.write([r.to_document() for r in records[start : start + 500]])
    yield Dataset(store=store, records={r.id: r for r in records})
    client.drop_database(name)
    client.close()


@pytest.fixture
def store(mongo_db: Database[Any]) -> MongoRunLogStore:
    """An empty store in a database of its own."""
    store = MongoRunLogStore(mongo_db)
    store.ensure_indexes()
    return store


# Brute force ----------------------------------------------------------------------------------------


def matches(record: RunLog, flt: RunLogFilter) -> bool:
    aligned = flt.aligned()
    return (
        (not aligned.kinds or record.kind.value in aligned.kinds)
        and (not aligned.models or record.model in aligned.models)
        and (not aligned.user_ids or record.user_id in aligned.user_ids)
        and (not aligned.statuses or record.status.value in aligned.statuses)
        and (aligned.start is None or record.created_at >= aligned.start)
        and (aligned.end is None or record.created_at < aligned.end)
    )


def brute_force(data: Dataset, flt: RunLogFilter) -> list[RunLog]:
    chosen = [r for r in data.records.values() if matches(r, flt)]
    return sorted(chosen, key=lambda r: (r.created_at, r.id), reverse=True)


def walk(store: MongoRunLogStore, flt: RunLogFilter, limit: int) -> list[RunLog]:
    items: list[RunLog] = []
    cursor: PageCursor | None = None
    for _ in range(10_000):
        page = store.page(flt, cursor=cursor, limit=limit)
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        assert len(page.items) == limit, "a page that is not full has no next page"
        assert page.next_cursor == PageCursor(page.items[-1].created_at, page.items[-1].id)
        cursor = page.next_cursor
    raise AssertionError("paging did not end")


FILTERS = {
    "everything": RunLogFilter(),
    "one model": RunLogFilter(models=("gpt-4o-mini",)),
    "two models": RunLogFilter(models=("llama3.2:3b", "mistral-small")),
    "failures": RunLogFilter(statuses=("error", "timeout")),
    "one user": RunLogFilter(user_ids=("u-bob",)),
    "retrievals": RunLogFilter(kinds=("retrieval",)),
    "combined": RunLogFilter(kinds=("llm",), models=("qwen2.5:7b",), user_ids=("u-alice", "u-carol")),
    "time range": RunLogFilter(start=T0 + timedelta(hours=4, minutes=17), end=T0 + timedelta(hours=30, minutes=2)),
    "range ending on the hour": RunLogFilter(start=T0 + timedelta(hours=20), end=ON_THE_HOUR),
    "range and model": RunLogFilter(
        models=("llama3.2:3b",), start=T0 + timedelta(hours=19), end=T0 + timedelta(hours=31)
    ),
    "from a start only": RunLogFilter(start=T0 + timedelta(hours=40)),
    "up to an end only": RunLogFilter(end=T0 + timedelta(hours=5, seconds=30)),
    "nothing matches": RunLogFilter(models=("no-such-model",)),
    "empty range": RunLogFilter(start=T0 + timedelta(hours=23), end=T0 + timedelta(hours=25)),
}  # fmt: skip


# Writes and indexes --------------------------------------------------------------------------------


def test_ensure_indexes_is_idempotent(store: MongoRunLogStore) -> None:
    store.ensure_indexes()
    names = set(store.logs.index_information())
    assert {"_id_", "created_at_desc", "kind_created_at", "model_created_at", "user_created_at",
            "status_created_at", "run_id", "conversation_created_at"} <= names  # fmt: skip
    assert "bucket_desc" in store.rollups.index_information()


def test_write_ignores_duplicates(store: MongoRunLogStore) -> None:
    records = [run_log() for _ in range(200)]
    docs = [r.to_document() for r in records]

    assert store.write(docs[:150]) == 150
    assert store.write(docs[100:]) == 50  # 50 already there
    assert store.write(docs) == 0

    assert store.count_raw() == 200
    assert store.summary(RunLogFilter()).count == 200  # rolled up once each
    assert store.get(records[42].id) == records[42]
    assert store.get("missing") is None


def test_insert_batch_returns_only_new_documents(store: MongoRunLogStore) -> None:
    docs = [run_log().to_document() for _ in range(10)]
    store.insert_batch(docs[:4])
    fresh = store.insert_batch(docs)
    assert [d["_id"] for d in fresh] == [d["_id"] for d in docs[4:]]
    assert store.insert_batch([]) == []


# Pages ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_pages_walk_every_log_once_in_order(dataset: Dataset, name: str) -> None:
    flt = FILTERS[name]
    expected = brute_force(dataset, flt)
    got = walk(dataset.store, flt, limit=50)
    assert [r.id for r in got] == [r.id for r in expected]
    assert got == expected  # whole records survive the round trip


@pytest.mark.parametrize(("name", "limit"), [("everything", 500), ("range ending on the hour", 7),
                                             ("one user", 13), ("combined", 9)])  # fmt: skip
def test_pages_with_other_sizes(dataset: Dataset, name: str, limit: int) -> None:
    flt = FILTERS[name]
    assert [r.id for r in walk(dataset.store, flt, limit)] == [r.id for r in brute_force(dataset, flt)]


def test_same_millisecond_logs_are_split_by_id_across_pages(dataset: Dataset) -> None:
    flt = RunLogFilter(start=SAME_MS, end=SAME_MS)  # the hour holding the 150 same-millisecond logs
    expected = brute_force(dataset, flt)
    same = [r for r in expected if r.created_at == SAME_MS]
    assert len(same) >= 120

    got = walk(dataset.store, flt, limit=11)

    assert [r.id for r in got] == [r.id for r in expected]
    assert len({r.id for r in got}) == len(got)


def test_page_starting_from_a_cursor_in_the_middle(dataset: Dataset) -> None:
    expected = brute_force(dataset, RunLogFilter())
    middle = expected[734]
    page = dataset.store.page(RunLogFilter(), cursor=PageCursor(middle.created_at, middle.id), limit=40)
    assert [r.id for r in page.items] == [r.id for r in expected[735:775]]


def test_first_page_is_the_newest(dataset: Dataset) -> None:
    page = dataset.store.page(RunLogFilter(), limit=5)
    newest = brute_force(dataset, RunLogFilter())[:5]
    assert page.items == newest
    assert page.next_cursor is not None


@pytest.mark.timeout(60)
def test_paging_out_of_a_busy_hour_whose_older_part_is_sparse(store: MongoRunLogStore) -> None:
    """Regression: windows used to shrink geometrically inside such an hour and page() never returned."""
    rng = random.Random(3)
    hour = utc(2026, 1, 1, 10)
    records = run_logs_between(200, hour + timedelta(minutes=30), hour + timedelta(minutes=59), rng=rng)
    records += run_logs_between(5, hour, hour + timedelta(minutes=5), rng=rng)
    records += run_logs_between(60, hour - timedelta(hours=1), hour, rng=rng)
    store.write([r.to_document() for r in records])
    data = Dataset(store=store, records={r.id: r for r in records})

    assert [r.id for r in walk(store, RunLogFilter(), limit=50)] == [r.id for r in brute_force(data, RunLogFilter())]


def test_empty_store_has_an_empty_page(store: MongoRunLogStore) -> None:
    page = store.page(RunLogFilter())
    assert page.items == []
    assert page.next_cursor is None


# Summary, time series, facets ----------------------------------------------------------------------------


SUMMARY_FILTERS = ["everything", "one model", "failures", "one user", "time range", "range and model", "retrievals"]


@pytest.mark.parametrize("name", SUMMARY_FILTERS)
def test_summary_equals_a_raw_recomputation(dataset: Dataset, name: str) -> None:
    flt = FILTERS[name]
    chosen = brute_force(dataset, flt)
    latencies = np.array([r.latency_ms for r in chosen if r.latency_ms is not None])
    ttfts = [r.ttft_ms for r in chosen if r.ttft_ms is not None]

    summary = dataset.store.summary(flt)

    assert summary.count == len(chosen)
    assert summary.errors == sum(1 for r in chosen if r.status != RunStatus.OK)
    assert summary.input_tokens == sum(r.input_tokens or 0 for r in chosen)
    assert summary.output_tokens == sum(r.output_tokens or 0 for r in chosen)
    assert summary.latency_mean_ms == pytest.approx(latencies.mean())
    assert summary.ttft_mean_ms == (pytest.approx(np.mean(ttfts)) if ttfts else None)
    assert summary.latency_p50_ms == pytest.approx(np.percentile(latencies, 50), rel=BUCKET_TOLERANCE)
    assert summary.latency_p95_ms == pytest.approx(np.percentile(latencies, 95), rel=BUCKET_TOLERANCE)


def test_summary_of_nothing(dataset: Dataset) -> None:
    summary = dataset.store.summary(FILTERS["nothing matches"])
    assert (summary.count, summary.latency_p50_ms, summary.error_rate) == (0, None, 0.0)


@pytest.mark.parametrize("bucket", ["hour", "day"])
@pytest.mark.parametrize("name", ["everything", "time range", "one model"])
def test_timeseries_buckets_add_up(dataset: Dataset, name: str, bucket: str) -> None:
    flt = FILTERS[name]
    chosen = brute_force(dataset, flt)

    def start_of(moment: datetime) -> datetime:
        hour = floor_hour(moment)
        return hour.replace(hour=0) if bucket == "day" else hour

    series = dataset.store.timeseries(flt, bucket=bucket)
    assert {(b.start, b.model): b.summary.count for b in series} == dict(
        Counter((start_of(r.created_at), r.model) for r in chosen)
    )
    assert sum(b.summary.count for b in series) == dataset.store.summary(flt).count == len(chosen)
    assert series == sorted(series, key=lambda b: (b.start, b.model))

    merged = dataset.store.timeseries(flt, bucket=bucket, by_model=False)
    assert {b.model for b in merged} == {""}
    assert {b.start: b.summary.count for b in merged} == dict(Counter(start_of(r.created_at) for r in chosen))


def test_facets_list_the_values_present(dataset: Dataset) -> None:
    records = dataset.records.values()
    facets = dataset.store.facets()
    assert facets.kinds == sorted({r.kind.value for r in records})
    assert facets.models == sorted({r.model for r in records})
    assert facets.user_ids == sorted({r.user_id for r in records if r.user_id})
    assert facets.statuses == sorted({r.status.value for r in records})


def test_time_filters_are_aligned_to_whole_hours(dataset: Dataset) -> None:
    flt = FILTERS["time range"]
    aligned = flt.aligned()
    assert aligned.start == T0 + timedelta(hours=4)
    assert aligned.end == ceil_hour(T0 + timedelta(hours=30, minutes=2)) == T0 + timedelta(hours=31)
    assert dataset.store.summary(flt).count == dataset.store.summary(aligned).count


# Rebuild --------------------------------------------------------------------------------------------------


def _rollups(store: MongoRunLogStore) -> dict[str, dict[str, Any]]:
    return {doc.pop("_id"): doc for doc in store.rollups.find({})}


def test_rebuild_rollups_reproduces_the_rollups(store: MongoRunLogStore) -> None:
    rng = random.Random(5)
    records = run_logs_between(800, T0, T0 + timedelta(hours=30), rng=rng)
    records += [run_log(rng=rng, kind=RunKind.EVAL, created_at=T0, latency_ms=None, user_id=None) for _ in range(7)]
    for start in range(0, len(records), 400):
        store.write([r.to_document() for r in records[start : start + 400]])
    before = _rollups(store)

    assert store.rebuild_rollups(batch_size=256) == len(records)

    after = _rollups(store)
    assert after.keys() == before.keys()
    for key, doc in before.items():
        rebuilt = after[key]
        assert rebuilt.keys() == doc.keys(), key
        for field, value in doc.items():
            if isinstance(value, float):
                assert rebuilt[field] == pytest.approx(value), (key, field)
            else:
                assert rebuilt[field] == value, (key, field)


def test_rebuild_rollups_repairs_logs_that_were_never_rolled_up(store: MongoRunLogStore) -> None:
    docs = [run_log().to_document() for _ in range(120)]
    store.write(docs[:20])
    store.insert_batch(docs[20:])  # a crash between insert and rollup
    assert store.summary(RunLogFilter()).count == 20

    store.rebuild_rollups()

    assert store.summary(RunLogFilter()).count == 120
