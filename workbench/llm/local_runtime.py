"""llama.cpp's OpenAI-compatible server (xllamacpp, in process) serving one GGUF model on loopback.

xllamacpp.Server(params) loads the model and starts llama.cpp's HTTP server on native threads; it returns once
the model is loaded, and its destructor stops the server and joins those threads. Generation runs without the
GIL, so a streaming answer does not stall the Python threads around it. Loading does hold the GIL (~0.6 s for
SmolLM2, longer for bigger models), which is one reason the server starts lazily, on first use.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.llm.errors import FailureKind, ProviderError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# llama.cpp log threshold: 1 prints errors only (a model that fails to load says why), not per-request timings.
_LLAMA_VERBOSITY = 1


class LocalLlamaServer:
    """One local model behind http://127.0.0.1:<free port>/v1. Thread-safe; started on first use, stop() to end."""

    def __init__(
        self,
        model_id: str,
        model_path: Callable[[], Path],
        *,
        threads: int = 1,
        batch_threads: int | None = None,
        context: int = 4096,
        parallel: int = 1,
        start_timeout_s: float = 120.0,
        host: str = LOOPBACK,
    ) -> None:
        self.model_id = model_id
        self._model_path = model_path  # called on first start: may assemble and verify weights
        self.threads = threads
        self.batch_threads = batch_threads or threads
        self.context = context
        self.parallel = parallel
        self.start_timeout_s = start_timeout_s
        self.host = host  # loopback, unless a model server serves other machines (`--host 0.0.0.0`)
        # The server listens on loopback only, and still asks for a key: other local users have no business here.
        self.api_key = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._server: Any = None
        self._address: str | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (…/v1); starts the server if needed."""
        return self.ensure_started() + "/v1"

    def ensure_started(self) -> str:
        """Start the server unless it runs; returns its address (http://127.0.0.1:PORT)."""
        with self._lock:
            if self._server is None:
                self._server, self._address = self._start()
            assert self._address is not None
            return self._address

    def stop(self) -> None:
        """Stop the server (joins llama.cpp's threads; an answer being streamed is cut off). Idempotent."""
        with self._lock:
            server, self._server, self._address = self._server, None, None
        if server is not None:
            log.info("stopping local model %s", self.model_id)
            del server  # the last reference: xllamacpp's destructor terminates and joins the server

    def _start(self) -> tuple[Any, str]:
        import xllamacpp  # type: ignore[import-untyped]  # no stubs; imported late: it loads a 100 MB library

        path = self._model_path()
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.model_alias = {self.model_id}
        # Slots share one unified KV cache sized so each can hold a full context: batching two requests never
        # shortens the context one of them may use.
        params.n_ctx = self.context * self.parallel
        params.n_parallel = self.parallel
        params.kv_unified = True
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.batch_threads
        params.hostnames = [self.host]
        params.port = 0  # the OS picks a free port atomically; listening_address tells which
        params.api_keys = [self.api_key]
        params.ui = False
        params.verbosity = _LLAMA_VERBOSITY
        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)
        except RuntimeError as exc:
            raise ProviderError(
                "local",
                self.model_id,
                f"llama.cpp could not load {path.name} ({exc})",
                "see the llama.cpp errors in the log",
                kind=FailureKind.CONFIGURATION,
            ) from exc
        address = str(server.listening_address).rstrip("/")
        try:
            self._wait_until_healthy(address)
        except BaseException:
            del server
            raise
        log.info(
            "local model %s serving at %s (%d thread(s), context %d, loaded in %.1f s)",
            self.model_id,
            address,
            self.threads,
            self.context,
            time.perf_counter() - started,
        )
        return server, address

    def _wait_until_healthy(self, address: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        last_error = "no answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{address}/health", timeout=2) as response:
                    if json.loads(response.read()).get("status") == "ok":
                        return
            except (OSError, ValueError) as exc:  # 503 while loading is an HTTPError, an OSError
                last_error = str(exc)
            time.sleep(0.05)
        raise ProviderError(
            "local",
            self.model_id,
            f"the llama.cpp server at {address} did not become healthy within {self.start_timeout_s:.0f} s "
            f"({last_error})",
            kind=FailureKind.TIMEOUT,
        )
