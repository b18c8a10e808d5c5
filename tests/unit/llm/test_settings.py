"""The `llm:` settings: shipped defaults, YAML, environment overrides and the checks on model specs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from workbench.config.llm import LLMSettings, ModelSpec
from workbench.config.settings import PROJECT_ROOT, get_settings


def test_defaults_offer_the_two_packaged_local_models() -> None:
    settings = LLMSettings()
    assert settings.default_model == "qwen2.5-0.5b-instruct"
    assert [spec.id for spec in settings.models] == ["qwen2.5-0.5b-instruct", "smollm2-135m-instruct"]
    assert {spec.provider for spec in settings.models} == {"local"}
    assert settings.local_threads == 1


def test_the_shipped_default_yaml_lists_the_local_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(PROJECT_ROOT / "config"))
    llm = get_settings().llm
    assert llm.default_model == "qwen2.5-0.5b-instruct"
    assert [spec.id for spec in llm.models] == ["qwen2.5-0.5b-instruct", "smollm2-135m-instruct"]
    assert "fast, weak" in llm.models[1].label
    assert llm.local_threads == 1


@pytest.fixture
def config_with_hosted_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "default.yaml").write_text(
        """
llm:
  default_model: local-small
  local_threads: 2
  models:
    - {id: local-small, provider: local, model: smollm2-135m-instruct}
    - {id: gpt, provider: openai, model: gpt-4o-mini, input_price_per_mtok: 0.15, output_price_per_mtok: 0.6}
    - {id: claude, provider: anthropic, model: claude-3-5-haiku-latest}
    - {id: llama, provider: ollama, model: "llama3.2:3b", base_url: "http://127.0.0.1:11434"}
    - {id: vllm, provider: openai_compatible, model: qwen, base_url: "http://gpu:8000/v1", api_key_env: VLLM_KEY}
"""
    )
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(folder))
    return folder


def test_models_come_from_yaml_with_provider_defaults(config_with_hosted_models: Path) -> None:
    llm = get_settings().llm
    by_id = {spec.id: spec for spec in llm.models}
    assert llm.local_threads == 2
    assert by_id["gpt"].api_key_env == "OPENAI_API_KEY"
    assert by_id["claude"].api_key_env == "ANTHROPIC_API_KEY"
    assert by_id["vllm"].api_key_env == "VLLM_KEY"
    assert by_id["llama"].api_key_env is None
    assert by_id["gpt"].input_price_per_mtok == 0.15
    assert by_id["gpt"].label == "gpt"  # the id when no label is given


def test_environment_overrides_yaml_and_adds_models(
    config_with_hosted_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_LLM__LOCAL_THREADS", "3")
    monkeypatch.setenv("WORKBENCH_LLM__REQUEST_TIMEOUT_S", "9.5")
    monkeypatch.setenv(
        "WORKBENCH_LLM__EXTRA_MODELS",
        '[{"id": "lmstudio", "provider": "openai_compatible", "model": "m", "base_url": "http://127.0.0.1:1234/v1"}]',
    )
    llm = get_settings().llm
    assert llm.local_threads == 3
    assert llm.request_timeout_s == 9.5
    assert [spec.id for spec in llm.all_models][-1] == "lmstudio"
    assert len(llm.models) == 5, "the YAML list is kept"


def test_an_environment_default_model_must_be_configured(
    config_with_hosted_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", "gpt")
    assert get_settings().llm.default_model == "gpt"
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", "nope")
    with pytest.raises(ValidationError, match="'nope' is not one of the models"):
        get_settings()


def test_duplicate_ids_are_refused() -> None:
    spec = ModelSpec(id="a", provider="local", model="smollm2-135m-instruct")
    with pytest.raises(ValidationError, match="duplicate id"):
        LLMSettings(default_model="a", models=[spec], extra_models=[spec])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"provider": "openai_compatible", "model": "m"}, "needs a base_url"),
        ({"provider": "local", "model": "m", "base_url": "http://x"}, "drop base_url"),
        ({"provider": "openai", "model": "m", "api_key_env": "sk-123abc"}, "api_key_env"),
        ({"provider": "bedrock", "model": "m"}, "provider"),
        ({"provider": "openai", "model": "m", "api_key": "sk-secret"}, "api_key"),
        ({"provider": "openai", "model": "m", "temperature": 3}, "temperature"),
    ],
)
def test_invalid_specs_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ModelSpec.model_validate({"id": "x", **fields})
