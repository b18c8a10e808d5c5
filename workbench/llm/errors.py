"""Model errors in plain words: which provider and model failed, why, and what to do about it."""

from __future__ import annotations

import sys
from enum import StrEnum


class FailureKind(StrEnum):
    CONFIGURATION = "configuration"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    NOT_FOUND = "not_found"
    RATE_LIMIT = "rate_limit"
    BAD_REQUEST = "bad_request"
    SERVER = "server"
    UNKNOWN = "unknown"


class ProviderError(RuntimeError):
    """A model call or model set-up failed. str() reads e.g.
    "openai (gpt-4o-mini): authentication failed — set OPENAI_API_KEY"."""

    def __init__(
        self,
        provider: str,
        model: str,
        message: str,
        hint: str | None = None,
        *,
        kind: FailureKind = FailureKind.UNKNOWN,
    ) -> None:
        self.provider = provider
        self.model = model
        self.message = message
        self.hint = hint
        self.kind = kind
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.provider} ({self.model}): {self.message}"
        return f"{text} — {self.hint}" if self.hint else text


class ProviderTimeout(ProviderError):
    """The provider did not answer within the request timeout."""

    def __init__(self, provider: str, model: str, message: str, hint: str | None = None) -> None:
        super().__init__(provider, model, message, hint, kind=FailureKind.TIMEOUT)


class ModelNotConfigured(LookupError):
    """A model id that is not in the llm settings."""

    def __init__(self, model_id: str, known: list[str]) -> None:
        self.model_id = model_id
        super().__init__(f"model {model_id!r} is not configured (configured: {', '.join(known) or 'none'})")


class WeightsError(RuntimeError):
    """Packaged local weights cannot be used."""

    def __init__(self, message: str, *, hint: str) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} — {hint}")


class WeightsMissing(WeightsError):
    """A package holding (part of) the weights is not installed."""


class WeightsCorrupt(WeightsError):
    """The weights do not hash to the pinned sha256."""


# Mapping library exceptions ---------------------------------------------------------------------------------------
# The client libraries share a shape (Stainless-generated openai/anthropic: status_code, body; ollama: status_code,
# error; httpx underneath all of them), so errors are classified by status code and by the transport exceptions of
# the libraries already imported. A library that is not imported cannot have raised, so nothing heavy (anthropic
# takes seconds to import) is imported here.

_MAX_DETAIL = 200


def provider_error_from(
    exc: BaseException,
    *,
    provider: str,
    model: str,
    base_url: str | None = None,
    api_key_env: str | None = None,
    timeout_s: float | None = None,
) -> ProviderError:
    """Turn any exception raised by a model client into a ProviderError that names provider, model and cause."""
    if isinstance(exc, ProviderError):
        return exc
    where = f" at {base_url}" if base_url else ""
    if _is_timeout(exc):
        within = f"within {timeout_s:g} s" if timeout_s else "within the request timeout"
        return ProviderTimeout(
            provider, model, f"timed out: no answer {within}{where}", "raise llm.request_timeout_s or retry"
        )
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return _from_status(status, _detail(exc), provider=provider, model=model, api_key_env=api_key_env)
    if _is_connection(exc):
        hint = "start Ollama (`ollama serve`)" if provider == "ollama" else "check that the server is running"
        return ProviderError(
            provider, model, f"cannot connect{where} ({_connection_cause(exc)})", hint, kind=FailureKind.CONNECTION
        )
    return ProviderError(provider, model, f"{type(exc).__name__}: {_short(str(exc))}", kind=FailureKind.UNKNOWN)


def _from_status(status: int, detail: str, *, provider: str, model: str, api_key_env: str | None) -> ProviderError:
    suffix = f": {detail}" if detail else ""
    if status == 401:
        hint = f"set {api_key_env} to a valid key" if api_key_env else "check the API key"
        return ProviderError(provider, model, "authentication failed", hint, kind=FailureKind.AUTHENTICATION)
    if status == 403:
        return ProviderError(
            provider, model, f"permission denied{suffix}", "check the key's access", kind=FailureKind.PERMISSION
        )
    if status == 404:
        hint = f"run `ollama pull {model}`" if provider == "ollama" else "check the model name in the llm settings"
        return ProviderError(provider, model, f"model not found{suffix}", hint, kind=FailureKind.NOT_FOUND)
    if status == 408:
        return ProviderTimeout(provider, model, f"the server timed out{suffix}", "retry")
    if status == 429:
        return ProviderError(
            provider, model, f"rate limited{suffix}", "wait a moment or raise the quota", kind=FailureKind.RATE_LIMIT
        )
    if 400 <= status < 500:
        return ProviderError(provider, model, f"request rejected (HTTP {status}){suffix}", kind=FailureKind.BAD_REQUEST)
    return ProviderError(
        provider, model, f"server error (HTTP {status}){suffix}", "retry later", kind=FailureKind.SERVER
    )


def _imported_exceptions(*names: str) -> tuple[type[BaseException], ...]:
    """Exception classes `module.Class` from the modules already imported."""
    found: list[type[BaseException]] = []
    for name in names:
        module_name, _, class_name = name.rpartition(".")
        module = sys.modules.get(module_name)
        candidate = getattr(module, class_name, None) if module is not None else None
        if isinstance(candidate, type) and issubclass(candidate, BaseException):
            found.append(candidate)
    return tuple(found)


def _is_timeout(exc: BaseException) -> bool:
    timeouts: tuple[type[BaseException], ...] = (
        TimeoutError,
        *_imported_exceptions("openai.APITimeoutError", "anthropic.APITimeoutError", "httpx.TimeoutException"),
    )
    return any(isinstance(e, timeouts) for e in _chain(exc))


def _is_connection(exc: BaseException) -> bool:
    connection: tuple[type[BaseException], ...] = (
        ConnectionError,
        *_imported_exceptions("openai.APIConnectionError", "anthropic.APIConnectionError", "httpx.TransportError"),
    )
    return isinstance(exc, connection)


def _connection_cause(exc: BaseException) -> str:
    for cause in _chain(exc):
        text = str(cause).lower()
        if isinstance(cause, ConnectionRefusedError) or "connection refused" in text:
            return "connection refused"
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "host not found"
        if "ssl" in text or "certificate" in text:
            return "TLS error"
    return "no connection"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _detail(exc: BaseException) -> str:
    """The server's own error message when it sent one (openai/anthropic body, ollama error)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(message, str):
            return _short(message)
    error = getattr(exc, "error", None)
    if isinstance(error, str):
        return _short(error)
    return ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
