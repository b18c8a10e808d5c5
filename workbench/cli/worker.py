"""`workbench worker` and `workbench queue status`: the processes that work runs, and how the queue stands."""

from __future__ import annotations

import json

import typer

from workbench.bootstrap import build_queue, configure_offline_environment
from workbench.config import get_settings

queue_app = typer.Typer(help="The task queue that carries dataset runs and eval runs to workers.", no_args_is_help=True)


def worker(
    concurrency: int | None = typer.Option(
        None, min=1, max=64, help="tasks at once (default queue.worker_concurrency)"
    ),
    name: str | None = typer.Option(None, help="worker name, unique on its host (default workbench-PID@HOST)"),
    loglevel: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR"),
) -> None:
    """Work queued eval items and playground cells until SIGTERM or Ctrl-C (the tasks in hand finish first).

    Start any number, on any machines with the same settings (database, run log, models, queue)."""
    configure_offline_environment()
    from workbench.worker.main import run_worker  # imports Celery's worker machinery: only for this command

    run_worker(get_settings(), concurrency=concurrency, name=name, loglevel=loglevel.upper())


@queue_app.command("status")
def queue_status(
    as_json: bool = typer.Option(False, "--json", help="print the status as JSON"),
    worker: str | None = typer.Option(None, "--worker", help="exit 1 unless this worker answers (a health check)"),
) -> None:
    """Where the queue is, how many tasks wait, which workers answer; exit 1 when the broker does not answer."""
    queue = build_queue(get_settings())
    try:
        status = queue.status()
    finally:
        queue.close()
    if as_json:
        typer.echo(json.dumps({"broker": status.broker, "reachable": status.reachable, "depth": status.depth,
                               "workers": status.workers, "error": status.error}, indent=2))  # fmt: skip
    elif status.reachable:
        typer.echo(f"queue: {status.broker}")
        typer.echo(f"tasks waiting: {status.depth}")
        typer.echo(f"workers: {len(status.workers)}" + (f" ({', '.join(status.workers)})" if status.workers else
                                                         " - start one with `workbench worker`"))  # fmt: skip
    else:
        typer.secho(status.error or "the queue does not answer", fg=typer.colors.RED, err=True)
    if not status.reachable:
        raise typer.Exit(1)
    if worker is not None and worker not in status.workers:
        typer.secho(f"worker {worker} does not answer", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
