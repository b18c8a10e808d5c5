"""Settings: defaults < config/default.yaml < config/<profile>.yaml < .env < WORKBENCH_* environment < kwargs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from workbench.config.api import ApiSettings
from workbench.config.llm import LLMSettings
from workbench.config.queue import QueueSettings
from workbench.config.rag import RagSettings

Profile = Literal["default", "development", "staging", "production"]

# Values that people paste from examples; refused outside development.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "changethis", "change-this", "password", "admin", "secret", "example"}
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def config_dir() -> Path:
    """Folder holding the YAML profiles; overridable for deployments that move them."""
    return Path(os.environ.get("WORKBENCH_CONFIG_DIR", PROJECT_ROOT / "config"))


class RunLogSettings(BaseModel):
    """How run logs are batched off the request path and spooled when MongoDB is away."""

    batch_size: int = Field(default=500, ge=1, le=10_000)
    flush_interval_s: float = Field(default=0.25, gt=0, le=60)
    retry_interval_s: float = Field(default=2.0, gt=0, le=600)
    server_selection_timeout_ms: int = Field(default=2_000, ge=100)


class EmbeddedMongoSettings(BaseModel):
    """The MongoDB-wire server the app starts itself when no MongoDB URL is configured."""

    command: str = "secantusd-py"
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    start_timeout_s: float = Field(default=30.0, gt=0)
    sync_on_commit: bool = False


class PromptSettings(BaseModel):
    """The prompt registry (the `prompts:` section)."""

    chat_label: str = Field(
        default="production",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="the label whose version the chat answers with (the latest version when it is not set)",
    )


class PlaygroundSettings(BaseModel):
    """Playground runs over datasets (the `playground:` section)."""

    default_concurrency: int = Field(default=2, ge=1, le=16, description="cells worked on at once in a dataset run")
    max_concurrency: int = Field(default=4, ge=1, le=16)
    max_rows: int = Field(default=5_000, ge=1, le=100_000, description="rows a dataset may have")
    max_upload_mb: float = Field(default=10.0, gt=0, le=500)


class EvaluationSettings(BaseModel):
    """Eval runs (the `evaluation:` section)."""

    concurrency: int = Field(default=2, ge=1, le=16, description="items answered and scored at once in an eval run")
    judge_timeout_s: float = Field(default=120.0, gt=0, le=3600, description="per judged metric of one item")
    max_upload_mb: float = Field(default=10.0, gt=0, le=500, description="largest eval dataset file accepted")


class Settings(BaseSettings):
    """All configuration of the workbench. Secrets are SecretStr and never logged."""

    model_config = SettingsConfigDict(
        env_prefix="WORKBENCH_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Profile = "default"
    data_dir: Path = Path("data")
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL; unset means a SQLite file in data_dir"
    )
    sql_echo: bool = False
    mongodb_url: SecretStr | None = Field(
        default=None, description="MongoDB URL; unset means the embedded MongoDB-wire server"
    )
    mongodb_database: str = "workbench"
    admin_username: str = "admin"
    admin_password: SecretStr | None = None
    runlog: RunLogSettings = RunLogSettings()
    embedded_mongo: EmbeddedMongoSettings = EmbeddedMongoSettings()
    llm: LLMSettings = LLMSettings()
    rag: RagSettings = RagSettings()
    prompts: PromptSettings = PromptSettings()
    playground: PlaygroundSettings = PlaygroundSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    queue: QueueSettings = QueueSettings()
    api: ApiSettings = ApiSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        profile = os.environ.get("WORKBENCH_ENV", "default")
        files = [config_dir() / "default.yaml"]
        if profile != "default":
            files.append(config_dir() / f"{profile}.yaml")
        yaml_source = YamlConfigSettingsSource(
            settings_cls, yaml_file=[f for f in files if f.exists()], deep_merge=True
        )
        return init_settings, env_settings, dotenv_settings, file_secret_settings, yaml_source

    @model_validator(mode="after")
    def _enforce_non_default_secrets(self) -> Settings:
        if self.env in ("default", "development"):
            return self
        if self.admin_password is None:
            raise ValueError(
                f"WORKBENCH_ADMIN_PASSWORD must be set in the {self.env} profile "
                "(it creates the first admin; there is no built-in default)."
            )
        for name in ("admin_password", "database_url", "mongodb_url"):
            secret = getattr(self, name)
            if secret is not None and _looks_like_placeholder(secret.get_secret_value()):
                raise ValueError(
                    f"WORKBENCH_{name.upper()} holds a placeholder value; set a real secret for the {self.env} profile."
                )
        return self

    # Derived values -------------------------------------------------------

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def sql_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.resolved_data_dir / 'workbench.db'}"

    @property
    def uses_embedded_sql(self) -> bool:
        return self.database_url is None

    @property
    def uses_embedded_mongo(self) -> bool:
        return self.mongodb_url is None

    @property
    def spool_dir(self) -> Path:
        return self.resolved_data_dir / "runlog-spool"


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in PLACEHOLDER_SECRETS:
        return True
    # A URL whose password part is a placeholder, e.g. postgresql://u:changeme@db/x
    return any(f":{word}@" in lowered for word in PLACEHOLDER_SECRETS - {""})


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment (a fresh object each call; callers cache)."""
    return Settings(**overrides)  # type: ignore[arg-type]
