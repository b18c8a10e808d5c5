"""The SQL repositories of chat conversations, their messages and the feedback on answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.storage.sql.models import ConversationRow, FeedbackRow, MessageRow


class SqlConversationRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, conversation: ConversationRow) -> None:
        self._session.add(conversation)

    def get(self, conversation_id: str) -> ConversationRow | None:
        return self._session.get(ConversationRow, conversation_id)

    def list_for_user(self, user_id: str, limit: int = 50) -> Sequence[ConversationRow]:
        query = (
            select(ConversationRow)
            .where(ConversationRow.user_id == user_id)
            .order_by(ConversationRow.updated_at.desc())
            .limit(limit)
        )
        return self._session.scalars(query).all()


class SqlMessageRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, message: MessageRow) -> None:
        self._session.add(message)

    def get(self, message_id: str) -> MessageRow | None:
        return self._session.get(MessageRow, message_id)

    def list_for_conversation(self, conversation_id: str) -> Sequence[MessageRow]:
        query = select(MessageRow).where(MessageRow.conversation_id == conversation_id).order_by(MessageRow.seq)
        return self._session.scalars(query).all()

    def next_seq(self, conversation_id: str) -> int:
        query = select(func.max(MessageRow.seq)).where(MessageRow.conversation_id == conversation_id)
        current = self._session.scalar(query)
        return 0 if current is None else int(current) + 1


class SqlFeedbackRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, feedback: FeedbackRow) -> None:
        self._session.add(feedback)

    def get_for(self, message_id: str, user_id: str) -> FeedbackRow | None:
        query = select(FeedbackRow).where(FeedbackRow.message_id == message_id, FeedbackRow.user_id == user_id)
        return self._session.scalar(query)

    def list_for_message(self, message_id: str) -> Sequence[FeedbackRow]:
        query = select(FeedbackRow).where(FeedbackRow.message_id == message_id)
        return self._session.scalars(query.order_by(FeedbackRow.created_at)).all()
