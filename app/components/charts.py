"""What every chart shares: the colours, so one model or series looks the same on every page."""

from __future__ import annotations

PALETTE = ["#4F46E5", "#0EA5E9", "#F59E0B", "#10B981", "#EF4444", "#8B5CF6", "#EC4899", "#64748B"]
