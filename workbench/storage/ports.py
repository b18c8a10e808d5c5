"""What services may ask of storage. SQL implements these; unit tests use in-memory fakes."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from workbench.storage.sql.tables import ConversationRow, FeedbackRow, MessageRow, UserRow


class UserRepository(Protocol):
    def add(self, user: UserRow) -> None: ...
    def get(self, user_id: str) -> UserRow | None: ...
    def get_by_username(self, username: str) -> UserRow | None: ...
    def list(self) -> Sequence[UserRow]: ...
    def count_active_admins(self) -> int: ...


class ConversationRepository(Protocol):
    def add(self, conversation: ConversationRow) -> None: ...
    def get(self, conversation_id: str) -> ConversationRow | None: ...
    def list_for_user(self, user_id: str, limit: int = 50) -> Sequence[ConversationRow]: ...


class MessageRepository(Protocol):
    def add(self, message: MessageRow) -> None: ...
    def get(self, message_id: str) -> MessageRow | None: ...
    def list_for_conversation(self, conversation_id: str) -> Sequence[MessageRow]: ...
    def next_seq(self, conversation_id: str) -> int: ...


class FeedbackRepository(Protocol):
    def add(self, feedback: FeedbackRow) -> None: ...
    def get_for(self, message_id: str, user_id: str) -> FeedbackRow | None: ...
    def list_for_message(self, message_id: str) -> Sequence[FeedbackRow]: ...


class UnitOfWork(abc.ABC):
    """One transaction per user event: `with uow: ...; uow.commit()`; leaving without commit rolls back."""

    users: UserRepository
    conversations: ConversationRepository
    messages: MessageRepository
    feedback: FeedbackRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
