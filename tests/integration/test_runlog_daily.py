"""Daily rollups: whole finished days are read from daily documents built from the hourly ones, and rebuilt
when a late write (a spool replay) touches a day that was already built."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from tests.factories import run_log, run_logs_between, to_millis
from workbench.domain.runlog_query import RunLogFilter
from workbench.storage.runlog.store import MongoRunLogStore

pytestmark = pytest.mark.integration


@pytest.fixture
def store(mongo_db: Database[Any]) -> MongoRunLogStore:
    store = MongoRunLogStore(mongo_db)
    store.ensure_indexes()
    return store


def _days_ago(days: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


def test_multi_day_summaries_match_raw_and_follow_late_writes(store: MongoRunLogStore) -> None:
    rng = random.Random(11)
    logs = run_logs_between(600, _days_ago(5) + timedelta(hours=3), datetime.now(UTC), rng=rng)
    store.write([log.to_document() for log in logs])
    ranges = {
        "all time": RunLogFilter(),
        "from mid-day 4 days ago": RunLogFilter(start=_days_ago(4) + timedelta(hours=13)),
        "two whole days": RunLogFilter(start=_days_ago(3), end=_days_ago(1)),
        "one model": RunLogFilter(models=(logs[0].model,)),
    }
    for name, flt in ranges.items():
        aligned = flt.aligned()
        expected = [
            log
            for log in logs
            if (aligned.start is None or log.created_at >= aligned.start)
            and (aligned.end is None or log.created_at < aligned.end)
            and (not flt.models or log.model in flt.models)
        ]
        summary = store.summary(flt)
        assert summary.count == len(expected), name
        assert summary.input_tokens == sum(log.input_tokens or 0 for log in expected), name
        _, per_model, overall = store.overview(flt, "day")
        assert sum(b.summary.count for b in per_model) == len(expected), name
        assert sum(b.summary.count for b in overall) == len(expected), name
    assert store.daily_rollups.count_documents({"_id": {"$regex": "^built"}}) >= 4

    # A late write into a day whose daily rollups exist is picked up on the next read.
    late = [run_log(created_at=to_millis(_days_ago(3) + timedelta(hours=7)), input_tokens=5) for _ in range(9)]
    store.write([log.to_document() for log in late])
    assert store.summary(RunLogFilter(start=_days_ago(3), end=_days_ago(2))).count == 9 + sum(
        1 for log in logs if _days_ago(3) <= log.created_at < _days_ago(2)
    )
    assert store.summary(RunLogFilter()).count == len(logs) + 9


def test_rebuild_rollups_clears_daily_rollups_too(store: MongoRunLogStore) -> None:
    logs = run_logs_between(50, _days_ago(3), _days_ago(1), rng=random.Random(3))
    store.write([log.to_document() for log in logs])
    assert store.summary(RunLogFilter()).count == 50
    store.rebuild_rollups()
    assert store.summary(RunLogFilter()).count == 50
