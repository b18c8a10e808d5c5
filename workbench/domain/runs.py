"""Where a resumable run and each piece of its work stand: playground runs and cells, eval runs and results.

The values are the strings stored in SQL; a StrEnum member compares equal to its stored string, so rows read back
compare with members directly. A playground run ends `done` and an eval run `completed`: two enums, so neither
can be given the other's ending. (A model call's run-log status is `workbench.domain.runlog.RunStatus`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class PlaygroundRunStatus(StrEnum):
    PENDING = "pending"  # stored, never started
    RUNNING = "running"  # dispatched: its tasks are queued or being worked
    STOPPED = "stopped"  # stopped before every cell was done: resumable
    FAILED = "failed"  # the runner failed; `error` says why: resumable
    DONE = "done"  # every cell stored


class EvalRunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"
    COMPLETED = "completed"  # every item answered and scored (or failed), final summaries written


class CellStatus(StrEnum):
    """One playground cell: a variant's answer to one input row."""

    OK = "ok"
    ERROR = "error"  # the template or the model failed
    TIMEOUT = "timeout"


class ResultStatus(StrEnum):
    """One eval item's answer (its scores have their own ScoreStatus)."""

    OK = "ok"
    FAILED = "failed"  # no answer: retrieval, the prompt or the model failed


class RunBeingWorked(Exception):
    """Mixed into each run service's RunBusy: a start refused because the run holds a dispatch already."""


def quiet_for(last_stored: datetime | None, dispatched_at: datetime | None, now: datetime, span: timedelta) -> bool:
    """A dispatched run has stored nothing for `span`, counted from its last stored unit or, before the first,
    from when the dispatch began (a reconciler sends such a run's missing units again)."""
    last = max(filter(None, [last_stored, dispatched_at]), default=None)
    return last is None or now - last >= span


@dataclass(frozen=True)
class Dispatch:
    """One start (or resume) of a run: its id, held by the run while it is worked, and the units of work sent as
    tasks (each a list of task arguments after the run and dispatch ids: an eval item's id, a playground cell's
    row and variant position)."""

    run_id: str
    id: str
    units: list[list[Any]] = field(default_factory=list)
