"""The packaged models really run: llama.cpp's server on loopback, streamed through LlamaIndex, measured."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.llm.conftest import require_weights
from workbench.llm import LLMRuntime, LLMSettings, ModelSpec, ModelWeights, ProviderError, stream_chat
from workbench.llm import weights as weights_module
from workbench.llm.errors import FailureKind
from workbench.llm.messages import Message, Role
from workbench.llm.weights import PACKAGED_MODELS, sha256_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SMOL = "smollm2-135m-instruct"
QWEN = "qwen2.5-0.5b-instruct"


def ask(text: str) -> list[Message]:
    return [Message(Role.USER, text)]


def test_smollm2_streams_tokens_with_timings_and_reported_usage(local_runtime: LLMRuntime) -> None:
    require_weights(local_runtime, SMOL)

    stream = local_runtime.stream_chat(SMOL, ask("Name three colours."), max_tokens=24)
    deltas = list(stream)

    assert len(deltas) > 1, "the answer arrives token by token"
    assert stream.text.strip()
    assert stream.tokens_estimated is False, "llama.cpp reports usage in the last chunk"
    assert stream.input_tokens is not None and stream.input_tokens > 5
    assert stream.output_tokens is not None and 1 < stream.output_tokens <= 24
    assert stream.ttft_ms is not None and stream.latency_ms is not None
    assert 0 < stream.ttft_ms < stream.latency_ms
    assert stream.finish_reason in ("stop", "length")
    assert local_runtime.running_local_models() == [SMOL]


def test_the_local_server_is_one_per_model_on_loopback_and_wants_its_key(local_runtime: LLMRuntime) -> None:
    require_weights(local_runtime, SMOL)
    server = local_runtime.local_server(local_runtime.catalog.get(SMOL))
    addresses: list[str] = []
    threads = [threading.Thread(target=lambda: addresses.append(server.ensure_started())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(addresses)) == 1
    assert addresses[0].startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{addresses[0]}/health", timeout=5) as response:
        assert json.loads(response.read()) == {"status": "ok"}
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{addresses[0]}/v1/models", timeout=5)
    assert caught.value.code == 401


def test_openai_compatible_provider_against_the_real_local_server(
    local_runtime: LLMRuntime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A real OpenAI-compatible server on loopback (llama.cpp's), reached as a user would configure vLLM."""
    require_weights(local_runtime, SMOL)
    server = local_runtime.local_server(local_runtime.catalog.get(SMOL))
    spec = ModelSpec(
        id="loopback-llama",
        provider="openai_compatible",
        model=SMOL,
        base_url=server.base_url,
        api_key_env="LOOPBACK_LLAMA_KEY",
        max_tokens=12,
    )
    settings = LLMSettings(default_model=spec.id, models=[spec], max_retries=0)
    remote = LLMRuntime(settings, ModelWeights(tmp_path / "unused"))

    assert remote.catalog.available() == [], "the key variable is not set yet"
    monkeypatch.setenv("LOOPBACK_LLAMA_KEY", "wrong-key")
    with pytest.raises(ProviderError) as caught:
        "".join(remote.stream_chat(spec.id, ask("Say hello.")))
    assert str(caught.value) == (
        "openai_compatible (loopback-llama): authentication failed — set LOOPBACK_LLAMA_KEY to a valid key"
    )

    monkeypatch.setenv("LOOPBACK_LLAMA_KEY", server.api_key)
    stream = remote.stream_chat(spec.id, ask("Say hello."))
    assert "".join(stream).strip()
    assert stream.output_tokens is not None and stream.output_tokens <= 12
    assert not stream.tokens_estimated
    assert remote.running_local_models() == [], "nothing local was started by the remote runtime"


def test_qwen_is_assembled_verified_once_and_answers(
    local_runtime: LLMRuntime, llm_models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_weights(local_runtime, QWEN)

    llm = local_runtime.llm(QWEN, max_tokens=16, temperature=0.0)
    stream = stream_chat(llm, ask("What is 2 + 2? Answer with the number only."), provider="local", model=QWEN)
    answer = "".join(stream)

    assert "4" in answer
    assembled = llm_models_dir / PACKAGED_MODELS[QWEN].filename
    assert assembled.stat().st_size == 491_400_064
    # A later start over the same data dir trusts the marker: no 500 MB re-hash.
    hashed: list[Path] = []
    monkeypatch.setattr(weights_module, "sha256_of", lambda path: hashed.append(path) or sha256_of(path))
    assert ModelWeights(llm_models_dir).path(QWEN) == assembled
    assert hashed == []


def test_a_stopped_server_refuses_connections_and_restarts_on_next_use(tmp_path: Path, llm_models_dir: Path) -> None:
    with LLMRuntime(LLMSettings(), ModelWeights(llm_models_dir)) as runtime:
        require_weights(runtime, SMOL)
        server = runtime.local_server(runtime.catalog.get(SMOL))
        address = server.ensure_started()
        server.stop()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"{address}/health", timeout=2)

        llm = runtime.llm(SMOL, max_tokens=4)  # first use again: a fresh server
        assert "".join(stream_chat(llm, ask("Hi"), provider="local", model=SMOL))
    assert runtime.running_local_models() == []
    with pytest.raises(ProviderError) as caught:
        runtime.llm(SMOL)
    assert caught.value.kind is FailureKind.SERVER
