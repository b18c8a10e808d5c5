"""What a playground run refuses to do, in words that say what to do instead."""

from __future__ import annotations

from workbench.domain.runs import RunBeingWorked


class PlaygroundError(ValueError):
    """A run that cannot be created or started as asked; the message says what to do."""


class RunBusy(PlaygroundError, RunBeingWorked):
    """The run is being worked already (by queue workers or another process)."""
