"""Conversations, messages and feedback on messages (the chat capability builds on these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.tables import ConversationRow, FeedbackRow, MessageRow, new_id

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


def _message_view(row: MessageRow) -> MessageView:
    return MessageView(
        id=row.id,
        conversation_id=row.conversation_id,
        seq=row.seq,
        role=row.role,
        content=row.content,
        created_at=row.created_at,
        citations=list(row.citations or []),
    )


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


def list_messages(uow: UnitOfWork, conversation_id: str) -> list[MessageView]:
    with uow:
        return [_message_view(row) for row in uow.messages.list_for_conversation(conversation_id)]


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
