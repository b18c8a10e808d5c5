"""Real local models through one shared runtime, and a scripted OpenAI-style HTTP server on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from workbench.llm import LLMRuntime, LLMSettings, ModelWeights


@pytest.fixture(scope="session")
def llm_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Assembled weights live here for the whole session: Qwen is assembled and hashed once."""
    return tmp_path_factory.mktemp("llm-models")


@pytest.fixture(scope="session")
def local_runtime(llm_models_dir: Path) -> Iterator[LLMRuntime]:
    """The packaged local models on 1 thread; each model's server starts on first use and stops at the end."""
    settings = LLMSettings(local_threads=1, local_context=2048, request_timeout_s=60, max_retries=0)
    runtime = LLMRuntime(settings, ModelWeights(llm_models_dir))
    yield runtime
    runtime.close()


def require_weights(runtime: LLMRuntime, model_id: str) -> None:
    reason = runtime.catalog.unavailable_reason(runtime.catalog.get(model_id))
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{model_id}: {reason}")
        pytest.skip(f"{model_id}: {reason}")


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0


class ScriptedOpenAIServer:
    """A real HTTP server on loopback that answers every POST with the scripted reply and records requests."""

    def __init__(self) -> None:
        self.reply = Reply()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.peak_in_flight = 0  # the most requests it was answering at once
        self._count = threading.Lock()
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                script.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": self.rfile.read(length)}
                )
                with script._count:
                    script.in_flight += 1
                    script.peak_in_flight = max(script.peak_in_flight, script.in_flight)
                try:
                    time.sleep(script.reply.delay_s)
                    payload = json.dumps(script.reply.body).encode()
                    self.send_response(script.reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    with script._count:
                        script.in_flight -= 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a handler still sleeping for a timeout test must not hold teardown
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"


@pytest.fixture
def scripted_server() -> Iterator[ScriptedOpenAIServer]:
    server = ScriptedOpenAIServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
