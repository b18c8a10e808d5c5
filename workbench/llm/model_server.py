"""One process that runs the local models for every process on this machine: `workbench model-server`.

Without it, the app and each worker would start a llama.cpp server of their own for the same model (its weights
in memory once per process, its slots never shared). With it (`llm.model_server_url`, which `workbench serve`
sets for the app and its worker), each model runs once, here, with `--parallel` slots that llama.cpp batches
together, and the others ask this process where it runs (`POST /v1/models/ensure`), then talk to it directly
over its OpenAI-compatible API. Hosted and OpenAI-compatible servers (vLLM, Ollama) need none of this.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from workbench.config.llm import ModelSpec
from workbench.llm.catalog import ModelCatalog
from workbench.llm.errors import FailureKind, ModelNotConfigured, ProviderError, WeightsError

log = logging.getLogger(__name__)

ENSURE_PATH = "/v1/models/ensure"


class _Served(Protocol):
    @property
    def base_url(self) -> str: ...
    @property
    def api_key(self) -> str: ...


class Runtime(Protocol):
    """What the model server needs of the LLMRuntime it runs the models with."""

    catalog: ModelCatalog

    def local_server(self, spec: ModelSpec) -> _Served: ...
    def running_local_models(self) -> list[str]: ...
    def close(self) -> None: ...


class ModelServer:
    """The control endpoint over a runtime whose local servers it starts on first request."""

    def __init__(self, runtime: Runtime, key: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.runtime = runtime
        self._key = key
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/health":
                    self._reply(200, {"status": "ok", "running": server.runtime.running_local_models()})
                else:
                    self._reply(404, {"error": f"no such path {self.path}"})

            def do_POST(self) -> None:
                if self.path != ENSURE_PATH:
                    self._reply(404, {"error": f"no such path {self.path}"})
                    return
                given = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if not hmac.compare_digest(given.encode(), server._key.encode()):
                    self._reply(401, {"error": "wrong or missing key (llm.model_server_key)"})
                    return
                try:
                    length = int(self.headers.get("Content-Length", 0))
                    model_id = str(json.loads(self.rfile.read(min(length, 4096)) or b"{}")["model"])
                    spec = server.runtime.catalog.get(model_id)
                    if spec.provider != "local":
                        raise ValueError(f"{model_id} is not a local model")
                    local = server.runtime.local_server(spec)
                    base_url = local.base_url  # starts it (loads the weights) on the first request
                except (ProviderError, ModelNotConfigured, WeightsError, ValueError, KeyError) as exc:
                    self._reply(400, {"error": str(exc)})
                    return
                self._reply(
                    200, {"base_url": _as_seen_from(self.headers.get("Host"), base_url), "api_key": local.api_key}
                )

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.httpd.server_close()
            self.runtime.close()

    def shutdown(self) -> None:
        threading.Thread(target=self.httpd.shutdown, daemon=True).start()


class SharedLocalServer:
    """A local model as another process's model server runs it: the LocalLlamaServer calls the runtime makes."""

    def __init__(self, model_id: str, server_url: str, key: str, timeout_s: float = 300.0) -> None:
        self.model_id = model_id
        self._server_url = server_url.rstrip("/")
        self._key = key
        self._timeout = timeout_s  # the first request for a model waits for its weights to load
        self._lock = threading.Lock()
        self._answer: dict[str, str] | None = None

    @property
    def running(self) -> bool:
        return self._answer is not None

    @property
    def base_url(self) -> str:
        return self._ensure()["base_url"]

    @property
    def api_key(self) -> str:
        return self._ensure()["api_key"]

    def ensure_started(self) -> str:
        return self.base_url.removesuffix("/v1")

    def forget(self) -> None:
        """Ask again next time (the model server was restarted: its models run on new ports)."""
        with self._lock:
            self._answer = None

    def stop(self) -> None:
        self.forget()  # the model server owns the model; it stops it when it stops

    def _ensure(self) -> dict[str, str]:
        with self._lock:
            if self._answer is None:
                self._answer = self._ask()
            return self._answer

    def _ask(self) -> dict[str, str]:
        request = urllib.request.Request(
            self._server_url + ENSURE_PATH, data=json.dumps({"model": self.model_id}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = _error_of(exc)
            raise ProviderError("local", self.model_id, f"the model server refused: {detail}",
                                kind=FailureKind.CONFIGURATION) from exc  # fmt: skip
        except (OSError, ValueError) as exc:
            raise ProviderError(
                "local",
                self.model_id,
                f"the model server at {self._server_url} does not answer ({exc})",
                "start it with `workbench model-server`, or unset WORKBENCH_LLM__MODEL_SERVER_URL",
                kind=FailureKind.CONNECTION,
            ) from exc
        return {"base_url": str(answer["base_url"]), "api_key": str(answer["api_key"])}


def _as_seen_from(host_header: str | None, base_url: str) -> str:
    """A model listening on every interface (`--host 0.0.0.0`, another machine or container asks) is reached at the
    host name the asker reached this server by, on the model's own port."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.hostname not in ("0.0.0.0", "::") or not host_header:
        return base_url
    host = urllib.parse.urlsplit(f"//{host_header}").hostname or "127.0.0.1"
    return parts._replace(netloc=f"{host}:{parts.port}").geturl()


def _error_of(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("error", exc.reason))
    except (OSError, ValueError):
        return str(exc.reason)
