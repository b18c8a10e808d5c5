"""The FastAPI application over one container: routes, the key check, body-size and rate limits, JSON errors.

`create_api(container)` builds it (tests call it directly); `workbench api` serves it with uvicorn.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workbench.api.errors import error_body, install_error_handlers
from workbench.api.routes import (
    annotation_queues,
    chat,
    eval_datasets,
    eval_runs,
    feedback,
    prompts,
    runlogs,
    system,
    traces,
)
from workbench.bootstrap import Container
from workbench.security.ratelimit import RateLimiter

PREFIX = "/api/v1"


class BodyLimit:
    """Refuses a body over `max_bytes` with 413 before the route reads it: by its Content-Length, or, sent in
    chunks, as soon as the bytes received pass the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        message = f"the request body is larger than {self.max_bytes:,} bytes (api.max_body_bytes)"
        body = json.dumps(error_body(413, message)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def create_api(container: Container) -> FastAPI:
    settings = container.settings.api
    api = FastAPI(
        title="GenAI Workbench API",
        version="1",
        description="Chat, prompts, feedback, traces, run logs, eval datasets and runs, and annotation queues for "
        "other programs. Every route but "
        "/health needs an API key (Account page): `Authorization: Bearer wbk_...`.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    api.state.container = container
    api.state.rate_limiter = RateLimiter(per_minute=settings.requests_per_minute)
    install_error_handlers(api)
    for module in (system, chat, prompts, feedback, runlogs, eval_datasets, eval_runs, annotation_queues, traces):
        api.include_router(module.router, prefix=PREFIX)
    api.include_router(traces.otlp_router)  # OTLP's own path: exporters pointed at the API's root find it
    api.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return api
