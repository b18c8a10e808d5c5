"""LLMRuntime builds the right LlamaIndex class per provider, with keys read at call time, and starts nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_index.llms.ollama import Ollama
from llama_index.llms.openai import OpenAI
from llama_index.llms.openai_like import OpenAILike

from tests.unit.llm.conftest import FakePackages
from workbench.config.llm import LLMSettings, ModelSpec
from workbench.llm.errors import FailureKind, ModelNotConfigured, ProviderError
from workbench.llm.providers import LLMRuntime
from workbench.llm.weights import ModelWeights, PackagedModel, WeightPart


def runtime(tmp_path: Path, specs: list[dict[str, object]], environ: dict[str, str]) -> LLMRuntime:
    models = [ModelSpec.model_validate(s) for s in specs]
    settings = LLMSettings(default_model=models[0].id, models=models, request_timeout_s=7.0, max_retries=0)
    absent = PackagedModel("absent", "absent.gguf", "0" * 64, (WeightPart("absent_weights_part1", "w.bin"),))
    return LLMRuntime(settings, ModelWeights(tmp_path / "models", {"absent": absent}), environ)


def test_openai_gets_the_key_from_the_environment_at_call_time(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    llms = runtime(tmp_path, [{"id": "gpt", "provider": "openai", "model": "gpt-4o-mini", "max_tokens": 64}], environ)

    with pytest.raises(ProviderError) as caught:
        llms.llm("gpt")
    assert str(caught.value) == "openai (gpt): no API key — set OPENAI_API_KEY"
    assert caught.value.kind is FailureKind.AUTHENTICATION

    environ["OPENAI_API_KEY"] = "sk-later"
    llm = llms.llm("gpt", temperature=0.7, seed=3)
    assert type(llm) is OpenAI
    assert (llm.api_key, llm.api_base, llm.model) == ("sk-later", "https://api.openai.com/v1", "gpt-4o-mini")
    assert (llm.temperature, llm.max_tokens, llm.timeout, llm.max_retries) == (0.7, 64, 7.0, 0)
    assert llm.additional_kwargs == {"stream_options": {"include_usage": True}, "seed": 3}


def test_an_openai_model_unknown_to_llama_index_still_works(tmp_path: Path) -> None:
    llms = runtime(tmp_path, [{"id": "new", "provider": "openai", "model": "gpt-99-turbo"}], {"OPENAI_API_KEY": "k"})
    llm = llms.llm("new")
    assert isinstance(llm, OpenAILike)
    assert llm.metadata.is_chat_model
    assert llm.api_base == "https://api.openai.com/v1"


def test_anthropic(tmp_path: Path) -> None:
    from llama_index.llms.anthropic import Anthropic

    llms = runtime(
        tmp_path,
        [{"id": "claude", "provider": "anthropic", "model": "claude-3-5-haiku-latest"}],
        {"ANTHROPIC_API_KEY": "a"},
    )
    llm = llms.llm("claude", max_tokens=99)
    assert isinstance(llm, Anthropic)
    assert (llm.model, llm.max_tokens, llm.timeout) == ("claude-3-5-haiku-latest", 99, 7.0)


def test_ollama_and_openai_compatible(tmp_path: Path) -> None:
    llms = runtime(
        tmp_path,
        [
            {"id": "llama", "provider": "ollama", "model": "llama3.2:3b", "base_url": "http://127.0.0.1:11434"},
            {
                "id": "vllm",
                "provider": "openai_compatible",
                "model": "Qwen/Qwen2.5-7B",
                "base_url": "http://gpu:8000/v1",
            },
        ],
        {"OPENAI_API_KEY": "must-not-leak-into-vllm"},
    )
    ollama = llms.llm("llama", max_tokens=32)
    assert isinstance(ollama, Ollama)
    assert (ollama.base_url, ollama.model, ollama.request_timeout) == ("http://127.0.0.1:11434", "llama3.2:3b", 7.0)
    assert ollama.additional_kwargs["num_predict"] == 32

    vllm = llms.llm("vllm")
    assert isinstance(vllm, OpenAILike)
    assert (vllm.api_base, vllm.model, vllm.api_key) == ("http://gpu:8000/v1", "Qwen/Qwen2.5-7B", "not-needed")


def test_missing_local_weights_fail_with_make_install_and_start_nothing(tmp_path: Path) -> None:
    llms = runtime(tmp_path, [{"id": "qwen", "provider": "local", "model": "absent"}], {})
    with pytest.raises(ProviderError) as caught:
        llms.llm("qwen")
    assert caught.value.kind is FailureKind.CONFIGURATION
    assert "absent-weights-part1" in str(caught.value)
    assert "make install" in str(caught.value)
    assert llms.running_local_models() == []


def test_unknown_ids_and_a_closed_runtime(tmp_path: Path, fake_packages: FakePackages) -> None:
    llms = runtime(tmp_path, [{"id": "qwen", "provider": "local", "model": "absent"}], {})
    with pytest.raises(ModelNotConfigured):
        llms.llm("gpt-9")
    llms.close()
    llms.close()  # idempotent
    with pytest.raises(ProviderError, match="shut down"):
        llms.llm("qwen")
