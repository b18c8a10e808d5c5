"""Reading the run log: pages, summary figures and chart series for the Run log page and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from workbench.domain.runlog_query import (
    PageCursor,
    RunLogBucket,
    RunLogFacets,
    RunLogFilter,
    RunLogPage,
    RunLogSummary,
)

PAGE_SIZE_LIMIT = 500
DAILY_BUCKETS_AFTER = timedelta(days=7)


class RunLogReader(Protocol):
    def page(self, flt: RunLogFilter, cursor: PageCursor | None = None, limit: int = 50) -> RunLogPage: ...
    def summary(self, flt: RunLogFilter) -> RunLogSummary: ...
    def timeseries(self, flt: RunLogFilter, *, by_model: bool = True, bucket: str = "hour") -> list[RunLogBucket]: ...
    def facets(self) -> RunLogFacets: ...


@dataclass(frozen=True, slots=True)
class RunLogOverview:
    summary: RunLogSummary
    series: list[RunLogBucket]
    bucket: str  # "hour" or "day"


def browse_run_logs(
    reader: RunLogReader, flt: RunLogFilter, cursor: PageCursor | None = None, limit: int = 50
) -> RunLogPage:
    return reader.page(flt, cursor=cursor, limit=max(1, min(limit, PAGE_SIZE_LIMIT)))


def overview(reader: RunLogReader, flt: RunLogFilter) -> RunLogOverview:
    """Totals plus a per-model time series; long ranges are shown per day so charts stay legible."""
    span = (flt.end - flt.start) if flt.start and flt.end else None
    bucket = "day" if span is None or span > DAILY_BUCKETS_AFTER else "hour"
    return RunLogOverview(summary=reader.summary(flt), series=reader.timeseries(flt, bucket=bucket), bucket=bucket)


def filter_options(reader: RunLogReader) -> RunLogFacets:
    return reader.facets()
