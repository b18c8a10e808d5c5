"""Playground runs: every variant over every input row, each pair one cell, stored in SQL as it finishes.

The same code serves the side-by-side try on the Playground page (one row, the form's values, streamed) and
dataset runs (many rows, bounded concurrency, a progress callback). A run is resumable: its variants and input
rows are stored with it, a finished cell is never worked on again (the unique key (run, row, variant) holds it),
and a lease keeps two runners, in this process or another, off the same run. Every model call is written to the
run log with the cell's id as the record id, so replaying a record can never count a call twice.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.llm.errors import ModelNotConfigured, ProviderError, ProviderTimeout
from workbench.llm.streaming import cost_usd
from workbench.playground.variants import MAX_VARIANTS, Variant, VariantError
from workbench.prompting.templates import PromptTemplate, TemplateError
from workbench.services.leases import LeaseHeartbeat, renewal, runner_name
from workbench.storage.conflicts import is_unique_violation
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import PlaygroundCellRow, PlaygroundInputRow, PlaygroundRunRow, PlaygroundVariantRow

log = logging.getLogger(__name__)

CHANNEL = "playground"
MAX_TITLE = 200


class PlaygroundError(ValueError):
    """A run that cannot be created or started as asked; the message says what to do."""


class RunBusy(PlaygroundError):
    """Another runner holds the run's lease."""


class Runtime(Protocol):
    def stream_chat(self, model_id: str, messages: list[Any], **overrides: Any) -> Any: ...
    @property
    def catalog(self) -> Any: ...


class RunLogSink(Protocol):
    def log(self, record: RunLog) -> None: ...


@dataclass(frozen=True, slots=True)
class Cell:
    row_index: int
    position: int
    status: str  # ok, error, timeout
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
    status: str
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
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None

    @property
    def total_cells(self) -> int:
        return self.row_count * self.variant_count

    @property
    def done_cells(self) -> int:
        return sum(self.counts.values())

    @property
    def failed_cells(self) -> int:
        return self.done_cells - self.counts.get("ok", 0)

    @property
    def progress(self) -> float:
        return self.done_cells / self.total_cells if self.total_cells else 1.0

    @property
    def live(self) -> bool:
        """Being worked on by some runner, here or in another process, whose lease has not run out."""
        return self.status == "running" and self.lease_expires_at is not None and self.lease_expires_at > utcnow()


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """A run with everything a page shows of it, read in one transaction."""

    run: RunView
    variants: list[Variant]
    inputs: list[dict[str, Any]]
    cells: list[Cell]


class PlaygroundService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        runtime: Runtime,
        runlog: RunLogSink,
        *,
        max_concurrency: int = 4,
        max_rows: int = 5_000,
        lease_s: float = 30.0,
    ) -> None:
        self._uow = uow_factory
        self._runtime = runtime
        self._runlog = runlog
        self.max_concurrency = max_concurrency
        self.max_rows = max_rows
        self.lease = timedelta(seconds=lease_s)

    # Creating ---------------------------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        user_id: str | None,
        variants: Sequence[Variant],
        rows: Sequence[Mapping[str, Any]],
        kind: str = "dataset",
        title: str = "",
        mapping: Mapping[str, str] | None = None,
        dataset_name: str | None = None,
        dataset_sha256: str | None = None,
        concurrency: int = 1,
    ) -> str:
        """Store a run with its variants and input rows (values per template variable); returns its id."""
        if not 1 <= len(variants) <= MAX_VARIANTS:
            raise PlaygroundError(f"Choose between 1 and {MAX_VARIANTS} variants (got {len(variants)}).")
        if not rows:
            raise PlaygroundError("There are no input rows to run.")
        if len(rows) > self.max_rows:
            raise PlaygroundError(f"The dataset has {len(rows):,} rows; the limit is {self.max_rows:,}.")
        if not 1 <= concurrency <= self.max_concurrency:
            raise PlaygroundError(f"Concurrency must be between 1 and {self.max_concurrency}.")
        for variant in variants:
            try:
                variant.check()
                variant.template  # noqa: B018 - parsing reports a broken template before anything is stored
            except (VariantError, TemplateError) as exc:
                raise PlaygroundError(str(exc)) from exc
        run_id = new_id()
        run = PlaygroundRunRow(
            id=run_id, user_id=user_id, title=(title or _default_title(kind, dataset_name, rows))[:MAX_TITLE],
            kind=kind, status="pending", dataset_name=dataset_name, dataset_sha256=dataset_sha256,
            mapping=dict(mapping or {}), concurrency=concurrency, row_count=len(rows),
        )  # fmt: skip
        variant_rows = [
            PlaygroundVariantRow(
                run_id=run_id,
                position=position,
                prompt_name=variant.prompt_name,
                prompt_version=variant.prompt_version,
                template_text=variant.template_text,
                model_id=variant.model_id,
                parameters=variant.parameters(),
                system_prompt=variant.system_prompt,
            )
            for position, variant in enumerate(variants)
        ]
        input_rows = [
            PlaygroundInputRow(run_id=run_id, row_index=i, values=dict(values)) for i, values in enumerate(rows)
        ]
        with self._uow() as uow:
            uow.playground.add_run(run, variant_rows, input_rows)
            uow.commit()
        return run_id

    # Running ----------------------------------------------------------------------------------------------------

    def execute(
        self,
        run_id: str,
        *,
        stop: threading.Event | None = None,
        on_cell: Callable[[Cell], None] | None = None,
        on_delta: Callable[[int, int, str], None] | None = None,
        retry_failed: bool = False,
        owner: str | None = None,
    ) -> RunView:
        """Work the run's missing cells, `concurrency` at a time, until done or stopped; returns the run after.

        stop: set it (or call request_stop from anywhere) to finish the cells in progress and start no more.
        on_cell(cell) after each stored cell; on_delta(row, position, text) as answers stream (worker threads).
        retry_failed: work the cells that ended in an error or timeout again.
        Raises RunBusy when another runner holds the run.
        """
        owner = owner or runner_name()
        stop = stop or threading.Event()
        run, variants, inputs, todo = self._claim(run_id, owner, retry_failed)
        templates: dict[int, PromptTemplate | TemplateError] = {}
        for position, variant in variants.items():
            try:
                templates[position] = variant.template
            except TemplateError as exc:
                templates[position] = exc
        failure: BaseException | None = None
        renew = renewal(self._uow, lambda uow: uow.playground, run_id, owner, self.lease)
        beat = LeaseHeartbeat(f"playground run {run_id}", renew, self.lease, stop)
        try:
            with beat:
                self._work(run, variants, templates, inputs, todo, stop, on_cell, on_delta)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self._release(run_id, owner, failure, beat.lost)
        return self.run(run_id)

    def request_stop(self, run_id: str) -> None:
        """Ask whoever runs this run (here or in another process) to stop after the cells in progress."""
        with self._uow() as uow:
            run = uow.playground.get(run_id)
            if run is not None and run.lease_owner is not None:
                run.stop_requested = True
                uow.commit()

    def _claim(
        self, run_id: str, owner: str, retry_failed: bool
    ) -> tuple[PlaygroundRunRow, dict[int, Variant], dict[int, dict[str, Any]], list[tuple[int, int]]]:
        now = utcnow()
        with self._uow() as uow:
            run = uow.playground.get(run_id)
            if run is None:
                raise PlaygroundError(f"There is no playground run {run_id}.")
            if not uow.playground.claim(run_id, owner, now, now + self.lease):
                uow.rollback()
                until = run.lease_expires_at.strftime("%H:%M:%S UTC") if run.lease_expires_at else "soon"
                raise RunBusy(
                    f"Run '{run.title}' is being worked on elsewhere ({run.lease_owner}); its lease ends at {until}. "
                    "Stop it there, or wait until the lease ends and resume it."
                )
            if retry_failed:
                uow.playground.delete_failed_cells(run_id)
            run.status, run.error, run.finished_at = "running", None, None
            variants = {row.position: _variant(row) for row in uow.playground.variants(run_id)}
            inputs = {row.row_index: dict(row.values) for row in uow.playground.inputs(run_id)}
            done = uow.playground.done_keys(run_id)
            uow.commit()
        # Row by row: the first rows of every variant finish first, so a stopped run is comparable so far.
        todo = [
            (row, position) for row in sorted(inputs) for position in sorted(variants) if (row, position) not in done
        ]
        return run, variants, inputs, todo

    def _work(
        self,
        run: PlaygroundRunRow,
        variants: dict[int, Variant],
        templates: dict[int, PromptTemplate | TemplateError],
        inputs: dict[int, dict[str, Any]],
        todo: list[tuple[int, int]],
        stop: threading.Event,
        on_cell: Callable[[Cell], None] | None,
        on_delta: Callable[[int, int, str], None] | None,
    ) -> None:
        pending: Iterator[tuple[int, int]] = iter(todo)
        in_flight: set[Future[Cell]] = set()
        limit = max(1, run.concurrency)
        # On an error the loop ends; leaving the pool waits for the cells in progress, which are stored.
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix=f"playground-{run.id[:8]}") as pool:
            while True:
                while len(in_flight) < limit and not stop.is_set():
                    key = next(pending, None)
                    if key is None:
                        break
                    row, position = key
                    in_flight.add(
                        pool.submit(
                            self._cell,
                            run,
                            variants[position],
                            templates[position],
                            row,
                            position,
                            inputs[row],
                            on_delta,
                        )
                    )
                if not in_flight:
                    return
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    cell = future.result()
                    if on_cell is not None:
                        on_cell(cell)

    def _cell(
        self,
        run: PlaygroundRunRow,
        variant: Variant,
        template: PromptTemplate | TemplateError,
        row: int,
        position: int,
        values: dict[str, Any],
        on_delta: Callable[[int, int, str], None] | None,
    ) -> Cell:
        cell_id = new_id()
        if isinstance(template, TemplateError):
            return self._store(run, variant, Cell(row, position, "error", "", f"Template: {template}", id=cell_id))
        parameters = variant.parameters(template)
        # Each variant takes the values its template uses: variants of different templates share one row.
        wanted = set(template.required_variables())
        try:
            system, user = template.render(**{name: value for name, value in values.items() if name in wanted})
        except TemplateError as exc:
            return self._store(run, variant, Cell(row, position, "error", "", str(exc), id=cell_id))
        if variant.system_prompt is not None:
            system = variant.system_prompt
        stream = None
        status, error = "ok", None
        try:
            stream = self._runtime.stream_chat(variant.model_id, chat_messages(system, user), **parameters)
            for delta in stream:
                if on_delta is not None:
                    on_delta(row, position, delta)
        except ProviderTimeout as exc:
            status, error = "timeout", str(exc)
        except (ProviderError, ModelNotConfigured) as exc:
            status, error = "error", str(exc)
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
        stored = self._store(run, variant, cell)
        if stream is not None and stored.id == cell_id:
            self._log_call(run, variant, stored, parameters, provider=str(getattr(stream, "provider", "")))
        return stored

    def _store(self, run: PlaygroundRunRow, variant: Variant, cell: Cell) -> Cell:
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
                stored = [c for c in self.cells(run.id) if (c.row_index, c.position) == (cell.row_index, cell.position)]
                return stored[0] if stored else cell
        return cell

    def _log_call(
        self, run: PlaygroundRunRow, variant: Variant, cell: Cell, parameters: dict[str, Any], provider: str
    ) -> None:
        status = {"ok": RunStatus.OK, "timeout": RunStatus.TIMEOUT}.get(cell.status, RunStatus.ERROR)
        self._runlog.log(
            RunLog(
                id=cell.id,
                kind=RunKind.LLM,
                provider=provider,
                model=variant.model_id,
                status=status,
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

    def _release(self, run_id: str, owner: str, failure: BaseException | None, lost: bool) -> None:
        if lost:
            return  # someone else holds the run now: its state is theirs to record
        try:
            with self._uow() as uow:
                run = uow.playground.get(run_id)
                if run is None:
                    return
                done = len(uow.playground.done_keys(run_id))
                total = run.row_count * len(uow.playground.variants(run_id))
                error = None
                if isinstance(failure, KeyboardInterrupt):  # Ctrl-C: a stop, not a failure
                    status = "stopped"
                elif failure is not None:
                    status, error = "failed", _failure_text(failure)
                else:
                    status = "done" if done >= total else "stopped"
                # Conditional on still holding the lease: a runner that lost it never clears the new owner's.
                if not uow.playground.release(run_id, owner, status, error, utcnow() if status == "done" else None):
                    uow.rollback()
                    return
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - the lease expires by itself; the run stays resumable
            log.warning("playground run %s: could not record the end of the run: %s", run_id, exc)

    # Reading ----------------------------------------------------------------------------------------------------

    def runs(self, user_id: str | None = None, limit: int = 50) -> list[RunView]:
        with self._uow() as uow:
            rows = uow.playground.list_runs(user_id, limit)
            ids = [row.id for row in rows]
            counts, variants = uow.playground.cell_counts(ids), uow.playground.variant_counts(ids)
            return [_run_view(row, variants.get(row.id, 0), counts.get(row.id, {})) for row in rows]

    def snapshot(self, run_id: str) -> RunSnapshot:
        """The run, its variants, inputs and finished cells, consistent with each other."""
        with self._uow() as uow:
            row = uow.playground.get(run_id)
            if row is None:
                raise PlaygroundError(f"There is no playground run {run_id}.")
            variants = [_variant(v) for v in uow.playground.variants(run_id)]
            cells = [_cell_view(c) for c in uow.playground.cells(run_id)]
            # Counted from the cells read here, so the progress and the grid always agree.
            counts = dict(Counter(cell.status for cell in cells))
            return RunSnapshot(
                run=_run_view(row, len(variants), counts),
                variants=variants,
                inputs=[dict(i.values) for i in uow.playground.inputs(run_id)],
                cells=cells,
            )

    def run(self, run_id: str) -> RunView:
        with self._uow() as uow:
            row = uow.playground.get(run_id)
            if row is None:
                raise PlaygroundError(f"There is no playground run {run_id}.")
            counts = uow.playground.cell_counts([run_id]).get(run_id, {})
            return _run_view(row, len(uow.playground.variants(run_id)), counts)

    def variants(self, run_id: str) -> list[Variant]:
        with self._uow() as uow:
            return [_variant(row) for row in uow.playground.variants(run_id)]

    def inputs(self, run_id: str) -> list[dict[str, Any]]:
        with self._uow() as uow:
            return [dict(row.values) for row in uow.playground.inputs(run_id)]

    def cells(self, run_id: str) -> list[Cell]:
        with self._uow() as uow:
            return [_cell_view(row) for row in uow.playground.cells(run_id)]

    def export_csv(self, run_id: str) -> str:
        """The grid as CSV: one line per input row, its values, then per variant output, status and figures."""
        snapshot = self.snapshot(run_id)
        variants, inputs, cells = snapshot.variants, snapshot.inputs, snapshot.cells
        by_key = {(cell.row_index, cell.position): cell for cell in cells}
        columns = list(dict.fromkeys(name for values in inputs for name in values))
        figures = ("status", "output", "error", "latency_ms", "ttft_ms", "input_tokens", "output_tokens", "cost_usd")
        header = ["row", *columns]
        for position in range(1, len(variants) + 1):
            header += [f"v{position} {name}" for name in figures]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["# variants"] + [f"v{n}: {variant.label}" for n, variant in enumerate(variants, start=1)])
        writer.writerow(header)
        for row_index, values in enumerate(inputs):
            line: list[Any] = [row_index + 1, *(values.get(name, "") for name in columns)]
            for position in range(len(variants)):
                cell = by_key.get((row_index, position))
                line += ["" if cell is None else _csv_value(getattr(cell, name)) for name in figures]
                if cell is None:
                    line[-len(figures)] = "not run"
            writer.writerow(line)
        return buffer.getvalue()


def chat_messages(system: str, user: str) -> list[Any]:
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    messages = [ChatMessage(role=MessageRole.SYSTEM, content=system)] if system.strip() else []
    messages.append(ChatMessage(role=MessageRole.USER, content=user))
    return messages


def _variant(row: PlaygroundVariantRow) -> Variant:
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


def _run_view(row: PlaygroundRunRow, variant_count: int, counts: dict[str, int]) -> RunView:
    return RunView(
        id=row.id, title=row.title, kind=row.kind, status=row.status, user_id=row.user_id,
        dataset_name=row.dataset_name, mapping=dict(row.mapping or {}), concurrency=row.concurrency,
        row_count=row.row_count, variant_count=variant_count, created_at=row.created_at,
        finished_at=row.finished_at, error=row.error, counts=dict(counts), lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
    )  # fmt: skip


def _cell_view(row: PlaygroundCellRow) -> Cell:
    return Cell(
        row_index=row.row_index, position=row.position, status=row.status, output=row.output, error=row.error,
        latency_ms=row.latency_ms, ttft_ms=row.ttft_ms, input_tokens=row.input_tokens,
        output_tokens=row.output_tokens, tokens_estimated=row.tokens_estimated, cost_usd=row.cost_usd, id=row.id,
    )  # fmt: skip


def _default_title(kind: str, dataset_name: str | None, rows: Sequence[Mapping[str, Any]]) -> str:
    if kind == "dataset":
        return f"{dataset_name or 'dataset'} · {len(rows)} rows"
    first = next((str(value) for value in rows[0].values() if str(value).strip()), "") if rows else ""
    first = " ".join(first.split())
    return f"Try: {first[:60]}{'…' if len(first) > 60 else ''}" if first else "Try"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def _failure_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
