"""What a playground run refuses to do, in words that say what to do instead."""

from __future__ import annotations


class PlaygroundError(ValueError):
    """A run that cannot be created or started as asked; the message says what to do."""


class RunBusy(PlaygroundError):
    """Another runner holds the run's lease."""
