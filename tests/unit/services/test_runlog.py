from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests.factories import utc
from workbench.domain.runlog_query import (
    PageCursor,
    RunLogBucket,
    RunLogFacets,
    RunLogFilter,
    RunLogPage,
    RunLogSummary,
)
from workbench.services import runlog as svc


@dataclass
class RecordingReader:
    """A RunLogReader that answers fixed values and remembers what it was asked."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def page(self, flt: RunLogFilter, cursor: PageCursor | None = None, limit: int = 50) -> RunLogPage:
        self.calls.append(("page", {"flt": flt, "cursor": cursor, "limit": limit}))
        return RunLogPage(items=[], next_cursor=None)

    def summary(self, flt: RunLogFilter) -> RunLogSummary:
        self.calls.append(("summary", {"flt": flt}))
        return RunLogSummary(count=3, errors=1)

    def timeseries(self, flt: RunLogFilter, *, by_model: bool = True, bucket: str = "hour") -> list[RunLogBucket]:
        self.calls.append(("timeseries", {"flt": flt, "by_model": by_model, "bucket": bucket}))
        return [RunLogBucket(start=utc(2026, 1, 1), model="m", summary=RunLogSummary(count=3))]

    def overview(
        self, flt: RunLogFilter, bucket: str = "hour"
    ) -> tuple[RunLogSummary, list[RunLogBucket], list[RunLogBucket]]:
        self.calls.append(("overview", {"flt": flt, "bucket": bucket}))
        series = [RunLogBucket(start=utc(2026, 1, 1), model="m", summary=RunLogSummary(count=3))]
        return RunLogSummary(count=3, errors=1), series, series

    def facets(self) -> RunLogFacets:
        self.calls.append(("facets", {}))
        return RunLogFacets(kinds=["llm"], models=["m"], user_ids=[], statuses=["ok"])


@pytest.mark.parametrize(("asked", "sent"), [(0, 1), (-5, 1), (50, 50), (10_000, svc.PAGE_SIZE_LIMIT)])
def test_browse_clamps_the_page_size(asked: int, sent: int) -> None:
    reader = RecordingReader()
    cursor = PageCursor(utc(2026, 1, 1), "abc")
    svc.browse_run_logs(reader, RunLogFilter(models=("m",)), cursor=cursor, limit=asked)
    [(name, args)] = reader.calls
    assert name == "page"
    assert args["limit"] == sent
    assert args["cursor"] == cursor


@pytest.mark.parametrize(
    ("span", "bucket"),
    [(None, "day"), (timedelta(hours=6), "hour"), (timedelta(hours=48), "hour"), (timedelta(days=3), "day")],
)
def test_overview_picks_hourly_buckets_for_short_ranges(span: timedelta | None, bucket: str) -> None:
    reader = RecordingReader()
    start = utc(2026, 3, 1)
    flt = RunLogFilter(start=start, end=start + span) if span else RunLogFilter()

    result = svc.overview(reader, flt)

    assert result.bucket == bucket
    assert result.summary.count == 3
    assert result.summary.error_rate == pytest.approx(1 / 3)
    assert reader.calls == [("overview", {"flt": flt, "bucket": bucket})]  # one read serves all three


def test_filter_options_come_from_facets() -> None:
    assert svc.filter_options(RecordingReader()).models == ["m"]
