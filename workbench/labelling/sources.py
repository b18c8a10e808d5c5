"""Where items to label come from: chat answers (filtered by feedback, knowledge base, model, time), playground
runs (one item per finished cell), traces (an application's or the chat's, as the Run log page and the API hand
them over), and evaluation runs (the evaluation hands its items over as ItemDrafts)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from workbench.domain.runs import CellStatus
from workbench.labelling.views import ItemDraft
from workbench.storage.ports import UnitOfWork

HISTORY_MESSAGES = 6
FEEDBACK_CHOICES = ("any", "down", "up", "rated", "unrated")


@dataclass(frozen=True, slots=True)
class ChatSource:
    feedback: str = "any"  # any, down, up, rated, unrated
    knowledge_base: str | None = None
    model: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 500


def chat_items(uow: UnitOfWork, source: ChatSource) -> list[ItemDraft]:
    """One item per assistant answer: its question, the turns before it, the answer and the cited passages."""
    if source.feedback not in FEEDBACK_CHOICES:
        raise ValueError(f"feedback must be one of {', '.join(FEEDBACK_CHOICES)}")
    drafts = []
    with uow:
        answers = uow.labelling.chat_answers(
            feedback=source.feedback, knowledge_base=source.knowledge_base, model=source.model,
            since=source.since, until=source.until, limit=source.limit,
        )  # fmt: skip
        threads = uow.labelling.conversation_messages(list(dict.fromkeys(c.id for _, c, _ in answers)))
        for message, conversation, rating in answers:
            before = [m for m in threads[conversation.id] if m.seq < message.seq][-(HISTORY_MESSAGES + 1) :]
            question = before[-1].content if before and before[-1].role == "user" else ""
            history = [{"role": m.role, "content": m.content} for m in (before[:-1] if question else before)]
            drafts.append(ItemDraft(
                source_kind="chat", source_id=message.id, question=question, answer=message.content,
                history=history,
                chunks=[{"chunk_id": str(c.get("chunk_id", n)), "source": c.get("source", ""),
                         "text": c.get("text", ""), "score": c.get("score")}
                        for n, c in enumerate(message.citations or [], start=1)],
                metadata={"model": message.model, "knowledge_base": conversation.knowledge_base,
                          "prompt": message.prompt_name, "prompt_version": message.prompt_version,
                          "rating": rating, "conversation_id": conversation.id,
                          "answered_at": message.created_at.isoformat()},
            ))  # fmt: skip
    return drafts


def playground_items(uow: UnitOfWork, run_id: str) -> list[ItemDraft]:
    """One item per finished (ok) cell of a playground run: the input values as the question, the output."""
    drafts = []
    with uow:
        run = uow.playground.get(run_id)
        if run is None:
            raise ValueError("That playground run does not exist.")
        inputs = {row.row_index: dict(row.values) for row in uow.playground.inputs(run_id)}
        variants = {row.position: row for row in uow.playground.variants(run_id)}
        for cell in uow.playground.cells(run_id):
            if cell.status != CellStatus.OK:
                continue
            values = inputs.get(cell.row_index, {})
            variant = variants[cell.position]
            question = str(values.get("question") or json.dumps(values, ensure_ascii=False))
            drafts.append(ItemDraft(
                source_kind="playground", source_id=cell.id, question=question, answer=cell.output,
                metadata={"run": run.title, "row": cell.row_index + 1, "variant": cell.position + 1,
                          "model": variant.model_id, "prompt": variant.prompt_name,
                          "prompt_version": variant.prompt_version, "inputs": values},
            ))  # fmt: skip
    return drafts


class Trace(Protocol):
    """A trace as workbench.services.traces reads it (TraceTree): its ids, question, answer and documents."""

    trace_id: str

    @property
    def question(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def documents(self) -> list[dict[str, Any]]: ...
    @property
    def summary(self) -> dict[str, Any]: ...


def trace_item(trace: Trace) -> ItemDraft:
    """One item for a trace: what it was asked, what it answered, and the passages its retriever spans returned
    (OpenInference documents: id, content, score, metadata)."""
    chunks = [{"chunk_id": str(doc.get("id") or n), "source": _source(doc), "text": str(doc.get("content") or ""),
               "score": doc.get("score")} for n, doc in enumerate(trace.documents, start=1)]  # fmt: skip
    return ItemDraft(source_kind="trace", source_id=trace.trace_id, question=trace.question, answer=trace.answer,
                     chunks=chunks, metadata={"trace_id": trace.trace_id, **trace.summary})  # fmt: skip


def _source(document: Mapping[str, Any]) -> str:
    metadata = document.get("metadata")
    if isinstance(metadata, str):  # instrumentors send the metadata as a JSON string
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = None
    if isinstance(metadata, Mapping):
        return str(metadata.get("source") or metadata.get("file_name") or metadata.get("file_path") or "")
    return ""
