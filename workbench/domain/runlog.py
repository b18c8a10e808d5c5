"""One run-log record per model, retrieval, embedding or eval call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from workbench.domain.clock import utcnow


class RunKind(StrEnum):
    LLM = "llm"
    RETRIEVAL = "retrieval"
    EMBEDDING = "embedding"
    EVAL = "eval"


class RunStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"


def new_log_id() -> str:
    # Client-side ids make replays idempotent: a record re-sent after a failure is a
    # duplicate key, never a second copy.
    return uuid.uuid4().hex


@dataclass(slots=True)
class RunLog:
    kind: RunKind
    provider: str = ""
    model: str = ""
    status: RunStatus = RunStatus.OK
    latency_ms: float | None = None
    ttft_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    run_id: str | None = None
    user_id: str | None = None
    conversation_id: str | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_log_id)
    created_at: datetime = field(default_factory=utcnow)

    @property
    def total_tokens(self) -> int:
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def to_document(self) -> dict[str, Any]:
        # Built by hand: dataclasses.asdict deep-copies and costs several times more on the request path.
        return {
            "_id": self.id,
            "created_at": self.created_at,
            "kind": self.kind.value,
            "provider": self.provider,
            "model": self.model,
            "status": self.status.value,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "run_id": self.run_id,
            "user_id": self.user_id,
            "conversation_id": self.conversation_id,
            "prompt_name": self.prompt_name,
            "prompt_version": self.prompt_version,
            "parameters": dict(self.parameters),
            "error": self.error,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> RunLog:
        data = dict(doc)
        data["id"] = data.pop("_id")
        data.pop("total_tokens", None)
        data["kind"] = RunKind(data["kind"])
        data["status"] = RunStatus(data["status"])
        created = data["created_at"]
        if created.tzinfo is None:  # pymongo returns naive UTC datetimes
            data["created_at"] = created.replace(tzinfo=UTC)
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})
