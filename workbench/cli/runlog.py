"""`workbench runlog ...`: maintenance of the MongoDB run log."""

from __future__ import annotations

import typer

from workbench.bootstrap import build_container

runlog_app = typer.Typer(help="The MongoDB run log.", no_args_is_help=True)


@runlog_app.command("rebuild-rollups")
def runlog_rebuild_rollups() -> None:
    """Recompute the hourly rollups from the raw run logs."""
    container = build_container(register_atexit=False)
    try:
        total = container.runlog_store.rebuild_rollups()
    finally:
        container.close()
    typer.echo(f"rolled up {total} run logs")
