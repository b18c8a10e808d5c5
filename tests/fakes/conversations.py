"""The in-memory repositories of conversations, messages and feedback."""

from __future__ import annotations

from collections.abc import Sequence

from tests.fakes.tables import Tables
from workbench.storage.sql.models import ConversationRow, FeedbackRow, MessageRow


class FakeConversationRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, conversation: ConversationRow) -> None:
        self._tables.add(conversation)

    def get(self, conversation_id: str) -> ConversationRow | None:
        return self._tables.get(ConversationRow, conversation_id)

    def list_for_user(self, user_id: str, limit: int = 50) -> Sequence[ConversationRow]:
        mine = self._tables.where(ConversationRow, user_id=user_id)
        return sorted(mine, key=lambda row: row.updated_at, reverse=True)[:limit]


class FakeMessageRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, message: MessageRow) -> None:
        self._tables.add(message)

    def get(self, message_id: str) -> MessageRow | None:
        return self._tables.get(MessageRow, message_id)

    def list_for_conversation(self, conversation_id: str) -> Sequence[MessageRow]:
        return sorted(self._tables.where(MessageRow, conversation_id=conversation_id), key=lambda row: row.seq)

    def next_seq(self, conversation_id: str) -> int:
        seqs = [row.seq for row in self._tables.where(MessageRow, conversation_id=conversation_id)]
        return max(seqs) + 1 if seqs else 0


class FakeFeedbackRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, feedback: FeedbackRow) -> None:
        self._tables.add(feedback)

    def get_for(self, message_id: str, user_id: str) -> FeedbackRow | None:
        return self._tables.first(FeedbackRow, message_id=message_id, user_id=user_id)

    def list_for_message(self, message_id: str) -> Sequence[FeedbackRow]:
        return sorted(self._tables.where(FeedbackRow, message_id=message_id), key=lambda row: row.created_at)
