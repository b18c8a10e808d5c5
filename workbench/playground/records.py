"""What the playground hands to pages and the CLI: runs, their cells and snapshots, read from the stored rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.domain.runs import CellStatus, PlaygroundRunStatus
from workbench.playground.variants import Variant
from workbench.storage.sql.models import PlaygroundCellRow, PlaygroundRunRow, PlaygroundVariantRow


@dataclass(frozen=True, slots=True)
class Cell:
    row_index: int
    position: int
    status: CellStatus
    output: str
    error: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tokens_estimated: bool = False
    cost_usd: float | None = None
    id: str = ""


@dataclass(frozen=True, slots=True)
class RunView:
    id: str
    title: str
    kind: str
    status: PlaygroundRunStatus
    user_id: str | None
    dataset_name: str | None
    mapping: dict[str, str]
    concurrency: int
    row_count: int
    variant_count: int
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    counts: dict[str, int] = field(default_factory=dict)  # cell status -> number
    dispatch_id: str | None = None

    @property
    def total_cells(self) -> int:
        return self.row_count * self.variant_count

    @property
    def done_cells(self) -> int:
        return sum(self.counts.values())

    @property
    def failed_cells(self) -> int:
        return self.done_cells - self.counts.get(CellStatus.OK, 0)

    @property
    def progress(self) -> float:
        return self.done_cells / self.total_cells if self.total_cells else 1.0

    @property
    def live(self) -> bool:
        """Dispatched: its tasks are queued or being worked, by whichever worker (or this process)."""
        return self.dispatch_id is not None


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """A run with everything a page shows of it, read in one transaction."""

    run: RunView
    variants: list[Variant]
    inputs: list[dict[str, Any]]
    cells: list[Cell]


def variant_of(row: PlaygroundVariantRow) -> Variant:
    parameters = dict(row.parameters or {})
    return Variant(
        prompt_name=row.prompt_name,
        template_text=row.template_text,
        model_id=row.model_id,
        prompt_version=row.prompt_version,
        temperature=parameters.get("temperature"),
        max_tokens=parameters.get("max_tokens"),
        top_p=parameters.get("top_p"),
        system_prompt=row.system_prompt,
    )


def run_view(row: PlaygroundRunRow, variant_count: int, counts: dict[str, int]) -> RunView:
    return RunView(
        id=row.id, title=row.title, kind=row.kind, status=PlaygroundRunStatus(row.status), user_id=row.user_id,
        dataset_name=row.dataset_name, mapping=dict(row.mapping or {}), concurrency=row.concurrency,
        row_count=row.row_count, variant_count=variant_count, created_at=row.created_at,
        finished_at=row.finished_at, error=row.error, counts=dict(counts), dispatch_id=row.dispatch_id,
    )  # fmt: skip


def cell_of(row: PlaygroundCellRow) -> Cell:
    return Cell(
        row_index=row.row_index, position=row.position, status=CellStatus(row.status), output=row.output,
        error=row.error, latency_ms=row.latency_ms, ttft_ms=row.ttft_ms, input_tokens=row.input_tokens,
        output_tokens=row.output_tokens, tokens_estimated=row.tokens_estimated, cost_usd=row.cost_usd, id=row.id,
    )  # fmt: skip
