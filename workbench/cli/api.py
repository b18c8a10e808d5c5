"""`workbench api`: the HTTP API for other programs (uvicorn over workbench.api)."""

from __future__ import annotations

import signal
import sys

import typer

from workbench.bootstrap import build_container, configure_offline_environment
from workbench.config import get_settings


def api(
    port: int | None = typer.Option(None, help="port (default api.port, 8502)"),
    host: str | None = typer.Option(None, help="interface (default api.host, loopback; a proxy in front for TLS)"),
) -> None:
    """Serve the HTTP API under /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs) until Ctrl-C."""
    import uvicorn

    from workbench.api.app import create_api

    configure_offline_environment()
    settings = get_settings()
    # uvicorn shuts down gracefully on SIGTERM, then raises it again under the handler it found: this one, so the
    # process ends through the `finally` below (run logs flushed) with exit code 0, not killed by the signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    container = build_container(settings, register_atexit=False)
    try:
        where = f"http://{host or settings.api.host}:{port or settings.api.port}"
        typer.echo(f"GenAI Workbench API on {where}/api/v1  (docs: {where}/api/v1/docs)")
        uvicorn.run(
            create_api(container), host=host or settings.api.host, port=port or settings.api.port,
            log_level="warning", server_header=False, proxy_headers=False,
        )  # fmt: skip
    finally:
        container.close()
