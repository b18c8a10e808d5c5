"""`workbench worker` and `workbench queue status`: the processes that work runs, and how the queue stands."""

from __future__ import annotations

import json
from contextlib import suppress

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


def model_server(
    port: int = typer.Option(8765, help="port on 127.0.0.1"),
    parallel: int = typer.Option(4, min=1, max=16, help="requests each local model answers at once (llama.cpp slots)"),
) -> None:
    """Run the local models for every process on this machine (point them at it with WORKBENCH_LLM__MODEL_SERVER_URL
    and _KEY); each model starts on its first request and answers `--parallel` requests at once, batched."""
    import secrets
    import signal

    from workbench.llm import LLMRuntime
    from workbench.llm.model_server import ModelServer

    configure_offline_environment()
    settings = get_settings()
    key = settings.llm.model_server_key.get_secret_value() if settings.llm.model_server_key else None
    if key is None:
        key = secrets.token_urlsafe(24)
        typer.echo(f"key (set WORKBENCH_LLM__MODEL_SERVER_KEY to it in the other processes): {key}")
    # This process runs the models itself: never a model server of its own.
    llm = settings.llm.model_copy(update={"model_server_url": None, "local_parallel": parallel})
    runtime = LLMRuntime.for_data_dir(llm, settings.resolved_data_dir)
    server = ModelServer(runtime, key, port=port)
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    typer.echo(f"model server on {server.url} ({parallel} slots per model)")
    with suppress(KeyboardInterrupt):  # Ctrl-C: serve_forever's finally stops the models
        server.serve_forever()
