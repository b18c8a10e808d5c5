"""Turns a configured model id into a LlamaIndex LLM; owns the local llama.cpp servers.

Never touches llama_index.core.Settings: every LLM is built here from the workbench settings and handed to the
pipeline that uses it. Keys are read from the environment each time an LLM is built, never stored.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from workbench.config.llm import LLMSettings, ModelSpec
from workbench.llm.catalog import ModelCatalog
from workbench.llm.errors import FailureKind, ProviderError, WeightsError
from workbench.llm.limits import Limiter, LocalLimiter, limited_transport, limits_of
from workbench.llm.local_runtime import LOOPBACK, LocalLlamaServer
from workbench.llm.messages import Message, Role
from workbench.llm.model_server import SharedLocalServer
from workbench.llm.streaming import ChatStream, stream_chat
from workbench.llm.weights import ModelWeights

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Ask OpenAI-style servers (OpenAI, llama.cpp, vLLM, LM Studio) for token usage in the last streamed chunk.
_STREAM_USAGE = {"stream_options": {"include_usage": True}}


class LLMRuntime:
    """Process-wide and thread-safe: builds LLMs per call, keeps one llama.cpp server per local model."""

    def __init__(
        self,
        settings: LLMSettings,
        weights: ModelWeights,
        environ: Mapping[str, str] | None = None,
        limiter: Limiter | None = None,
        local_host: str = LOOPBACK,
    ) -> None:
        self.settings = settings
        self.weights = weights
        self.catalog = ModelCatalog(settings, weights, environ)
        # Counts the models' and providers' request limits: in this process unless a shared one is given.
        self.limiter = limiter or LocalLimiter()
        self.local_host = local_host  # where the local llama.cpp servers listen
        self._lock = threading.Lock()
        self._servers: dict[str, LocalLlamaServer | SharedLocalServer] = {}
        self._transport: httpx.HTTPTransport | None = None
        self._http: httpx.Client | None = None
        self._limited: dict[str, httpx.Client] = {}
        self._httpx2: Any = None
        self._closed = False

    @classmethod
    def for_data_dir(cls, settings: LLMSettings, data_dir: Path, limiter: Limiter | None = None) -> LLMRuntime:
        """The usual wiring: assembled weights live in <data_dir>/models."""
        return cls(settings, ModelWeights(data_dir / "models"), limiter=limiter)

    # Building LLMs ----------------------------------------------------------------------------------------------

    def llm(
        self,
        model_id: str,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout_s: float | None = None,
        **request_params: Any,
    ) -> LLM:
        """A LlamaIndex LLM for a configured model; a local model's server is started here on first use.

        temperature/max_tokens override the spec; request_params (top_p, seed, stop, ...) go into each request.
        Raises ModelNotConfigured for an unknown id and ProviderError when the model cannot be set up.
        """
        spec = self.catalog.get(model_id)
        updates = {k: v for k, v in {"temperature": temperature, "max_tokens": max_tokens}.items() if v is not None}
        spec = spec.model_copy(update=updates) if updates else spec
        timeout = timeout_s or self.settings.request_timeout_s
        try:
            return self._build(spec, timeout, dict(request_params))
        except WeightsError as exc:
            raise ProviderError(spec.provider, spec.id, exc.message, exc.hint, kind=FailureKind.CONFIGURATION) from exc

    def stream_chat(self, model_id: str, messages: Sequence[Message], **overrides: Any) -> ChatStream:
        """Build the model's LLM and stream one chat turn (see workbench.llm.streaming.stream_chat)."""
        spec = self.catalog.get(model_id)
        llm = self.llm(model_id, **overrides)
        return stream_chat(llm, messages, provider=spec.provider, model=spec.id, api_key_env=spec.api_key_env)

    def load_libraries(self) -> None:
        """Import LlamaIndex's core and OpenAI-style clients now, in this thread. Its modules import each other in
        circles, and a second thread importing it meanwhile (the page's retrieval beside a warm-up) can be handed
        a half-initialised module ("cannot import name ... partially initialized module")."""
        import llama_index.core  # noqa: F401
        from llama_index.llms.openai_like import OpenAILike  # noqa: F401

    def warm_up(self, model_id: str) -> None:
        """Make a local model's first answer fast: start its server and send a one-token request (which also
        imports the client libraries and runs llama.cpp's first-request set-up). Hosted models: nothing to do."""
        spec = self.catalog.get(model_id)
        if spec.provider != "local":
            return
        for _ in self.stream_chat(model_id, [Message(Role.USER, "Hi")], max_tokens=1):
            pass

    def http_client(self, spec: ModelSpec | None = None) -> httpx.Client:
        """The HTTP client of the LLMs built here. One connection pool serves them all: its connections are kept
        alive, and its TLS context is made once (making one loads the CA bundle: ~30 ms, which every request paid
        before). A model with request limits (its own, or its provider's) gets a client of its own over that pool
        whose requests wait for the limiter first."""
        with self._lock:
            if self._transport is None:
                self._transport = httpx.HTTPTransport(
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=16)
                )
                self._http = httpx.Client(transport=self._transport)
            assert self._http is not None
            counted = limits_of(spec, self.settings.provider_limits) if spec is not None else []
            if not counted:
                return self._http
            assert spec is not None
            client = self._limited.get(spec.id)
            if client is None:
                wait_s = self.settings.request_timeout_s
                transport = limited_transport(self._transport, self.limiter, counted, wait_s)
                client = self._limited[spec.id] = httpx.Client(transport=transport)
            return client

    def _build(self, spec: ModelSpec, timeout: float, request_params: dict[str, Any]) -> LLM:
        if spec.provider == "local":
            server = self.local_server(spec)
            # Loopback: no retries (a retry would only queue behind the answer being generated).
            options = _Request(timeout, 0, request_params, self.http_client(spec))
            context = min(spec.context_window, self.settings.local_context)
            # The model name is the server's alias for its one model.
            return _openai_like(spec, spec.id, server.base_url, server.api_key, options, context)
        options = _Request(timeout, self.settings.max_retries, request_params, self.http_client(spec))
        key = self._key(spec)
        if spec.provider == "openai":
            return _openai(spec, key, options)
        if spec.provider == "anthropic":
            limiter = self._anthropic_transport(spec) if options.http_client is not self._http else None
            return _anthropic(spec, key, options, limited=limiter)
        if spec.provider == "ollama":
            return _ollama(spec, options, limited=options.http_client is not self._http)
        assert spec.base_url is not None  # openai_compatible: required by ModelSpec
        return _openai_like(spec, spec.model, spec.base_url, key or "not-needed", options, spec.context_window)

    def _anthropic_transport(self, spec: ModelSpec) -> Any:
        """The anthropic SDK is built on httpx2, httpx's fork: its limited transport sends through a pool of its own."""
        import httpx2

        with self._lock:
            if self._httpx2 is None:
                self._httpx2 = httpx2.HTTPTransport()
            counted = limits_of(spec, self.settings.provider_limits)
            return limited_transport(self._httpx2, self.limiter, counted, self.settings.request_timeout_s, http=httpx2)

    def _key(self, spec: ModelSpec) -> str | None:
        """The key from the spec's variable, read now (a key exported after start-up works); None if none needed."""
        if spec.api_key_env is None:
            return None
        key = self.catalog.environ.get(spec.api_key_env, "").strip()
        if not key:
            raise ProviderError(
                spec.provider, spec.id, "no API key", f"set {spec.api_key_env}", kind=FailureKind.AUTHENTICATION
            )
        return key

    # Local servers ----------------------------------------------------------------------------------------------

    def local_server(self, spec: ModelSpec) -> LocalLlamaServer | SharedLocalServer:
        """The one server of this local model (created, not started): in this process, or in the model server of
        `llm.model_server_url` (then shared with every process on the machine)."""
        with self._lock:
            if self._closed:
                raise ProviderError(spec.provider, spec.id, "the model runtime is shut down", kind=FailureKind.SERVER)
            server = self._servers.get(spec.id)
            if server is None and self.settings.model_server_url is not None:
                key = self.settings.model_server_key.get_secret_value() if self.settings.model_server_key else ""
                server = SharedLocalServer(spec.id, self.settings.model_server_url, key)
                self._servers[spec.id] = server
            if server is None:
                server = LocalLlamaServer(
                    spec.id,
                    lambda: self._local_path(spec),
                    threads=self.settings.local_threads,
                    batch_threads=self.settings.local_batch_threads,
                    context=self.settings.local_context,
                    parallel=self.settings.local_parallel,
                    host=self.local_host,
                )
                self._servers[spec.id] = server
            return server

    def running_local_models(self) -> list[str]:
        with self._lock:
            return [model_id for model_id, server in self._servers.items() if server.running]

    def _local_path(self, spec: ModelSpec) -> Path:
        if self.weights.is_packaged(spec.model):
            return self.weights.path(spec.model)
        path = Path(spec.model).expanduser()
        if not path.is_file():
            raise ProviderError(
                "local", spec.id, f"no packaged model or .gguf file named {spec.model!r}", kind=FailureKind.NOT_FOUND
            )
        return path

    # Lifecycle --------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every local server. Idempotent; the runtime refuses new local models afterwards."""
        with self._lock:
            self._closed = True
            servers = list(self._servers.values())
            self._servers.clear()
            clients = [*self._limited.values(), *([self._http] if self._http is not None else [])]
            self._http, self._transport = None, None
            self._limited.clear()
            httpx2_pool, self._httpx2 = self._httpx2, None
        for server in servers:
            server.stop()
        for client in clients:  # the shared client last: it closes the pool the limited ones send through
            client.close()
        if httpx2_pool is not None:
            httpx2_pool.close()
        closing = getattr(self.limiter, "close", None)
        if closing is not None:
            closing()

    def __enter__(self) -> LLMRuntime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class _Request:
    timeout_s: float
    max_retries: int
    params: dict[str, Any]
    http_client: httpx.Client | None = None


def _openai(spec: ModelSpec, key: str | None, options: _Request) -> LLM:
    if not _known_to_llama_index(spec.model):
        return _openai_like(spec, spec.model, spec.base_url or OPENAI_BASE_URL, key or "", options, spec.context_window)
    from llama_index.llms.openai import OpenAI

    return OpenAI(
        model=spec.model,
        api_base=spec.base_url or OPENAI_BASE_URL,  # explicit: OPENAI_API_BASE in the environment must not redirect
        api_key=key,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        timeout=options.timeout_s,
        max_retries=options.max_retries,
        additional_kwargs={**_STREAM_USAGE, **options.params},
        http_client=options.http_client,
    )


def _anthropic(spec: ModelSpec, key: str | None, options: _Request, *, limited: Any) -> LLM:
    from llama_index.llms.anthropic import Anthropic  # imported only here: it takes seconds

    llm = Anthropic(
        model=spec.model,
        base_url=spec.base_url,
        api_key=key,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        timeout=options.timeout_s,
        max_retries=options.max_retries,
        additional_kwargs=options.params,
    )
    if limited is not None:
        import anthropic
        import httpx2

        # LlamaIndex's Anthropic takes no HTTP client; its SDK client does (on httpx2, httpx's fork): one whose
        # requests wait for the limiter.
        llm._client = anthropic.Anthropic(
            api_key=key, base_url=spec.base_url, timeout=options.timeout_s, max_retries=options.max_retries,
            http_client=httpx2.Client(transport=limited),
        )  # fmt: skip
    return llm


def _ollama(spec: ModelSpec, options: _Request, *, limited: bool) -> LLM:
    from llama_index.llms.ollama import Ollama

    assert spec.base_url is not None  # the catalog offers ollama models only with a base_url
    llm = Ollama(
        model=spec.model,
        base_url=spec.base_url,
        temperature=spec.temperature,
        context_window=spec.context_window,
        request_timeout=options.timeout_s,
        additional_kwargs={"num_predict": spec.max_tokens, **options.params},
    )
    if limited and options.http_client is not None:
        import ollama

        # LlamaIndex's Ollama takes no HTTP client; ollama's client passes `transport` on to its httpx client.
        transport = options.http_client._transport
        llm._client = ollama.Client(host=spec.base_url, timeout=options.timeout_s, transport=transport)
    return llm


def _openai_like(
    spec: ModelSpec, model: str, api_base: str, api_key: str, options: _Request, context_window: int
) -> LLM:
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=model,
        api_base=api_base,
        api_key=api_key,
        is_chat_model=True,  # llama.cpp applies the chat template stored in the GGUF on /v1/chat/completions
        is_function_calling_model=False,
        context_window=context_window,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        timeout=options.timeout_s,
        max_retries=options.max_retries,
        additional_kwargs={**_STREAM_USAGE, **options.params},
        http_client=options.http_client,
    )


def _known_to_llama_index(model: str) -> bool:
    """LlamaIndex's OpenAI class refuses models missing from its context-window table; OpenAILike takes any."""
    from llama_index.llms.openai.utils import openai_modelname_to_contextsize

    try:
        openai_modelname_to_contextsize(model)
    except ValueError:
        return False
    return True
