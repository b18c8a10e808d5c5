"""An eval run as pages, reports and the CLI see it: its pinned configuration, progress and where it stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.domain.runs import EvalRunStatus
from workbench.storage.sql.models import EvalRunRow


@dataclass(frozen=True, slots=True)
class RunView:
    id: str
    name: str
    dataset: str
    dataset_version: int
    version_id: str
    config: dict[str, Any]
    config_hash: str
    repeat: int
    tags: tuple[str, ...]
    status: EvalRunStatus
    item_count: int
    done_count: int
    failed_count: int
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    environment: dict[str, Any] = field(default_factory=dict)
    dispatch_id: str | None = None

    @property
    def progress(self) -> float:
        return self.done_count / self.item_count if self.item_count else 1.0

    @property
    def live(self) -> bool:
        """Dispatched: its tasks are queued or being worked (a stop ends that at once)."""
        return self.dispatch_id is not None

    @property
    def resumable(self) -> bool:
        """Not being worked on and not completed: pending, stopped or failed (even with every item done, a resume
        records its end and final summaries)."""
        return not self.live and self.status != EvalRunStatus.COMPLETED

    @property
    def label(self) -> str:
        return f"{self.name} (#{self.repeat})" if self.repeat > 1 else self.name


def run_view(row: EvalRunRow, names: dict[str, tuple[str, int]]) -> RunView:
    """names: dataset version id -> (dataset name, version number)."""
    dataset, number = names.get(row.version_id, ("?", 0))
    return RunView(
        id=row.id, name=row.name, dataset=dataset, dataset_version=number, version_id=row.version_id,
        config=dict(row.config), config_hash=row.config_hash, repeat=row.repeat, tags=tuple(row.tags),
        status=EvalRunStatus(row.status), item_count=row.item_count, done_count=row.done_count,
        failed_count=row.failed_count, error=row.error, created_by=row.created_by, created_at=row.created_at,
        started_at=row.started_at, finished_at=row.finished_at, environment=dict(row.environment),
        dispatch_id=row.dispatch_id,
    )  # fmt: skip
