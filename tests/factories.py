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
from typing import Any, TypeVar

from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.domain.users import Role
from workbench.security.passwords import hash_password
from workbench.storage.sql.models import (
    AdjudicationRow,
    Base,
    ConversationRow,
    EvalDatasetRow,
    EvalDatasetVersionRow,
    EvalItemRow,
    EvalResultRow,
    EvalRunRow,
    EvalScoreRow,
    EvalSummaryRow,
    FeedbackRow,
    GoldenDatasetRow,
    GoldenItemRow,
    KbDocumentRow,
    KnowledgeBaseRow,
    LabelAssignmentRow,
    LabelItemRow,
    LabelQueueMemberRow,
    LabelQueueRow,
    LabelRow,
    MessageRow,
    PlaygroundCellRow,
    PlaygroundInputRow,
    PlaygroundRunRow,
    PlaygroundVariantRow,
    PromptLabelRow,
    PromptVersionRow,
    RubricRow,
    RubricVersionRow,
    UserRow,
)

DEFAULT_PASSWORD = "correct-horse-battery"
MODELS = ("llama3.2:3b", "qwen2.5:7b", "gpt-4o-mini", "mistral-small")
PROVIDERS = {"llama3.2:3b": "ollama", "qwen2.5:7b": "ollama", "gpt-4o-mini": "openai", "mistral-small": "mistral"}
USER_IDS = ("u-alice", "u-bob", "u-carol", "u-dave")

_rng = random.Random()
RowT = TypeVar("RowT", bound=Base)


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


# Knowledge bases, prompts, playground, labelling and evaluation rows -------------------------
# Each sets every column a database would refuse empty; `overrides` set the rest. Ids and times are fresh per call.


def _row(model: type[RowT], values: dict[str, Any], overrides: dict[str, Any]) -> RowT:
    return model(**{"id": uuid.uuid4().hex, **values, **overrides})


def kb_row(name: str, **overrides: Any) -> KnowledgeBaseRow:
    now = datetime.now(UTC)
    return _row(KnowledgeBaseRow, {"name": name, "description": "", "embedding_model": "m", "chunk_size": 256,
                                   "chunk_overlap": 32, "created_at": now, "updated_at": now}, overrides)  # fmt: skip


def kb_document_row(kb_id: str, source: str, **overrides: Any) -> KbDocumentRow:
    return _row(KbDocumentRow, {"kb_id": kb_id, "source": source, "content_sha256": "x" * 64, "size_bytes": 1,
                                "mime_type": "text/plain", "chunk_count": 2, "status": "ok",
                                "ingested_at": datetime.now(UTC)}, overrides)  # fmt: skip


def prompt_version_row(name: str, version: int, **overrides: Any) -> PromptVersionRow:
    content = overrides.pop("content", f"{name} v{version}")
    return _row(PromptVersionRow, {"name": name, "version": version, "content": content,
                                   "content_sha256": f"{name}-{version}".ljust(64, "0"), "source": "ui",
                                   "author": "tester", "created_at": datetime.now(UTC)}, overrides)  # fmt: skip


def prompt_label_row(version: PromptVersionRow, label: str, **overrides: Any) -> PromptLabelRow:
    return _row(PromptLabelRow, {"name": version.name, "label": label, "version_id": version.id,
                                 "moved_by": "tester", "moved_at": datetime.now(UTC)}, overrides)  # fmt: skip


def playground_run_row(**overrides: Any) -> PlaygroundRunRow:
    now = datetime.now(UTC)
    return _row(PlaygroundRunRow, {"title": "A run", "kind": "interactive", "created_at": now, "updated_at": now},
                overrides)  # fmt: skip


def playground_variant_row(run_id: str, position: int, **overrides: Any) -> PlaygroundVariantRow:
    return _row(PlaygroundVariantRow, {"run_id": run_id, "position": position, "prompt_name": "p",
                                       "template_text": "{{ question }}", "model_id": "echo"}, overrides)  # fmt: skip


def playground_input_row(run_id: str, row_index: int, **overrides: Any) -> PlaygroundInputRow:
    return _row(PlaygroundInputRow, {"run_id": run_id, "row_index": row_index, "values": {"question": "q"}},
                overrides)  # fmt: skip


def playground_cell_row(run_id: str, row_index: int, position: int, **overrides: Any) -> PlaygroundCellRow:
    return _row(PlaygroundCellRow, {"run_id": run_id, "row_index": row_index, "position": position, "status": "ok",
                                    "created_at": datetime.now(UTC)}, overrides)  # fmt: skip


def rubric_row(name: str, **overrides: Any) -> RubricRow:
    return _row(RubricRow, {"name": name, "created_by": "tester", "created_at": datetime.now(UTC)}, overrides)


def rubric_version_row(rubric_id: str, version: int, **overrides: Any) -> RubricVersionRow:
    return _row(RubricVersionRow, {"rubric_id": rubric_id, "version": version, "definition": {"fields": []},
                                   "created_by": "tester", "created_at": datetime.now(UTC)}, overrides)  # fmt: skip


def label_queue_row(rubric_version_id: str, name: str, **overrides: Any) -> LabelQueueRow:
    return _row(LabelQueueRow, {"name": name, "rubric_version_id": rubric_version_id, "annotators_per_item": 2,
                                "created_by": "tester", "created_at": datetime.now(UTC)}, overrides)  # fmt: skip


def label_member_row(queue_id: str, user_id: str, **overrides: Any) -> LabelQueueMemberRow:
    return _row(LabelQueueMemberRow, {"queue_id": queue_id, "user_id": user_id, "added_at": datetime.now(UTC)},
                overrides)  # fmt: skip


def label_item_row(queue_id: str, source_id: str, **overrides: Any) -> LabelItemRow:
    return _row(LabelItemRow, {"queue_id": queue_id, "source_kind": "chat", "source_id": source_id,
                               "payload": {"question": source_id}, "created_at": datetime.now(UTC)},
                overrides)  # fmt: skip


def label_assignment_row(item: LabelItemRow, annotator_id: str, **overrides: Any) -> LabelAssignmentRow:
    return _row(LabelAssignmentRow, {"item_id": item.id, "queue_id": item.queue_id, "annotator_id": annotator_id,
                                     "assigned_at": datetime.now(UTC)}, overrides)  # fmt: skip


def label_row(assignment: LabelAssignmentRow, rubric_version_id: str, **overrides: Any) -> LabelRow:
    now = datetime.now(UTC)
    return _row(LabelRow, {"assignment_id": assignment.id, "item_id": assignment.item_id,
                           "annotator_id": assignment.annotator_id, "rubric_version_id": rubric_version_id,
                           "values": {"ok": True}, "created_at": now, "updated_at": now}, overrides)  # fmt: skip


def adjudication_row(item_id: str, **overrides: Any) -> AdjudicationRow:
    return _row(AdjudicationRow, {"item_id": item_id, "reviewer": "reviewer", "method": "manual",
                                  "values": {"ok": True}, "decided_at": datetime.now(UTC)}, overrides)  # fmt: skip


def golden_dataset_row(name: str, version: int, **overrides: Any) -> GoldenDatasetRow:
    return _row(GoldenDatasetRow, {"name": name, "version": version, "item_count": 0, "created_by": "tester",
                                   "created_at": datetime.now(UTC)}, overrides)  # fmt: skip


def golden_item_row(dataset_id: str, position: int, **overrides: Any) -> GoldenItemRow:
    return _row(GoldenItemRow, {"dataset_id": dataset_id, "position": position, "question": f"q{position}"},
                overrides)  # fmt: skip


def eval_dataset_row(name: str, **overrides: Any) -> EvalDatasetRow:
    return _row(EvalDatasetRow, {"name": name, "created_by": "tester", "created_at": datetime.now(UTC)}, overrides)


def eval_version_row(dataset_id: str, version: int, **overrides: Any) -> EvalDatasetVersionRow:
    return _row(EvalDatasetVersionRow, {"dataset_id": dataset_id, "version": version, "source": "import",
                                        "item_count": 0, "created_by": "tester", "created_at": datetime.now(UTC)},
                overrides)  # fmt: skip


def eval_item_row(version_id: str, position: int, **overrides: Any) -> EvalItemRow:
    return _row(EvalItemRow, {"version_id": version_id, "position": position, "item_key": f"key{position}",
                              "question": f"Question {position}?"}, overrides)  # fmt: skip


def eval_run_row(version_id: str, **overrides: Any) -> EvalRunRow:
    return _row(EvalRunRow, {"version_id": version_id, "name": "A run", "config": {"model": "good"},
                             "config_hash": "c" * 64, "item_count": 0, "created_by": "tester",
                             "created_at": datetime.now(UTC)}, overrides)  # fmt: skip


def eval_result_row(run_id: str, item: EvalItemRow, **overrides: Any) -> EvalResultRow:
    return _row(EvalResultRow, {"run_id": run_id, "item_id": item.id, "item_key": item.item_key, "status": "ok",
                                "created_at": datetime.now(UTC)}, overrides)  # fmt: skip


def eval_score_row(run_id: str, item: EvalItemRow, metric: str, value: float | None, **overrides: Any) -> EvalScoreRow:
    return _row(EvalScoreRow, {"run_id": run_id, "item_id": item.id, "item_key": item.item_key, "metric": metric,
                               "value": value, "status": "ok" if value is not None else "failed"},
                overrides)  # fmt: skip


def eval_summary_row(run_id: str, metric: str, **overrides: Any) -> EvalSummaryRow:
    return _row(EvalSummaryRow, {"run_id": run_id, "metric": metric, "n_ok": 1, "n_failed": 0, "n_skipped": 0,
                                 "computed_at": datetime.now(UTC)}, overrides)  # fmt: skip


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
