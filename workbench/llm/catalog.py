"""The configured models and which of them can run here: what the UI offers wherever a model is chosen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from workbench.config.llm import LLMSettings, ModelSpec
from workbench.llm.errors import ModelNotConfigured
from workbench.llm.weights import INSTALL_HINT, ModelWeights

__all__ = ["ModelCatalog", "ModelSpec"]


class ModelCatalog:
    """Looks up specs and checks prerequisites (installed weights, a key in the environment) at call time."""

    def __init__(self, settings: LLMSettings, weights: ModelWeights, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.weights = weights
        # None: read os.environ on every call, so a key exported after start-up is picked up.
        self._environ = environ

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def all(self) -> list[ModelSpec]:
        return list(self.settings.all_models)

    def get(self, model_id: str) -> ModelSpec:
        for spec in self.settings.all_models:
            if spec.id == model_id:
                return spec
        raise ModelNotConfigured(model_id, [spec.id for spec in self.settings.all_models])

    def available(self) -> list[ModelSpec]:
        """The configured specs whose prerequisites are present, in configuration order."""
        return [spec for spec in self.settings.all_models if self.unavailable_reason(spec) is None]

    def default(self) -> ModelSpec | None:
        """The configured default when it is available, else the first available model, else None."""
        available = self.available()
        for spec in available:
            if spec.id == self.settings.default_model:
                return spec
        return available[0] if available else None

    def unavailable_reason(self, spec: ModelSpec) -> str | None:
        """Why a model cannot be offered, in words a user can act on; None when it can."""
        if spec.provider == "local":
            return self._local_reason(spec)
        if spec.provider in ("ollama", "openai_compatible") and not spec.base_url:
            return f"set base_url for {spec.id} in the llm settings"
        if spec.api_key_env and not self.environ.get(spec.api_key_env, "").strip():
            return f"set {spec.api_key_env}"
        return None

    def _local_reason(self, spec: ModelSpec) -> str | None:
        if self.weights.is_packaged(spec.model):
            missing = self.weights.missing_parts(spec.model)
            if missing:
                return f"weights not installed (missing {missing[0].distribution}): {INSTALL_HINT}"
            return None
        if Path(spec.model).expanduser().is_file():
            return None
        return f"no packaged model or .gguf file named {spec.model!r}"
