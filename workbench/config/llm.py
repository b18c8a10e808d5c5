"""Which models the workbench offers and how the local runtime runs them (the `llm:` settings section)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

Provider = Literal["local", "openai", "anthropic", "ollama", "openai_compatible"]
PROVIDERS: tuple[Provider, ...] = ("local", "openai", "anthropic", "ollama", "openai_compatible")

# Providers that always need a key, and where it is looked for unless the spec names another variable.
DEFAULT_KEY_ENV: dict[Provider, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class RequestLimits(BaseModel):
    """How hard one model, or one provider's account, may be driven: counted across every process that shares the
    limiter (Redis: `llm.limits_url`, or the queue's Redis broker), otherwise within each process."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_concurrency: int | None = Field(default=None, ge=1, le=10_000, description="requests in flight at once")
    requests_per_minute: int | None = Field(default=None, ge=1, le=10_000_000, description="requests begun per minute")

    @property
    def any(self) -> bool:
        return self.max_concurrency is not None or self.requests_per_minute is not None


class ModelSpec(BaseModel):
    """One selectable model. Holds the *name* of the variable with the key, never a key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$", max_length=100)
    label: str = ""
    provider: Provider
    model: str = Field(
        min_length=1,
        description="local: a packaged model key or a path to a .gguf file; otherwise the provider's model name",
    )
    base_url: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    temperature: float = Field(default=0.1, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1, le=200_000)
    context_window: int = Field(default=4096, ge=256)
    input_price_per_mtok: float | None = Field(default=None, ge=0, description="USD per million input tokens")
    output_price_per_mtok: float | None = Field(default=None, ge=0, description="USD per million output tokens")
    limits: RequestLimits = Field(default_factory=RequestLimits, description="this model's own limits")

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: object) -> object:
        if isinstance(data, dict):
            data = dict(data)
            provider = data.get("provider")
            if not data.get("api_key_env") and provider in DEFAULT_KEY_ENV:
                data["api_key_env"] = DEFAULT_KEY_ENV[provider]
            if not data.get("label"):
                data["label"] = data.get("id", "")
        return data

    @model_validator(mode="after")
    def _check_provider_fields(self) -> ModelSpec:
        if self.provider == "openai_compatible" and not self.base_url:
            raise ValueError(f"model {self.id}: provider openai_compatible needs a base_url (e.g. http://host:8000/v1)")
        if self.provider == "local" and self.base_url:
            raise ValueError(f"model {self.id}: a local model runs on its own loopback server; drop base_url")
        return self

    @property
    def display_name(self) -> str:
        return self.label or self.id


def _packaged_local_models() -> list[ModelSpec]:
    return [
        ModelSpec(
            id="qwen2.5-0.5b-instruct",
            label="Qwen2.5-Coder 0.5B Instruct (local)",
            provider="local",
            model="qwen2.5-0.5b-instruct",
            context_window=4096,
        ),
        ModelSpec(
            id="smollm2-135m-instruct",
            label="SmolLM2 135M Instruct (local; fast, weak)",
            provider="local",
            model="smollm2-135m-instruct",
            context_window=4096,
        ),
    ]


class LLMSettings(BaseModel):
    """The `llm:` section. `models` comes from YAML; `extra_models` adds models without restating the list (env)."""

    default_model: str = "qwen2.5-0.5b-instruct"
    local_threads: int = Field(
        default=1,
        ge=1,
        le=256,
        description="llama.cpp decode threads; 1 keeps decoding steady on a small machine shared with other work",
    )
    local_batch_threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="llama.cpp prompt-processing threads (the long RAG prompt before the first token); "
        "unset: local_threads",
    )
    local_context: int = Field(default=4096, ge=256, le=131_072, description="context size of local models")
    local_parallel: int = Field(
        default=2,
        ge=1,
        le=16,
        description="requests a local model answers at once (llama.cpp slots, batched together); "
        "playground runs use them, one chat answer is not slowed by them",
    )
    model_server_url: str | None = Field(
        default=None,
        description="http://127.0.0.1:PORT of a `workbench model-server` that runs the local models for every process "
        "on this machine (`workbench serve` starts one); unset: each process starts the local models it uses",
    )
    model_server_key: SecretStr | None = Field(default=None, description="the model server's key")
    provider_limits: dict[Provider, RequestLimits] = Field(
        default_factory=dict, description="limits of a provider account, over all its models (e.g. openai: 500 rpm)"
    )
    limits_url: SecretStr | None = Field(
        default=None,
        description="redis://host:6379/0 where the limits are counted for every process and machine; unset: the "
        "queue's broker when it is Redis, otherwise each process counts its own",
    )
    request_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    max_retries: int = Field(default=1, ge=0, le=10, description="client retries on connection errors and 5xx")
    warm_up_on_open: bool = Field(default=True, description="start the chosen local model when the Chat page opens")
    models: list[ModelSpec] = Field(default_factory=_packaged_local_models)
    extra_models: list[ModelSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_ids(self) -> LLMSettings:
        ids = [spec.id for spec in self.all_models]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"llm models: duplicate id(s) {', '.join(duplicates)}")
        if self.default_model not in ids:
            raise ValueError(f"llm.default_model {self.default_model!r} is not one of the models ({', '.join(ids)})")
        return self

    @property
    def all_models(self) -> list[ModelSpec]:
        return [*self.models, *self.extra_models]
