"""Long runs (playground and eval runs) as the pages show them: their state as an icon, and whether they go on."""

from __future__ import annotations

from typing import Protocol

from workbench.domain.runs import EvalRunStatus, PlaygroundRunStatus
from workbench.services.queued_runs import RunJobs

# Material icons, not emoji: they render the same in every browser (a headless one has no emoji font).
RUN_STATUS_ICONS: dict[str, str] = {
    PlaygroundRunStatus.PENDING: ":material/pause_circle:",
    PlaygroundRunStatus.RUNNING: ":material/progress_activity:",
    PlaygroundRunStatus.STOPPED: ":material/stop_circle:",
    PlaygroundRunStatus.DONE: ":green[:material/check_circle:]",
    EvalRunStatus.COMPLETED: ":green[:material/check_circle:]",
    PlaygroundRunStatus.FAILED: ":red[:material/error:]",
}


class LiveRun(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def live(self) -> bool: ...


def is_live(jobs: RunJobs, run: LiveRun) -> bool:
    """Worked on by the queue's workers (or, for a try, by this process)."""
    return jobs.is_running(run.id) or run.live
