"""The SQL unit of work: a Session per `with` block, committed explicitly, rolled back otherwise."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.repositories.conversations import (
    SqlConversationRepository,
    SqlFeedbackRepository,
    SqlMessageRepository,
)
from workbench.storage.sql.repositories.evaluation import SqlEvaluationRepository
from workbench.storage.sql.repositories.knowledge_bases import SqlKbDocumentRepository, SqlKnowledgeBaseRepository
from workbench.storage.sql.repositories.labelling import SqlLabellingRepository
from workbench.storage.sql.repositories.playground import SqlPlaygroundRepository
from workbench.storage.sql.repositories.prompts import SqlPromptRepository
from workbench.storage.sql.repositories.users import SqlApiKeyRepository, SqlUserRepository


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        self.users = SqlUserRepository(self._session)
        self.api_keys = SqlApiKeyRepository(self._session)
        self.conversations = SqlConversationRepository(self._session)
        self.messages = SqlMessageRepository(self._session)
        self.feedback = SqlFeedbackRepository(self._session)
        self.knowledge_bases = SqlKnowledgeBaseRepository(self._session)
        self.kb_documents = SqlKbDocumentRepository(self._session)
        self.prompts = SqlPromptRepository(self._session)
        self.playground = SqlPlaygroundRepository(self._session)
        self.labelling = SqlLabellingRepository(self._session)
        self.evaluation = SqlEvaluationRepository(self._session)
        return super().__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            assert self._session is not None
            self._session.close()
            self._session = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
