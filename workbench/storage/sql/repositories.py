"""SQLAlchemy repositories: the only code that builds queries for the relational records."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.domain.users import Role
from workbench.storage.sql.models import (
    ConversationRow,
    FeedbackRow,
    KbDocumentRow,
    KnowledgeBaseRow,
    MessageRow,
    UserRow,
)


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, user: UserRow) -> None:
        self._session.add(user)

    def get(self, user_id: str) -> UserRow | None:
        return self._session.get(UserRow, user_id)

    def get_by_username(self, username: str) -> UserRow | None:
        return self._session.scalar(select(UserRow).where(UserRow.username == username))

    def list(self) -> Sequence[UserRow]:
        return self._session.scalars(select(UserRow).order_by(UserRow.username)).all()

    def count_active_admins(self) -> int:
        query = select(func.count()).where(UserRow.role == Role.ADMIN.value, UserRow.is_active)
        return int(self._session.scalar(query) or 0)


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


class SqlKnowledgeBaseRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, kb: KnowledgeBaseRow) -> None:
        self._session.add(kb)

    def get(self, kb_id: str) -> KnowledgeBaseRow | None:
        return self._session.get(KnowledgeBaseRow, kb_id)

    def get_by_name(self, name: str) -> KnowledgeBaseRow | None:
        return self._session.scalar(select(KnowledgeBaseRow).where(KnowledgeBaseRow.name == name))

    def list(self) -> Sequence[KnowledgeBaseRow]:
        return self._session.scalars(select(KnowledgeBaseRow).order_by(KnowledgeBaseRow.name)).all()

    def delete(self, kb: KnowledgeBaseRow) -> None:
        self._session.delete(kb)


class SqlKbDocumentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, document: KbDocumentRow) -> None:
        self._session.add(document)

    def get(self, kb_id: str, source: str) -> KbDocumentRow | None:
        query = select(KbDocumentRow).where(KbDocumentRow.kb_id == kb_id, KbDocumentRow.source == source)
        return self._session.scalar(query)

    def list_for_kb(self, kb_id: str) -> Sequence[KbDocumentRow]:
        query = select(KbDocumentRow).where(KbDocumentRow.kb_id == kb_id).order_by(KbDocumentRow.source)
        return self._session.scalars(query).all()

    def delete(self, document: KbDocumentRow) -> None:
        self._session.delete(document)

    def totals(self) -> dict[str, tuple[int, int]]:
        """kb id -> (documents ingested ok, their chunks), for every knowledge base with documents."""
        query = (
            select(KbDocumentRow.kb_id, func.count(), func.coalesce(func.sum(KbDocumentRow.chunk_count), 0))
            .where(KbDocumentRow.status == "ok")
            .group_by(KbDocumentRow.kb_id)
        )
        return {kb_id: (int(docs), int(chunks)) for kb_id, docs, chunks in self._session.execute(query)}
