"""Conversations, messages and feedback on messages (the chat capability builds on these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.domain.ids import new_id
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import ConversationRow, FeedbackRow, MessageRow

MAX_COMMENT_CHARS = 4_000


class ConversationError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MessageView:
    id: str
    conversation_id: str
    seq: int
    role: str
    content: str
    created_at: datetime
    citations: list[dict[str, Any]]
    model: str | None = None
    latency_ms: float | None = None
    output_tokens: int | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    my_rating: int | None = None  # the viewer's thumbs up (+1) / down (-1), when asked for
    my_comment: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationView:
    id: str
    title: str
    knowledge_base: str | None
    model: str | None
    updated_at: datetime


def _message_view(row: MessageRow, feedback: FeedbackRow | None = None) -> MessageView:
    return MessageView(
        id=row.id,
        conversation_id=row.conversation_id,
        seq=row.seq,
        role=row.role,
        content=row.content,
        created_at=row.created_at,
        citations=list(row.citations or []),
        model=row.model,
        latency_ms=row.latency_ms,
        output_tokens=row.output_tokens,
        prompt_name=row.prompt_name,
        prompt_version=row.prompt_version,
        my_rating=feedback.rating if feedback else None,
        my_comment=feedback.comment if feedback else None,
    )


def list_conversations(uow: UnitOfWork, user_id: str, limit: int = 30) -> list[ConversationView]:
    """The user's conversations, most recently active first."""
    with uow:
        return [
            ConversationView(row.id, row.title, row.knowledge_base, row.model, row.updated_at)
            for row in uow.conversations.list_for_user(user_id, limit)
        ]


def belongs_to(uow: UnitOfWork, conversation_id: str, user_id: str) -> bool:
    with uow:
        row = uow.conversations.get(conversation_id)
        return row is not None and row.user_id == user_id


def start_conversation(
    uow: UnitOfWork,
    user_id: str,
    title: str = "New conversation",
    knowledge_base: str | None = None,
    model: str | None = None,
    prompt_name: str | None = None,
) -> str:
    now = datetime.now(UTC)
    with uow:
        row = ConversationRow(
            id=new_id(),
            user_id=user_id,
            title=title[:200],
            knowledge_base=knowledge_base,
            model=model,
            prompt_name=prompt_name,
            created_at=now,
            updated_at=now,
        )
        uow.conversations.add(row)
        uow.commit()
        return row.id


def append_message(uow: UnitOfWork, conversation_id: str, role: str, content: str, **details: Any) -> MessageView:
    """Store one message at the end of the conversation, in its own transaction."""
    now = datetime.now(UTC)
    with uow:
        conversation = uow.conversations.get(conversation_id)
        if conversation is None:
            raise ConversationError("That conversation no longer exists.")
        row = MessageRow(
            id=new_id(),
            conversation_id=conversation_id,
            seq=uow.messages.next_seq(conversation_id),
            role=role,
            content=content,
            citations=details.pop("citations", []),
            created_at=now,
            **details,
        )
        uow.messages.add(row)
        conversation.updated_at = now
        uow.commit()
        return _message_view(row)


def list_messages(uow: UnitOfWork, conversation_id: str, viewer_id: str | None = None) -> list[MessageView]:
    """Messages in order; with a viewer, each carries that viewer's own feedback (never others')."""
    with uow:
        rows = uow.messages.list_for_conversation(conversation_id)
        if viewer_id is None:
            return [_message_view(row) for row in rows]
        return [_message_view(row, uow.feedback.get_for(row.id, viewer_id)) for row in rows]


def record_feedback(uow: UnitOfWork, message_id: str, user_id: str, rating: int, comment: str | None = None) -> str:
    """Thumbs up (+1) or down (-1) with an optional comment; a second rating by the same user replaces it."""
    if rating not in (-1, 1):
        raise ConversationError("A rating is thumbs up (+1) or thumbs down (-1).")
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT_CHARS:
        raise ConversationError(f"A comment is at most {MAX_COMMENT_CHARS} characters.")
    now = datetime.now(UTC)
    with uow:
        if uow.messages.get(message_id) is None:
            raise ConversationError("That message no longer exists.")
        row = uow.feedback.get_for(message_id, user_id)
        if row is None:
            row = FeedbackRow(
                id=new_id(), message_id=message_id, user_id=user_id, created_at=now, updated_at=now,
                rating=rating, comment=comment,
            )  # fmt: skip
            uow.feedback.add(row)
        else:
            row.rating, row.comment, row.updated_at = rating, comment, now
        uow.commit()
        return row.id
