"""One playground cell: a variant's answer to one input row, stored in SQL and written to the run log.

A cell is stored once: the unique key (run, row, variant) turns a second store (a lease taken over mid-cell)
into a read of the first, and only the runner whose cell was stored writes the run-log record, with the cell's id
as the record id, so replaying a record can never count a call twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from workbench.domain.ids import new_id
from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.domain.runs import CellStatus
from workbench.llm.errors import ModelNotConfigured, ProviderError, ProviderTimeout
from workbench.llm.messages import Message, prompt_messages
from workbench.llm.streaming import cost_usd
from workbench.playground.records import Cell, cell_of
from workbench.playground.variants import Variant
from workbench.prompting.templates import PromptTemplate, TemplateError
from workbench.storage.conflicts import is_unique_violation
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import PlaygroundCellRow, PlaygroundRunRow

log = logging.getLogger(__name__)

CHANNEL = "playground"
_CALL_STATUS = {CellStatus.OK: RunStatus.OK, CellStatus.TIMEOUT: RunStatus.TIMEOUT, CellStatus.ERROR: RunStatus.ERROR}

# on_delta(row, position, text) as an answer streams.
OnDelta = Callable[[int, int, str], None]


class Runtime(Protocol):
    def stream_chat(self, model_id: str, messages: list[Message], **overrides: Any) -> Any: ...
    @property
    def catalog(self) -> Any: ...


class RunLogSink(Protocol):
    def log(self, record: RunLog) -> None: ...


class CellWorker:
    """Works cells of any run; thread-safe (each cell uses its own unit of work)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], runtime: Runtime, runlog: RunLogSink) -> None:
        self._uow = uow_factory
        self._runtime = runtime
        self._runlog = runlog

    def work(
        self,
        run: PlaygroundRunRow,
        variant: Variant,
        template: PromptTemplate | TemplateError,
        row: int,
        position: int,
        values: dict[str, Any],
        on_delta: OnDelta | None,
    ) -> Cell:
        """Render the variant's template with the row's values, ask its model, store the cell; returns it."""
        cell_id = new_id()
        if isinstance(template, TemplateError):
            failed = Cell(row, position, CellStatus.ERROR, "", f"Template: {template}", id=cell_id)
            return self._store(run, failed)
        parameters = variant.parameters(template)
        # Each variant takes the values its template uses: variants of different templates share one row.
        wanted = set(template.required_variables())
        try:
            system, user = template.render(**{name: value for name, value in values.items() if name in wanted})
        except TemplateError as exc:
            return self._store(run, Cell(row, position, CellStatus.ERROR, "", str(exc), id=cell_id))
        if variant.system_prompt is not None:
            system = variant.system_prompt
        stream = None
        status, error = CellStatus.OK, None
        try:
            stream = self._runtime.stream_chat(variant.model_id, prompt_messages(system, user), **parameters)
            for delta in stream:
                if on_delta is not None:
                    on_delta(row, position, delta)
        except ProviderTimeout as exc:
            status, error = CellStatus.TIMEOUT, str(exc)
        except (ProviderError, ModelNotConfigured) as exc:
            status, error = CellStatus.ERROR, str(exc)
        finally:
            if stream is not None and not stream.finished:
                stream.close()
        cell = Cell(
            row, position, status, stream.text if stream is not None else "", error,
            latency_ms=_rounded(getattr(stream, "latency_ms", None)),
            ttft_ms=_rounded(getattr(stream, "ttft_ms", None)),
            input_tokens=getattr(stream, "input_tokens", None), output_tokens=getattr(stream, "output_tokens", None),
            tokens_estimated=bool(getattr(stream, "tokens_estimated", False)),
            cost_usd=self._cost(variant.model_id, stream), id=cell_id,
        )  # fmt: skip
        stored = self._store(run, cell)
        if stream is not None and stored.id == cell_id:
            self._log_call(run, variant, stored, parameters, provider=str(getattr(stream, "provider", "")))
        return stored

    def _store(self, run: PlaygroundRunRow, cell: Cell) -> Cell:
        """The cell as stored: this one, or the one another runner stored first for the same row and variant."""
        with self._uow() as uow:
            uow.playground.add_cell(
                PlaygroundCellRow(
                    id=cell.id,
                    run_id=run.id,
                    row_index=cell.row_index,
                    position=cell.position,
                    status=cell.status,
                    output=cell.output,
                    error=cell.error,
                    latency_ms=cell.latency_ms,
                    ttft_ms=cell.ttft_ms,
                    input_tokens=cell.input_tokens,
                    output_tokens=cell.output_tokens,
                    tokens_estimated=cell.tokens_estimated,
                    cost_usd=cell.cost_usd,
                )
            )
            try:
                uow.commit()
            except Exception as exc:  # the unique key: this cell was stored already (a lease taken over)
                if not is_unique_violation(exc):
                    raise
                log.warning("playground run %s: cell (%d, %d) was already stored", run.id, cell.row_index,
                            cell.position)  # fmt: skip
                uow.rollback()
                return self._stored(run.id, cell) or cell
        return cell

    def _stored(self, run_id: str, cell: Cell) -> Cell | None:
        with self._uow() as uow:
            for row in uow.playground.cells(run_id):
                if (row.row_index, row.position) == (cell.row_index, cell.position):
                    return cell_of(row)
        return None

    def _log_call(
        self, run: PlaygroundRunRow, variant: Variant, cell: Cell, parameters: dict[str, Any], provider: str
    ) -> None:
        self._runlog.log(
            RunLog(
                id=cell.id,
                kind=RunKind.LLM,
                provider=provider,
                model=variant.model_id,
                status=_CALL_STATUS[cell.status],
                latency_ms=cell.latency_ms,
                ttft_ms=cell.ttft_ms,
                input_tokens=cell.input_tokens,
                output_tokens=cell.output_tokens,
                run_id=run.id,
                user_id=run.user_id,
                prompt_name=variant.prompt_name,
                prompt_version=variant.prompt_version,
                parameters=parameters,
                error=cell.error,
                metadata={
                    "channel": CHANNEL,
                    "playground_kind": run.kind,
                    "row": cell.row_index,
                    "variant": cell.position,
                    "tokens_estimated": cell.tokens_estimated,
                    "cost_usd": cell.cost_usd,
                },
            )
        )

    def _cost(self, model_id: str, stream: Any) -> float | None:
        if stream is None:
            return None
        try:
            spec = self._runtime.catalog.get(model_id)
        except ModelNotConfigured:
            return None
        return cost_usd(spec, getattr(stream, "input_tokens", None), getattr(stream, "output_tokens", None))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)
