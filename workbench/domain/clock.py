"""The one clock: aware UTC datetimes everywhere (SQL columns refuse naive ones)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
