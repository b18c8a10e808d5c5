"""`workbench model-server`: the local models, run once for every process on this machine."""

from __future__ import annotations

import secrets
import signal
from contextlib import suppress

import typer

from workbench.bootstrap import configure_offline_environment
from workbench.config import get_settings


def model_server(
    port: int = typer.Option(8765, help="port to listen on"),
    host: str = typer.Option(
        "127.0.0.1", help="interface to listen on; 0.0.0.0 serves other machines or containers (the key still holds)"
    ),
    parallel: int = typer.Option(4, min=1, max=16, help="requests each local model answers at once (llama.cpp slots)"),
    threads: int | None = typer.Option(
        None,
        min=1,
        max=256,
        help="llama.cpp threads per model (default llm.local_threads; on a machine of its own: its cores)",
    ),
) -> None:
    """Run the local models for every process on this machine (point them at it with WORKBENCH_LLM__MODEL_SERVER_URL
    and _KEY); each model starts on its first request and answers `--parallel` requests at once, batched."""
    from workbench.llm import LLMRuntime, ModelWeights
    from workbench.llm.model_server import ModelServer

    configure_offline_environment()
    settings = get_settings()
    key = settings.llm.model_server_key.get_secret_value() if settings.llm.model_server_key else None
    if key is None:
        key = secrets.token_urlsafe(24)
        typer.echo(f"key (set WORKBENCH_LLM__MODEL_SERVER_KEY to it in the other processes): {key}")
    # This process runs the models itself: never a model server of its own.
    update: dict[str, object] = {"model_server_url": None, "local_parallel": parallel}
    if threads is not None:
        update |= {"local_threads": threads, "local_batch_threads": threads}
    llm = settings.llm.model_copy(update=update)
    runtime = LLMRuntime(llm, ModelWeights(settings.resolved_data_dir / "models"), local_host=host)
    server = ModelServer(runtime, key, host=host, port=port)
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    typer.echo(f"model server on {server.url} ({parallel} slots per model)")
    with suppress(KeyboardInterrupt):  # Ctrl-C: serve_forever's finally stops the models
        server.serve_forever()
