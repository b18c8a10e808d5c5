"""Every client failure becomes a ProviderError that names provider, model and cause in plain words.

The exceptions are the client libraries' own classes, built offline the way the clients build them.
"""

from __future__ import annotations

import httpx
import openai
import pytest
from ollama import ResponseError

from workbench.llm.errors import FailureKind, ProviderError, ProviderTimeout, provider_error_from

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def openai_status(cls: type[openai.APIStatusError], status: int, message: str) -> openai.APIStatusError:
    body = {"error": {"message": message, "type": "invalid_request_error"}}
    return cls(message, response=httpx.Response(status, request=REQUEST, json=body), body=body["error"])


def connection_refused() -> openai.APIConnectionError:
    try:
        try:
            raise httpx.ConnectError("[Errno 111] Connection refused")
        except httpx.ConnectError as inner:
            raise openai.APIConnectionError(request=REQUEST) from inner
    except openai.APIConnectionError as outer:
        return outer


def test_str_names_provider_model_cause_and_hint() -> None:
    error = ProviderError("openai", "gpt-4o-mini", "authentication failed", "set OPENAI_API_KEY")
    assert str(error) == "openai (gpt-4o-mini): authentication failed — set OPENAI_API_KEY"
    assert str(ProviderError("local", "m", "boom")) == "local (m): boom"


def test_authentication_failure_points_at_the_key_variable_and_never_echoes_the_key() -> None:
    exc = openai_status(openai.AuthenticationError, 401, "Incorrect API key provided: sk-abc***xyz")
    error = provider_error_from(exc, provider="openai", model="gpt-4o-mini", api_key_env="OPENAI_API_KEY")
    assert str(error) == "openai (gpt-4o-mini): authentication failed — set OPENAI_API_KEY to a valid key"
    assert error.kind is FailureKind.AUTHENTICATION
    assert "sk-abc" not in str(error)


def test_connection_refused_names_the_address() -> None:
    error = provider_error_from(
        connection_refused(), provider="openai_compatible", model="vllm", base_url="http://127.0.0.1:9/v1"
    )
    assert str(error).startswith("openai_compatible (vllm): cannot connect at http://127.0.0.1:9/v1")
    assert "connection refused" in str(error)
    assert error.kind is FailureKind.CONNECTION


def test_timeouts_are_a_provider_timeout() -> None:
    for exc in (openai.APITimeoutError(request=REQUEST), httpx.ReadTimeout("timed out"), TimeoutError()):
        error = provider_error_from(exc, provider="openai", model="gpt")
        assert isinstance(error, ProviderTimeout)
        assert error.kind is FailureKind.TIMEOUT
        assert str(error) == (
            "openai (gpt): timed out: no answer within the request timeout — raise llm.request_timeout_s or retry"
        )
    within = provider_error_from(TimeoutError(), provider="ollama", model="m", base_url="http://h", timeout_s=30.0)
    assert str(within).startswith("ollama (m): timed out: no answer within 30 s at http://h")


def test_model_not_found_and_other_statuses() -> None:
    missing = openai_status(openai.NotFoundError, 404, "The model `gpt-9` does not exist")
    error = provider_error_from(missing, provider="openai", model="gpt-9")
    assert "model not found: The model `gpt-9` does not exist" in str(error)
    assert error.kind is FailureKind.NOT_FOUND

    limited = provider_error_from(openai_status(openai.RateLimitError, 429, "slow down"), provider="openai", model="g")
    assert limited.kind is FailureKind.RATE_LIMIT

    context = openai_status(openai.BadRequestError, 400, "the request exceeds the available context size")
    rejected = provider_error_from(context, provider="local", model="qwen")
    assert str(rejected) == "local (qwen): request rejected (HTTP 400): the request exceeds the available context size"

    broken = provider_error_from(openai_status(openai.InternalServerError, 500, "oops"), provider="openai", model="g")
    assert broken.kind is FailureKind.SERVER


def test_ollama_errors() -> None:
    not_pulled = provider_error_from(ResponseError("model 'llama3' not found", 404), provider="ollama", model="llama3")
    assert "run `ollama pull llama3`" in str(not_pulled)

    # The ollama client turns a refused connection into the builtin ConnectionError.
    down = provider_error_from(
        ConnectionError("Failed to connect to Ollama."), provider="ollama", model="llama3", base_url="http://h:11434"
    )
    assert down.kind is FailureKind.CONNECTION
    assert "ollama serve" in str(down)


def test_anthropic_errors_are_mapped_the_same_way() -> None:
    anthropic = pytest.importorskip("anthropic")
    response = httpx.Response(401, request=REQUEST, json={"error": {"message": "invalid x-api-key"}})
    exc = anthropic.AuthenticationError("invalid x-api-key", response=response, body=None)
    error = provider_error_from(exc, provider="anthropic", model="claude", api_key_env="ANTHROPIC_API_KEY")
    assert str(error) == "anthropic (claude): authentication failed — set ANTHROPIC_API_KEY to a valid key"


def test_anything_else_keeps_its_type_and_message() -> None:
    error = provider_error_from(ValueError("Unknown model 'x'"), provider="openai", model="x")
    assert str(error) == "openai (x): ValueError: Unknown model 'x'"
    same = ProviderError("local", "m", "boom")
    assert provider_error_from(same, provider="other", model="n") is same
