"""The in-memory unit of work: every repository of the storage ports, over one set of in-memory tables.

It is transactional like the SQL one: a `with` block works on copies of the committed rows; `commit()` publishes them
(checking the unique keys the schema declares) and leaving the block without a commit throws the copies away. So a
service that forgets to commit loses its change here too.

Where it differs: the SQL repositories' bulk UPDATEs do not refresh rows already loaded in the session, whereas here
every repository works on the same row objects, so such a row shows the change at once.
"""

from __future__ import annotations

from typing import Any, Self

from tests.fakes.conversations import FakeConversationRepository, FakeFeedbackRepository, FakeMessageRepository
from tests.fakes.evaluation import FakeEvaluationRepository
from tests.fakes.knowledge_bases import FakeKbDocumentRepository, FakeKnowledgeBaseRepository
from tests.fakes.labelling import FakeLabellingRepository
from tests.fakes.playground import FakePlaygroundRepository
from tests.fakes.prompts import FakePromptRepository
from tests.fakes.tables import Tables, copy_row, with_defaults
from tests.fakes.users import FakeApiKeyRepository, FakeUserRepository
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import Base


class FakeUnitOfWork(UnitOfWork):
    """Transactional in-memory unit of work; `commits` and `rollbacks` count what the service did."""

    def __init__(self) -> None:
        self.committed: dict[str, dict[str, Base]] = {name: {} for name in Base.metadata.tables}
        self.commits = 0
        self.rollbacks = 0
        self._working: Tables | None = None

    # Seeding and inspection (outside any `with` block) ------------------------------------

    def seed(self, *rows: Base) -> Self:
        """Store rows as if committed earlier."""
        for row in rows:
            stored = with_defaults(copy_row(row))
            self.committed[row.__tablename__][stored.id] = stored  # type: ignore[attr-defined]
        return self

    def rows(self, table: str) -> list[Any]:
        """Committed rows of a table (copies: changing them changes nothing)."""
        return [copy_row(row) for row in self.committed[table].values()]

    # UnitOfWork -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._begin()
        return super().__enter__()

    def _begin(self) -> None:
        tables = self._working = Tables(self.committed)
        self.users = FakeUserRepository(tables)
        self.api_keys = FakeApiKeyRepository(tables)
        self.conversations = FakeConversationRepository(tables)
        self.messages = FakeMessageRepository(tables)
        self.feedback = FakeFeedbackRepository(tables)
        self.knowledge_bases = FakeKnowledgeBaseRepository(tables)
        self.kb_documents = FakeKbDocumentRepository(tables)
        self.prompts = FakePromptRepository(tables)
        self.playground = FakePlaygroundRepository(tables)
        self.labelling = FakeLabellingRepository(tables)
        self.evaluation = FakeEvaluationRepository(tables)

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self._working = None

    def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit outside a `with` block")
        self._working.check_unique()
        self.committed = self._working.snapshot()
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1
        if self._working is not None:
            self._begin()  # back to the last committed state
