"""What the UI offers: configured models whose prerequisites are present, checked at call time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.llm.conftest import FakePackages
from workbench.config.llm import LLMSettings, ModelSpec
from workbench.llm.catalog import ModelCatalog
from workbench.llm.errors import ModelNotConfigured
from workbench.llm.weights import ModelWeights, PackagedModel, WeightPart


@pytest.fixture
def weights(fake_packages: FakePackages, tmp_path: Path) -> ModelWeights:
    installed = fake_packages.model("installed", [b"GGUF"])
    absent = PackagedModel("absent", "absent.gguf", "0" * 64, (WeightPart("absent_weights_part1", "w.bin"),))
    return ModelWeights(tmp_path / "models", {"installed": installed, "absent": absent})


def spec(model_id: str, provider: str, model: str = "m", **fields: object) -> ModelSpec:
    return ModelSpec.model_validate({"id": model_id, "provider": provider, "model": model, **fields})


def catalog(weights: ModelWeights, specs: list[ModelSpec], environ: dict[str, str], default: str) -> ModelCatalog:
    return ModelCatalog(LLMSettings(default_model=default, models=specs), weights, environ)


def test_local_models_need_their_weights(weights: ModelWeights, tmp_path: Path) -> None:
    gguf = tmp_path / "own.gguf"
    gguf.write_bytes(b"GGUF")
    specs = [
        spec("ok", "local", "installed"),
        spec("missing", "local", "absent"),
        spec("own-file", "local", str(gguf)),
        spec("no-file", "local", str(tmp_path / "nope.gguf")),
    ]
    models = catalog(weights, specs, {}, "ok")

    assert [s.id for s in models.available()] == ["ok", "own-file"]
    reason = models.unavailable_reason(models.get("missing"))
    assert reason is not None
    assert "absent-weights-part1" in reason
    assert "make install" in reason


def test_hosted_models_need_their_key_variable(weights: ModelWeights) -> None:
    specs = [
        spec("local", "local", "installed"),
        spec("gpt", "openai"),
        spec("claude", "anthropic"),
        spec("custom-key", "openai", api_key_env="TEAM_OPENAI_KEY"),
    ]
    environ = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "   ", "TEAM_OPENAI_KEY": "k"}
    models = catalog(weights, specs, environ, "local")

    assert [s.id for s in models.available()] == ["local", "gpt", "custom-key"]
    assert models.unavailable_reason(models.get("claude")) == "set ANTHROPIC_API_KEY"


def test_self_hosted_models_need_a_base_url_and_a_key_only_when_they_name_one(weights: ModelWeights) -> None:
    specs = [
        spec("local", "local", "installed"),
        spec("ollama-no-url", "ollama"),
        spec("ollama", "ollama", base_url="http://127.0.0.1:11434"),
        spec("vllm", "openai_compatible", base_url="http://gpu:8000/v1"),
        spec("vllm-keyed", "openai_compatible", base_url="http://gpu:8000/v1", api_key_env="VLLM_KEY"),
    ]
    models = catalog(weights, specs, {}, "local")

    assert [s.id for s in models.available()] == ["local", "ollama", "vllm"]
    assert models.unavailable_reason(models.get("vllm-keyed")) == "set VLLM_KEY"
    assert "base_url" in (models.unavailable_reason(models.get("ollama-no-url")) or "")


def test_the_environment_is_read_on_every_call(weights: ModelWeights, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    models = ModelCatalog(
        LLMSettings(default_model="gpt", models=[spec("gpt", "openai")]),
        weights,
    )
    assert models.available() == []
    monkeypatch.setenv("OPENAI_API_KEY", "sk-exported-later")
    assert [s.id for s in models.available()] == ["gpt"]


def test_default_falls_back_to_the_first_available_model(weights: ModelWeights) -> None:
    specs = [spec("missing", "local", "absent"), spec("gpt", "openai"), spec("ok", "local", "installed")]
    assert catalog(weights, specs, {"OPENAI_API_KEY": "k"}, "ok").default() == specs[2]
    assert catalog(weights, specs, {"OPENAI_API_KEY": "k"}, "missing").default() == specs[1]
    assert catalog(weights, specs[:1], {}, "missing").default() is None


def test_an_unknown_id_names_the_configured_ones(weights: ModelWeights) -> None:
    models = catalog(weights, [spec("ok", "local", "installed")], {}, "ok")
    with pytest.raises(ModelNotConfigured, match=r"'gpt-9' is not configured \(configured: ok\)"):
        models.get("gpt-9")
