"""Factories for test records: one place that knows what a plausible user, message or run log looks like.

Every factory takes keyword overrides; random fields come from `rng` (a `random.Random`) so a test that needs
reproducible data passes a seeded one.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.domain.users import Role
from workbench.security.passwords import hash_password
from workbench.storage.sql.models import ConversationRow, FeedbackRow, MessageRow, UserRow

DEFAULT_PASSWORD = "correct-horse-battery"
MODELS = ("llama3.2:3b", "qwen2.5:7b", "gpt-4o-mini", "mistral-small")
PROVIDERS = {"llama3.2:3b": "ollama", "qwen2.5:7b": "ollama", "gpt-4o-mini": "openai", "mistral-small": "mistral"}
USER_IDS = ("u-alice", "u-bob", "u-carol", "u-dave")

_rng = random.Random()


def _pick_rng(rng: random.Random | None) -> random.Random:
    return rng if rng is not None else _rng


def utc(*args: int) -> datetime:
    """datetime(...) in UTC, for readable fixed times in tests."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def to_millis(moment: datetime) -> datetime:
    """Truncate to the millisecond, the precision BSON dates keep."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# Users ----------------------------------------------------------------------------------


def random_username(rng: random.Random | None = None) -> str:
    rng = _pick_rng(rng)
    return "user-" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=10))


def random_password(rng: random.Random | None = None) -> str:
    rng = _pick_rng(rng)
    return "".join(rng.choices(string.ascii_letters + string.digits, k=16))


@cache
def _hash_of(password: str) -> str:
    return hash_password(password)


def random_user(
    *,
    username: str | None = None,
    role: Role | str = Role.VIEWER,
    is_active: bool = True,
    password: str = DEFAULT_PASSWORD,
    password_hash: str | None = None,
    display_name: str | None = None,
    created_at: datetime | None = None,
    rng: random.Random | None = None,
) -> UserRow:
    """A UserRow ready to add to a repository; the hash of `password` is computed once per password."""
    name = username or random_username(rng)
    return UserRow(
        id=uuid.uuid4().hex,
        username=name,
        display_name=display_name if display_name is not None else name.title(),
        password_hash=password_hash or _hash_of(password),
        role=Role(role).value,
        is_active=is_active,
        created_at=created_at or datetime.now(UTC),
        last_login_at=None,
    )


# Conversations ----------------------------------------------------------------------------


def conversation_row(user_id: str, *, updated_at: datetime | None = None, **overrides: Any) -> ConversationRow:
    now = updated_at or datetime.now(UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "user_id": user_id,
        "title": "A conversation",
        "knowledge_base": None,
        "model": None,
        "prompt_name": None,
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    return ConversationRow(**values)


def message_row(conversation_id: str, seq: int, **overrides: Any) -> MessageRow:
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "conversation_id": conversation_id,
        "seq": seq,
        "role": "user" if seq % 2 == 0 else "assistant",
        "content": f"message {seq}",
        "citations": [],
        "created_at": datetime.now(UTC),
    }
    values.update(overrides)
    return MessageRow(**values)


def feedback_row(message_id: str, user_id: str, rating: int = 1, **overrides: Any) -> FeedbackRow:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "message_id": message_id,
        "user_id": user_id,
        "rating": rating,
        "comment": None,
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    return FeedbackRow(**values)


# Run logs ---------------------------------------------------------------------------------


def run_log(*, rng: random.Random | None = None, **overrides: Any) -> RunLog:
    """A plausible run log: mostly LLM calls, a few errors and timeouts, log-normal latencies.

    created_at defaults to now (truncated to the millisecond so it survives a BSON round trip unchanged).
    """
    rng = _pick_rng(rng)
    kind = overrides.pop("kind", None) or rng.choices(list(RunKind), weights=(70, 15, 10, 5))[0]
    model = overrides.pop("model", None) or rng.choice(MODELS)
    status = overrides.pop("status", None) or rng.choices(list(RunStatus), weights=(90, 7, 3))[0]
    llm = kind == RunKind.LLM
    latency = round(rng.lognormvariate(6.0, 0.8), 3)  # median ~400 ms
    values: dict[str, Any] = {
        "kind": RunKind(kind),
        "provider": PROVIDERS.get(model, "other"),
        "model": model,
        "status": RunStatus(status),
        "latency_ms": latency,
        "ttft_ms": round(latency * rng.uniform(0.05, 0.4), 3) if llm else None,
        "input_tokens": rng.randint(10, 2_000) if kind != RunKind.RETRIEVAL else None,
        "output_tokens": rng.randint(1, 800) if llm else None,
        "run_id": uuid.uuid4().hex,
        "user_id": rng.choice(USER_IDS),
        "conversation_id": uuid.uuid4().hex if llm else None,
        "prompt_name": "rag-answer" if llm else None,
        "prompt_version": rng.randint(1, 5) if llm else None,
        "parameters": {"temperature": round(rng.uniform(0, 1), 2), "top_k": rng.randint(1, 10)},
        "error": "upstream said no" if status != RunStatus.OK else None,
        "metadata": {"source": "tests"},
        "created_at": to_millis(datetime.now(UTC)),
    }
    values.update(overrides)
    return RunLog(**values)


def run_logs_between(
    count: int, start: datetime, end: datetime, *, rng: random.Random | None = None, **overrides: Any
) -> list[RunLog]:
    """`count` logs with created_at spread uniformly over [start, end), millisecond precision."""
    rng = _pick_rng(rng)
    span_ms = int((end - start).total_seconds() * 1000)
    return [
        run_log(rng=rng, created_at=start + timedelta(milliseconds=rng.randrange(span_ms)), **overrides)
        for _ in range(count)
    ]


def run_log_documents(count: int, *, rng: random.Random | None = None, **overrides: Any) -> Iterator[dict[str, Any]]:
    for _ in range(count):
        yield run_log(rng=rng, **overrides).to_document()
