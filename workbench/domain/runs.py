"""Where a resumable run and each piece of its work stand: playground runs and cells, eval runs and results.

The values are the strings stored in SQL; a StrEnum member compares equal to its stored string, so rows read back
compare with members directly. A playground run ends `done` and an eval run `completed`: two enums, so neither
can be given the other's ending. (A model call's run-log status is `workbench.domain.runlog.RunStatus`.)
"""

from __future__ import annotations

from enum import StrEnum


class PlaygroundRunStatus(StrEnum):
    PENDING = "pending"  # stored, never started
    RUNNING = "running"  # a runner holds (or held, until its lease ends) the run
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
