"""Failures of remote providers read as plain words naming the provider and the cause (all on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.llm.conftest import Reply, ScriptedOpenAIServer
from workbench.llm import LLMRuntime, LLMSettings, ModelSpec, ModelWeights, ProviderError, ProviderTimeout
from workbench.llm.errors import FailureKind
from workbench.llm.messages import Message, Role
from workbench.storage.runlog.embedded import free_port

pytestmark = pytest.mark.integration

QUESTION = [Message(Role.USER, "Hello?")]


def runtime_for(spec: ModelSpec, tmp_path: Path, **settings: object) -> LLMRuntime:
    return LLMRuntime(
        LLMSettings(default_model=spec.id, models=[spec], max_retries=0, **settings),  # type: ignore[arg-type]
        ModelWeights(tmp_path / "models"),
    )


def test_an_unreachable_openai_compatible_server(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    spec = ModelSpec(id="vllm", provider="openai_compatible", model="qwen", base_url=base_url)

    with pytest.raises(ProviderError) as caught:
        list(runtime_for(spec, tmp_path).stream_chat("vllm", QUESTION))

    assert caught.value.kind is FailureKind.CONNECTION
    assert str(caught.value) == (
        f"openai_compatible (vllm): cannot connect at {base_url} (connection refused)"
        " — check that the server is running"
    )


def test_a_bad_openai_key_is_an_authentication_error(
    tmp_path: Path, scripted_server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted_server.reply = Reply(
        401,
        {
            "error": {
                "message": "Incorrect API key provided: sk-bad***",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-bad-key-for-test")
    spec = ModelSpec(id="gpt", provider="openai", model="gpt-4o-mini", base_url=scripted_server.base_url)

    with pytest.raises(ProviderError) as caught:
        list(runtime_for(spec, tmp_path).stream_chat("gpt", QUESTION))

    assert str(caught.value) == "openai (gpt): authentication failed — set OPENAI_API_KEY to a valid key"
    assert "sk-bad" not in str(caught.value)
    assert scripted_server.requests[0]["auth"] == "Bearer sk-bad-key-for-test"
    assert scripted_server.requests[0]["path"] == "/v1/chat/completions"


def test_an_unknown_model_is_named(
    tmp_path: Path, scripted_server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted_server.reply = Reply(404, {"error": {"message": "The model `gpt-9` does not exist"}})
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    spec = ModelSpec(id="gpt-9", provider="openai", model="gpt-9", base_url=scripted_server.base_url)

    with pytest.raises(ProviderError) as caught:
        list(runtime_for(spec, tmp_path).stream_chat("gpt-9", QUESTION))

    assert caught.value.kind is FailureKind.NOT_FOUND
    assert "openai (gpt-9): model not found: The model `gpt-9` does not exist" in str(caught.value)


def test_a_slow_server_is_a_provider_timeout(tmp_path: Path, scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.reply = Reply(200, {}, delay_s=1.0)
    spec = ModelSpec(id="slow", provider="openai_compatible", model="m", base_url=scripted_server.base_url)

    with pytest.raises(ProviderTimeout) as caught:
        list(runtime_for(spec, tmp_path, request_timeout_s=0.3).stream_chat("slow", QUESTION))

    assert str(caught.value).startswith(
        f"openai_compatible (slow): timed out: no answer within 0.3 s at {scripted_server.base_url}"
    )
