"""Filters, pages and summaries of run logs, as the Run log page and the CLI ask for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from workbench.domain.runlog import RunLog

HOUR = timedelta(hours=1)


def floor_hour(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment.astimezone(UTC) else floored + HOUR


@dataclass(frozen=True, slots=True)
class RunLogFilter:
    """Which logs to show. Times have hour resolution so that counts and charts come from rollups."""

    kinds: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None  # inclusive, floored to the hour
    end: datetime | None = None  # exclusive, raised to the next hour

    def aligned(self) -> RunLogFilter:
        return RunLogFilter(
            kinds=self.kinds,
            models=self.models,
            user_ids=self.user_ids,
            statuses=self.statuses,
            start=floor_hour(self.start) if self.start else None,
            end=ceil_hour(self.end) if self.end else None,
        )


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Keyset position: the page continues strictly after (older than) this record."""

    created_at: datetime
    log_id: str


@dataclass(frozen=True, slots=True)
class RunLogPage:
    items: list[RunLog]
    next_cursor: PageCursor | None  # None when there is nothing older


@dataclass(slots=True)
class RunLogSummary:
    count: int = 0
    errors: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_mean_ms: float | None = None
    ttft_mean_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0


@dataclass(slots=True)
class RunLogBucket:
    """One point of the time series: an hour (or a day), optionally per model."""

    start: datetime
    model: str
    summary: RunLogSummary = field(default_factory=RunLogSummary)


@dataclass(frozen=True, slots=True)
class RunLogFacets:
    """Values offered in the filter widgets, read from rollups (cheap) rather than raw logs."""

    kinds: list[str]
    models: list[str]
    user_ids: list[str]
    statuses: list[str]
