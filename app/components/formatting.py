"""Numbers, times and text as the pages write them."""

from __future__ import annotations

import math
from datetime import datetime

DASH = "–"  # a figure that is missing, undefined (NaN) or does not apply


def format_ms(value: float | None) -> str:
    if value is None:
        return DASH
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.0f} ms"


def format_count(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.1f}k"
    return f"{value:,}"


def when(moment: datetime) -> str:
    """A time to the minute; the pages say UTC next to it."""
    return moment.strftime("%Y-%m-%d %H:%M")


def stat(value: float | None, digits: int = 3) -> str:
    """A statistic, or a dash when it is undefined (NaN) or does not apply (None)."""
    if value is None or math.isnan(value):
        return DASH
    return f"{value:.{digits}f}"


def share(value: float | None, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return DASH
    return f"{value:.{digits}%}"


def shorten(text: str, limit: int) -> str:
    """On one line, and cut at `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
