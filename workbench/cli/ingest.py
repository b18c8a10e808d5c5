"""`workbench ingest`: documents into a knowledge base, with a progress bar and a summary of what happened."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from workbench.bootstrap import open_rag
from workbench.cli.common import fail
from workbench.rag.records import IngestReport, ProgressCallback


def ingest(
    paths: list[Path] = typer.Argument(..., help="files and folders (folders are walked recursively)"),
    kb: str = typer.Option(..., "--kb", help="knowledge base; created when it does not exist"),
    chunk_size: int | None = typer.Option(None, help="tokens per chunk (new knowledge base only)"),
    chunk_overlap: int | None = typer.Option(None, help="tokens shared by neighbouring chunks (new KB only)"),
    sync: bool = typer.Option(False, "--sync", help="remove documents of the KB that are not among PATHS"),
) -> None:
    """Ingest documents into a knowledge base; unchanged files are skipped, changed ones replaced."""
    from workbench.rag.errors import RagError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged PDFs are listed in the summary instead
    try:
        with open_rag() as engine:
            engine.ensure_knowledge_base(kb, chunk_size, chunk_overlap)
            with ingest_progress() as progress:
                report = engine.ingest(kb, paths, sync=sync, progress=progress)
    except RagError as exc:
        raise fail(str(exc)) from exc
    print_ingest_report(report)
    if report.nothing_ingested:
        raise fail("nothing was ingested")


@contextmanager
def ingest_progress() -> Iterator[ProgressCallback]:
    """A rich progress bar fed by the ingest progress callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as bar:
        task = bar.add_task("scanning", total=None)

        def update(done: int, total: int, current: str) -> None:
            bar.update(task, completed=done, total=total, description=current[-48:] or "done")

        yield update


def print_ingest_report(report: IngestReport) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"knowledge base {report.kb}", show_header=False)
    for label, count in [("added", len(report.added)), ("replaced", len(report.replaced)),
                         ("unchanged (skipped)", len(report.unchanged)), ("removed", len(report.removed)),
                         ("failed", len(report.failed)), ("chunks embedded", report.chunks_embedded)]:  # fmt: skip
        table.add_row(label, str(count))
    table.add_row("seconds", f"{report.seconds:.1f}")
    console = Console()
    console.print(table)
    for source, reason in report.failed:
        console.print(f"[red]failed[/red] {escape(source)}: {escape(reason)}", highlight=False, soft_wrap=True)
