"""Reading the run log: pages, summary figures and chart series for the Run log page and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from pymongo.errors import PyMongoError

from workbench.domain.runlog_query import (
    PageCursor,
    RunLogBucket,
    RunLogFacets,
    RunLogFilter,
    RunLogPage,
    RunLogSummary,
)

PAGE_SIZE_LIMIT = 500
T = TypeVar("T")


class RunLogUnavailable(RuntimeError):
    """The run-log database did not answer; the message says what to do."""


def reading(call: Callable[[], T]) -> T:
    """The answer of a read of the run-log database, or RunLogUnavailable saying what to do when it is away."""
    try:
        return call()
    except PyMongoError as exc:
        raise RunLogUnavailable(
            "The run-log database is not reachable right now "
            f"({type(exc).__name__}). New logs are kept in the local spool and appear once it is back; "
            "check WORKBENCH_MONGODB_URL or restart the app to restart the embedded server."
        ) from exc


HOURLY_UP_TO = timedelta(hours=48)


class RunLogReader(Protocol):
    def page(self, flt: RunLogFilter, cursor: PageCursor | None = None, limit: int = 50) -> RunLogPage: ...
    def summary(self, flt: RunLogFilter) -> RunLogSummary: ...
    def timeseries(self, flt: RunLogFilter, *, by_model: bool = True, bucket: str = "hour") -> list[RunLogBucket]: ...
    def overview(
        self, flt: RunLogFilter, bucket: str = "hour"
    ) -> tuple[RunLogSummary, list[RunLogBucket], list[RunLogBucket]]: ...
    def facets(self) -> RunLogFacets: ...


@dataclass(frozen=True, slots=True)
class RunLogOverview:
    summary: RunLogSummary
    series: list[RunLogBucket]  # per bucket and model
    overall: list[RunLogBucket]  # per bucket, all models together (latency percentiles merge histograms)
    bucket: str  # "hour" or "day"


def browse_run_logs(
    reader: RunLogReader, flt: RunLogFilter, cursor: PageCursor | None = None, limit: int = 50
) -> RunLogPage:
    size = max(1, min(limit, PAGE_SIZE_LIMIT))
    return reading(lambda: reader.page(flt, cursor=cursor, limit=size))


def overview(reader: RunLogReader, flt: RunLogFilter) -> RunLogOverview:
    """Totals plus per-model and overall time series; ranges over two days are shown per day."""
    span = ((flt.end or datetime.now(UTC)) - flt.start) if flt.start else None
    bucket = "day" if span is None or span > HOURLY_UP_TO else "hour"

    def read() -> RunLogOverview:
        summary, series, overall = reader.overview(flt, bucket)
        return RunLogOverview(summary=summary, series=series, overall=overall, bucket=bucket)

    return reading(read)


def filter_options(reader: RunLogReader) -> RunLogFacets:
    return reading(reader.facets)
