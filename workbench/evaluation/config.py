"""An eval run's pipeline configuration: what a user writes (a YAML file or the page's form) and what is stored
once it is resolved (the exact prompt version, the knowledge base's chunking and embedding model)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workbench.evaluation.metrics import JUDGE_METRICS, METRICS, MODEL_FREE_METRICS

# Metrics of the retrieved passages: meaningless (always 0) for a configuration that retrieves nothing.
RETRIEVAL_METRICS = frozenset(
    {"context_precision", "context_recall"} | {m for m, info in METRICS.items() if "retrieved_contexts" in info.needs}
)
# Fields that do not change what is measured: two runs differing only here are repeats of one configuration.
_NOT_HASHED = ("name", "tags")


class EvalConfigError(ValueError):
    """A configuration that cannot be run; the message names the field and what to change."""


class EvalConfig(BaseModel):
    """What a run measures. `prompt_ref` is a label (production, staging, …) or a version number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="", max_length=200)
    model: str = Field(min_length=1, description="a configured model id (llm settings)")
    knowledge_base: str | None = Field(default="sample", description="None: answer without retrieval")
    prompt: str = "rag-answer"
    prompt_ref: str = "production"
    top_k: int = Field(default=4, ge=1, le=50)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=256, ge=1, le=8192)
    judge_model: str | None = Field(default=None, description="a configured model id; None: model-free only")
    metrics: tuple[str, ...] = Field(default=(), description="empty: every metric the configuration allows")
    tags: tuple[str, ...] = ()
    chunk_size: int | None = Field(default=None, ge=16, description="expected chunking of the knowledge base")
    chunk_overlap: int | None = Field(default=None, ge=0)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
        return tuple(dict.fromkeys(metrics))

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.strip() for t in tags if t.strip()))

    @classmethod
    def from_mapping(cls, data: Any, source: str = "the configuration") -> EvalConfig:
        if not isinstance(data, dict):
            raise EvalConfigError(f"{source} must be a mapping of settings (model: …, knowledge_base: …).")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
            raise EvalConfigError(f"{source} is not valid: {problems}") from exc

    @classmethod
    def from_file(cls, path: Path) -> EvalConfig:
        """Read a YAML (or JSON) configuration file."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise EvalConfigError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        except yaml.YAMLError as exc:
            raise EvalConfigError(f"{path} is not valid YAML: {exc}") from exc
        return cls.from_mapping(data, str(path))

    def chosen_metrics(self) -> tuple[str, ...]:
        """The metrics this configuration computes: the listed ones, else all model-free (+ judged with a judge)."""
        if self.metrics:
            return self.metrics
        chosen = MODEL_FREE_METRICS + (JUDGE_METRICS if self.judge_model else ())
        return chosen if self.knowledge_base else tuple(m for m in chosen if m not in RETRIEVAL_METRICS)

    def check(self) -> None:
        if not self.knowledge_base:
            retrieval = [m for m in self.chosen_metrics() if m in RETRIEVAL_METRICS]
            if retrieval:
                raise EvalConfigError(
                    f"{', '.join(retrieval)} measure retrieved passages: set knowledge_base, or drop them from metrics."
                )
        judged = [m for m in self.chosen_metrics() if METRICS[m].needs_judge]
        if judged and not self.judge_model:
            raise EvalConfigError(
                f"{', '.join(judged)} need a judge model: set judge_model, or drop them from metrics."
            )


def config_hash(resolved: dict[str, Any]) -> str:
    """A stable hash of what a resolved configuration measures (name and tags excluded)."""
    measured = {k: v for k, v in resolved.items() if k not in _NOT_HASHED}
    return hashlib.sha256(json.dumps(measured, sort_keys=True, default=str).encode()).hexdigest()
