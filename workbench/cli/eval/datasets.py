"""`workbench eval datasets ...`: import, list and show versioned eval datasets. Registered in eval/runs.py."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from workbench.cli.common import fail, print_table, when, who
from workbench.cli.eval.common import cut, eval_errors, sql_only, usage
from workbench.config import get_settings
from workbench.evaluation.datasets import FIELDS, ImportReport, suggest_mapping
from workbench.playground.datasets import DatasetError, Table, load_table

MAP_HELP = f"FIELD=COLUMN, FIELD one of {', '.join(FIELDS)} (default: matching names); FIELD= leaves it out"

datasets_app = typer.Typer(help="Versioned eval datasets (questions with reference answers).", no_args_is_help=True)


@datasets_app.command("list")
def datasets_list() -> None:
    """Eval datasets with their latest version."""
    with eval_errors(), sql_only() as sql:
        latest = sql.eval_datasets.datasets()
    if not latest:
        typer.echo("no eval datasets yet: import one with `workbench eval datasets import FILE --name NAME`")
        return
    rows = [[v.name, f"v{v.version}", str(v.item_count), v.source, v.created_by, when(v.created_at)] for v in latest]
    print_table(["name", "latest", "items", "source", "by", "created"], rows, right={2})


@datasets_app.command("import")
def datasets_import(
    file: Path = typer.Argument(..., help="a CSV, JSONL or JSON file, one question per row"),
    name: str = typer.Option(..., "--name", help="the dataset; a new version when it exists"),
    mapping: list[str] | None = typer.Option(None, "--map", help=MAP_HELP),
    note: str = typer.Option("", "--note", help="what changed in this version"),
) -> None:
    """Import a file as a new dataset version; rows that cannot be used are listed with their line and reason.

    Example: workbench eval datasets import datasets/eval/northwind-qa.jsonl --name northwind-qa
    """
    with eval_errors():
        table = _read_table(file, int(get_settings().evaluation.max_upload_mb * 1_000_000))
        columns = _import_mapping(table, mapping or [])
        with sql_only() as sql:
            report = sql.eval_datasets.import_table(table, name, columns, actor=who(), note=note)
    _print_import(report)


@datasets_app.command("show")
def datasets_show(
    name: str,
    version: int | None = typer.Option(None, "--version", "-v", min=1, help="default: the latest"),
    limit: int = typer.Option(20, "--limit", min=0, help="how many items to list"),
) -> None:
    """A dataset version: where it came from, the dataset's versions, and its first items."""
    with eval_errors(), sql_only() as sql:
        service = sql.eval_datasets
        chosen = service.version(name, version)
        versions = service.versions(name)
        items = service.items(chosen.id)
    detail = ", ".join(_detail(k, v) for k, v in chosen.source_detail.items() if k != "content_sha256")
    typer.echo(f"{chosen.label}  {chosen.item_count} items  {chosen.source}{f' ({detail})' if detail else ''}")
    typer.echo(f"by {chosen.created_by} at {when(chosen.created_at)}{f'  note: {chosen.note}' if chosen.note else ''}")
    typer.echo("")
    print_table(["version", "items", "source", "by", "created", "note"],
                [[f"v{v.version}", str(v.item_count), v.source, v.created_by, when(v.created_at), cut(v.note, 40)]
                 for v in versions], right={1})  # fmt: skip
    if limit:
        typer.echo(f"\nitems of v{chosen.version}" + (f" (first {limit})" if len(items) > limit else "") + ":")
        rows = [[str(i.position + 1), cut(i.question, 60), cut(i.reference_answer or "-", 40),
                 str(len(i.reference_contexts)), ",".join(i.tags)] for i in items[:limit]]  # fmt: skip
        print_table(["#", "question", "reference answer", "contexts", "tags"], rows, right={0, 3})


def _detail(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"{key} " + ",".join(f"{k}={v}" for k, v in value.items())
    return f"{key} {str(value)[:12] if key == 'sha256' else value}"


def _read_table(path: Path, max_bytes: int) -> Table:
    try:
        if path.stat().st_size > max_bytes:  # refused before reading it into memory
            raise DatasetError(f"{path} is larger than {max_bytes / 1_000_000:g} MB; keep only the rows you need.")
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}") from exc
    return load_table(data, path.name, max_bytes=max_bytes)


def _import_mapping(table: Table, pairs: Sequence[str]) -> dict[str, str | None]:
    """The suggested columns, overridden by --map; a field without a column is left out (except the question)."""
    chosen = suggest_mapping(table.columns)
    have = ", ".join(table.columns)
    for pair in pairs:
        field, sep, column = (part.strip() for part in pair.partition("="))
        if not sep or not field:
            raise usage(f"--map '{pair}' is not FIELD=COLUMN.")
        if field not in FIELDS:
            raise usage(f"--map {pair}: unknown field '{field}'; the fields are {', '.join(FIELDS)}.")
        if column and column not in table.columns:
            raise usage(f"--map {pair}: {table.name} has no column '{column}' (it has: {have}).")
        chosen[field] = column or None
    if not chosen["question"]:
        raise fail(f"No column for the question: pass --map question=COLUMN ({table.name} has: {have}).")
    return chosen


def _print_import(report: ImportReport) -> None:
    version = report.version
    if report.unchanged:
        typer.echo(f"unchanged: {version.label} already has this content ({version.item_count} items)")
    else:
        typer.echo(f"imported {report.imported} items as {version.label}")
    if report.rejected:
        typer.echo(f"rejected {len(report.rejected)} rows:")
    for row in report.rejected:
        where = row.where or "row"
        typer.echo(f"  {where}: {row.reason}" + (f"  ({cut(row.question, 60)})" if row.question else ""))
