"""`workbench playground ...`: scripted comparisons of prompt variants over a dataset."""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import typer

from workbench.cli.common import (
    EXIT_INTERRUPTED,
    fail,
    open_container,
    print_table,
    readable_errors,
    run_reader,
    version_of,
    wait_for_run,
    when,
)
from workbench.domain.runs import CellStatus, PlaygroundRunStatus
from workbench.llm.catalog import ModelCatalog
from workbench.playground.datasets import (
    MAX_BYTES,
    DatasetError,
    MappingError,
    Table,
    list_datasets,
    load_dataset,
    load_table,
    require_mapping,
    row_values,
    suggest_mapping,
)
from workbench.playground.service import Cell, PlaygroundService
from workbench.playground.variants import Variant, VariantError, numeric_parameters, parse_variant_spec
from workbench.prompting.registry import PromptRegistry

playground_app = typer.Typer(help="Prompt variants over a dataset, compared cell by cell.", no_args_is_help=True)


@playground_app.command("run")
def playground_run(
    dataset: str = typer.Option(..., "--dataset", help="a CSV/JSONL/JSON file, or a name under datasets/"),
    variant: list[str] = typer.Option(
        ...,
        "--variant",
        help="prompt=NAME or NAME@VERSION or NAME@LABEL, then optionally model=ID, temperature=, "
        "max_tokens=, top_p=, all separated by commas; repeat for up to 4 variants",
    ),
    mapping: list[str] | None = typer.Option(None, "--map", help="variable=column (default: matching names)"),
    concurrency: int | None = typer.Option(None, "--concurrency", help="cells at once (default: from settings)"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="only the first N rows"),
    title: str = typer.Option("", "--title"),
    out: Path | None = typer.Option(None, "--out", help="write the results as CSV"),
) -> None:
    """Run every variant over every row; Ctrl-C stops after the cells in progress (resume later).

    Example: workbench playground run --dataset playground/support-questions.csv --limit 5
    --variant prompt=plain-chat,max_tokens=64 --variant prompt=plain-chat@staging,temperature=0 --out results.csv
    """
    with readable_errors(), open_container() as container:
        table = _load(dataset, container.settings.playground.max_rows)
        variants = [_variant(spec, container.prompts, container.llm_runtime.catalog) for spec in variant]
        columns = _mapping(table, _variables(variants), mapping or [])
        rows = [row_values(row, columns) for row in table.rows[:limit]]
        service = container.playground
        run_id = service.create_run(
            user_id=None, variants=variants, rows=rows, title=title, mapping=columns, dataset_name=table.name,
            dataset_sha256=table.sha256, concurrency=concurrency or container.settings.playground.default_concurrency,
        )  # fmt: skip
        typer.echo(f"run {run_id}: {len(rows)} rows x {len(variants)} variants")
        interrupted = _execute(service, run_id, retry_failed=False)
        _finish(service, run_id, out, interrupted)


@playground_app.command("resume")
def playground_resume(
    run_id: str,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="work failed cells again"),
    out: Path | None = typer.Option(None, "--out", help="write the results as CSV"),
) -> None:
    """Work the cells a stopped or crashed run has not done yet."""
    with readable_errors(), open_container() as container:
        service = container.playground
        run = service.run(run_id)
        interrupted = False
        if run.done_cells >= run.total_cells and not (retry_failed and run.failed_cells):
            typer.echo(f"run {run_id} is complete: nothing left to run")
        else:
            interrupted = _execute(service, run_id, retry_failed=retry_failed)
        _finish(service, run_id, out, interrupted)


@playground_app.command("list")
def playground_list(limit: int = typer.Option(20, "--limit", min=1, help="how many of the newest runs")) -> None:
    """Recent runs: id, title, status, progress and when they were created."""
    with readable_errors(), run_reader() as service:
        runs = service.runs(limit=limit)
    if not runs:
        typer.echo("no playground runs yet: start one with `workbench playground run`")
        return
    rows = [[r.id, r.title, r.status, f"{r.done_cells}/{r.total_cells} ({r.progress:.0%})", when(r.created_at)]
            for r in runs]  # fmt: skip
    print_table(["id", "title", "status", "progress", "created"], rows)


@playground_app.command("export")
def playground_export(
    run_id: str, out: Path | None = typer.Option(None, "--out", help="file to write (default: stdout)")
) -> None:
    """The run's grid as CSV: one line per input row, per variant its output, status and figures."""
    with readable_errors(), run_reader() as service:
        service.run(run_id)  # an unknown id is refused, not exported as an empty grid
        text = service.export_csv(run_id)
    if out is None:
        typer.echo(text, nl=False)
    else:
        _write(out, text)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8", newline="")  # the csv module wrote the line ends already
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from exc
    typer.echo(f"wrote {path}")


def _load(dataset: str, max_rows: int) -> Table:
    """A file when DATASET names one, else a dataset under datasets/."""
    path = Path(dataset).expanduser()
    if path.is_file():
        if path.stat().st_size > MAX_BYTES:  # refused before reading it into memory
            raise DatasetError(f"{path} is larger than {MAX_BYTES // 1_000_000} MB; keep only the rows you need.")
        return load_table(path.read_bytes(), path.name, max_rows=max_rows)
    known = [info.name for info in list_datasets()]
    if dataset not in known:
        raise DatasetError(
            f"'{dataset}' is neither a file nor a dataset under datasets/ ({', '.join(known) or 'none'})."
        )
    return load_dataset(dataset, max_rows=max_rows)


def _variant(spec: str, registry: PromptRegistry, catalog: ModelCatalog) -> Variant:
    fields = parse_variant_spec(spec)
    name, _, ref = fields["prompt"].partition("@")
    version = version_of(registry, name, ref or None)
    model = catalog.get(fields.get("model") or catalog.settings.default_model)
    reason = catalog.unavailable_reason(model)
    if reason:
        raise VariantError(f"Model '{model.id}' cannot run here: {reason}.")
    variant = Variant(name, version.content, model.id, version.version, **numeric_parameters(fields))
    variant.check()
    return variant


def _variables(variants: Sequence[Variant]) -> list[str]:
    """Every variable of every variant's template, declared ones first, without repeats."""
    names: dict[str, None] = {}
    for variant in variants:
        names.update(dict.fromkeys(variant.template.required_variables()))
    return list(names)


def _mapping(table: Table, variables: list[str], pairs: list[str]) -> dict[str, str]:
    """Columns for the variables: --map first, then matching names; an unmapped variable is named with a fix."""
    chosen = suggest_mapping(table.columns, variables)
    for pair in pairs:
        variable, sep, column = (part.strip() for part in pair.partition("="))
        if not sep or not variable or not column:
            raise DatasetError(f"--map '{pair}' is not variable=column.")
        if variable not in variables:
            raise DatasetError(
                f"--map {pair}: no variant's prompt uses '{variable}' (they use: {', '.join(variables)})."
            )
        chosen[variable] = column
    try:
        return require_mapping(table, variables, chosen)
    except MappingError as exc:
        columns = ", ".join(table.columns)
        raise DatasetError(" ".join(
            f"No column for variable '{variable}': pass --map {variable}=COLUMN ({table.name} has: {columns})."
            if chosen.get(variable) is None else message
            for variable, message in exc.errors.items()
        )) from exc  # fmt: skip


def _execute(service: PlaygroundService, run_id: str, *, retry_failed: bool) -> bool:
    """Work the run with a progress bar; True when Ctrl-C stopped it (the cells in progress were finished)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    before = service.run(run_id)
    counts = {"ok": before.counts.get(CellStatus.OK, 0), "failed": 0 if retry_failed else before.failed_cells}
    stop, finished = threading.Event(), threading.Event()
    outcome: list[BaseException] = []

    with Progress(
        TextColumn("cells"), BarColumn(), MofNCompleteColumn(), TextColumn("ok {task.fields[ok]}"),
        TextColumn("failed {task.fields[failed]}"), TimeElapsedColumn(), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("cells", total=before.total_cells, completed=sum(counts.values()), ok=counts["ok"],
                            failed=counts["failed"])  # fmt: skip

        def on_cell(cell: Cell) -> None:
            counts["ok" if cell.status == CellStatus.OK else "failed"] += 1
            bar.update(task, advance=1, ok=counts["ok"], failed=counts["failed"])

        def work() -> None:
            try:
                service.execute(run_id, stop=stop, on_cell=on_cell, retry_failed=retry_failed)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
                outcome.append(exc)
            finally:
                finished.set()

        # The run works in a thread so that Ctrl-C reaches this one: it sets the stop event and the run ends
        # cleanly ("stopped", resumable) instead of being torn down in the middle of a cell.
        threading.Thread(target=work, name=f"playground-cli-{run_id[:8]}", daemon=True).start()
        resume = f"workbench playground resume {run_id} --retry-failed"
        interrupted = wait_for_run(
            finished, stop, bar.console.print, "cells", resume, lambda: service.request_stop(run_id)
        )
    if outcome:
        raise outcome[0]
    return interrupted


def _finish(service: PlaygroundService, run_id: str, out: Path | None, interrupted: bool) -> None:
    """Summary per variant, what to do next, the CSV; the exit code says whether the run is complete."""
    run = service.run(run_id)
    _print_summary(service.variants(run_id), service.cells(run_id))
    typer.echo(f"run id: {run_id}")
    if out is not None:
        _write(out, service.export_csv(run_id))
    if run.status == PlaygroundRunStatus.DONE:
        failed = f"; rerun them with `workbench playground resume {run_id} --retry-failed`" if run.failed_cells else ""
        typer.echo(f"done: {run.counts.get('ok', 0)} cells ok, {run.failed_cells} failed{failed}")
        return
    typer.secho(f"{run.status} after {run.done_cells} of {run.total_cells} cells"
                f"{f' ({run.error})' if run.error else ''}; resume with `workbench playground resume {run_id}`",
                fg=typer.colors.YELLOW, err=True)  # fmt: skip
    raise typer.Exit(EXIT_INTERRUPTED if interrupted else 1)


def _print_summary(variants: list[Variant], cells: list[Cell]) -> None:
    rows = []
    for position, variant in enumerate(variants):
        mine = [cell for cell in cells if cell.position == position]
        ok = [cell for cell in mine if cell.status == CellStatus.OK]
        costs = [cell.cost_usd for cell in mine if cell.cost_usd is not None]
        tokens = sum(cell.output_tokens or 0 for cell in ok)
        estimated = "~" if any(cell.tokens_estimated for cell in ok) else ""
        rows.append([
            f"v{position + 1}", variant.label, _parameters(variant), str(len(ok)), str(len(mine) - len(ok)),
            _median_ms(cell.latency_ms for cell in ok), _median_ms(cell.ttft_ms for cell in ok),
            f"{estimated}{tokens:,}", f"${sum(costs):.4f}" if costs else "-",
        ])  # fmt: skip
    header = ["", "prompt · model", "parameters", "ok", "failed", "median latency", "median TTFT", "output tokens",
              "cost"]  # fmt: skip
    print_table(header, rows, right={3, 4, 5, 6, 7, 8})


def _parameters(variant: Variant) -> str:
    return " ".join(f"{name}={value}" for name, value in variant.parameters().items()) or "-"


def _median_ms(values: Iterable[float | None]) -> str:
    known = [value for value in values if value is not None]
    return f"{statistics.median(known):,.0f} ms" if known else "-"
