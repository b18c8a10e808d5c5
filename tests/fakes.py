"""In-memory fakes of the storage ports, for unit tests of services and of the run-log writer.

The fake unit of work is transactional like the SQL one: a `with` block works on copies of the committed
rows; `commit()` publishes them (checking the same unique constraints the database has) and leaving the
block without a commit throws the copies away. So a service that forgets to commit loses its change here too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import bson
from pymongo.errors import AutoReconnect
from sqlalchemy import inspect as sa_inspect

from workbench.domain.users import Role
from workbench.storage.ports import UnitOfWork
from workbench.storage.runlog.rollups import rollup_increments
from workbench.storage.sql.models import (
    Base,
    ConversationRow,
    FeedbackRow,
    KbDocumentRow,
    KnowledgeBaseRow,
    MessageRow,
    UserRow,
)

RowT = TypeVar("RowT", bound=Base)


class FakeIntegrityError(Exception):
    """What the fake raises on commit where the database would raise sqlalchemy.exc.IntegrityError."""


def copy_row(row: RowT) -> RowT:
    """A detached copy holding the same column values (relationships are not copied)."""
    mapper = sa_inspect(type(row))
    values = {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs}
    for key, value in values.items():
        if isinstance(value, list | dict):
            values[key] = type(value)(value)
    return type(row)(**values)


class _Table:
    """Rows of one table keyed by id."""

    def __init__(self, rows: Mapping[str, Any] | None = None) -> None:
        self.rows: dict[str, Any] = dict(rows or {})

    def add(self, row: Any) -> None:
        if row.id in self.rows:
            raise FakeIntegrityError(f"duplicate primary key {row.id}")
        self.rows[row.id] = row

    def get(self, row_id: str) -> Any:
        return self.rows.get(row_id)

    def remove(self, row_id: str) -> None:
        self.rows.pop(row_id, None)

    def values(self) -> list[Any]:
        return list(self.rows.values())


class FakeUserRepository:
    def __init__(self, table: _Table) -> None:
        self._table = table

    def add(self, user: UserRow) -> None:
        self._table.add(user)

    def get(self, user_id: str) -> UserRow | None:
        row: UserRow | None = self._table.get(user_id)
        return row

    def get_by_username(self, username: str) -> UserRow | None:
        return next((row for row in self._table.values() if row.username == username), None)

    def list(self) -> Sequence[UserRow]:
        return sorted(self._table.values(), key=lambda row: row.username)

    def count_active_admins(self) -> int:
        return sum(1 for row in self._table.values() if row.role == Role.ADMIN.value and row.is_active)


class FakeConversationRepository:
    def __init__(self, table: _Table) -> None:
        self._table = table

    def add(self, conversation: ConversationRow) -> None:
        self._table.add(conversation)

    def get(self, conversation_id: str) -> ConversationRow | None:
        row: ConversationRow | None = self._table.get(conversation_id)
        return row

    def list_for_user(self, user_id: str, limit: int = 50) -> Sequence[ConversationRow]:
        mine = [row for row in self._table.values() if row.user_id == user_id]
        return sorted(mine, key=lambda row: row.updated_at, reverse=True)[:limit]


class FakeMessageRepository:
    def __init__(self, table: _Table) -> None:
        self._table = table

    def add(self, message: MessageRow) -> None:
        self._table.add(message)

    def get(self, message_id: str) -> MessageRow | None:
        row: MessageRow | None = self._table.get(message_id)
        return row

    def list_for_conversation(self, conversation_id: str) -> Sequence[MessageRow]:
        rows = [row for row in self._table.values() if row.conversation_id == conversation_id]
        return sorted(rows, key=lambda row: row.seq)

    def next_seq(self, conversation_id: str) -> int:
        seqs = [row.seq for row in self._table.values() if row.conversation_id == conversation_id]
        return max(seqs) + 1 if seqs else 0


class FakeFeedbackRepository:
    def __init__(self, table: _Table) -> None:
        self._table = table

    def add(self, feedback: FeedbackRow) -> None:
        self._table.add(feedback)

    def get_for(self, message_id: str, user_id: str) -> FeedbackRow | None:
        return next(
            (row for row in self._table.values() if row.message_id == message_id and row.user_id == user_id),
            None,
        )

    def list_for_message(self, message_id: str) -> Sequence[FeedbackRow]:
        rows = [row for row in self._table.values() if row.message_id == message_id]
        return sorted(rows, key=lambda row: row.created_at)


class FakeKnowledgeBaseRepository:
    def __init__(self, table: _Table, documents: _Table) -> None:
        self._table = table
        self._documents = documents

    def add(self, kb: KnowledgeBaseRow) -> None:
        self._table.add(kb)

    def get(self, kb_id: str) -> KnowledgeBaseRow | None:
        row: KnowledgeBaseRow | None = self._table.get(kb_id)
        return row

    def get_by_name(self, name: str) -> KnowledgeBaseRow | None:
        return next((row for row in self._table.values() if row.name == name), None)

    def list(self) -> Sequence[KnowledgeBaseRow]:
        return sorted(self._table.values(), key=lambda row: row.name)

    def delete(self, kb: KnowledgeBaseRow) -> None:
        self._table.remove(kb.id)
        for document in self._documents.values():  # ON DELETE CASCADE
            if document.kb_id == kb.id:
                self._documents.remove(document.id)


class FakeKbDocumentRepository:
    def __init__(self, table: _Table) -> None:
        self._table = table

    def add(self, document: KbDocumentRow) -> None:
        self._table.add(document)

    def get(self, kb_id: str, source: str) -> KbDocumentRow | None:
        return next((row for row in self._table.values() if row.kb_id == kb_id and row.source == source), None)

    def list_for_kb(self, kb_id: str) -> Sequence[KbDocumentRow]:
        return sorted((row for row in self._table.values() if row.kb_id == kb_id), key=lambda row: row.source)

    def delete(self, document: KbDocumentRow) -> None:
        self._table.remove(document.id)

    def totals(self) -> dict[str, tuple[int, int]]:
        totals: dict[str, tuple[int, int]] = {}
        for row in self._table.values():
            if row.status == "ok":
                docs, chunks = totals.get(row.kb_id, (0, 0))
                totals[row.kb_id] = (docs + 1, chunks + row.chunk_count)
        return totals


# (table name, function giving the unique key of a row) for the constraints the schema declares.
_UNIQUE: dict[str, list[Callable[[Any], tuple[Any, ...]]]] = {
    "users": [lambda row: (row.username,)],
    "conversations": [],
    "messages": [lambda row: (row.conversation_id, row.seq)],
    "feedback": [lambda row: (row.message_id, row.user_id)],
    "knowledge_bases": [lambda row: (row.name,)],
    "kb_documents": [lambda row: (row.kb_id, row.source)],
}


class FakeUnitOfWork(UnitOfWork):
    """Transactional in-memory unit of work; `commits` and `rollbacks` count what the service did."""

    def __init__(self) -> None:
        self.committed: dict[str, dict[str, Any]] = {name: {} for name in _UNIQUE}
        self.commits = 0
        self.rollbacks = 0
        self._working: dict[str, _Table] | None = None

    # Seeding and inspection (outside any `with` block) ------------------------------------

    def seed(self, *rows: Base) -> Self:
        """Store rows as if committed earlier."""
        for row in rows:
            table = self.committed[row.__tablename__]
            table[row.id] = copy_row(row)  # type: ignore[attr-defined]
        return self

    def rows(self, table: str) -> list[Any]:
        """Committed rows of a table (copies: changing them changes nothing)."""
        return [copy_row(row) for row in self.committed[table].values()]

    # UnitOfWork -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._begin()
        return super().__enter__()

    def _begin(self) -> None:
        self._working = {
            name: _Table({row_id: copy_row(row) for row_id, row in rows.items()})
            for name, rows in self.committed.items()
        }
        self.users = FakeUserRepository(self._working["users"])
        self.conversations = FakeConversationRepository(self._working["conversations"])
        self.messages = FakeMessageRepository(self._working["messages"])
        self.feedback = FakeFeedbackRepository(self._working["feedback"])
        self.knowledge_bases = FakeKnowledgeBaseRepository(
            self._working["knowledge_bases"], self._working["kb_documents"]
        )
        self.kb_documents = FakeKbDocumentRepository(self._working["kb_documents"])

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self._working = None

    def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit outside a `with` block")
        for name, keys in _UNIQUE.items():
            for key in keys:
                seen: set[tuple[Any, ...]] = set()
                for row in self._working[name].values():
                    value = key(row)
                    if value in seen:
                        raise FakeIntegrityError(f"unique constraint on {name} {value}")
                    seen.add(value)
        self.committed = {
            name: {row_id: copy_row(row) for row_id, row in table.rows.items()} for name, table in self._working.items()
        }
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1
        if self._working is not None:
            self._begin()  # back to the last committed state


# Run-log sink -------------------------------------------------------------------------------


@dataclass
class FakeRunLogSink:
    """Stands in for MongoRunLogStore under the writer.

    `down = True` makes every call raise AutoReconnect (MongoDB away) after `delay_s` (server selection
    time); `rollups_down = True` fails only the rollup step; `lose_ack = True` stores an insert and then raises,
    as when the connection drops before the reply. Documents are BSON-encoded on insert, so unencodable ones
    raise InvalidDocument like pymongo. Duplicate ids are skipped, as the real store does.
    """

    down: bool = False
    rollups_down: bool = False
    lose_ack: bool = False
    delay_s: float = 0.0
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    inserted_ids: list[str] = field(default_factory=list)  # in the order they were stored
    rolled_up_ids: list[str] = field(default_factory=list)
    rollup_counts: dict[str, int] = field(default_factory=dict)  # rollup key -> count
    insert_calls: int = 0
    failed_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def insert_batch(self, docs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        with self._lock:
            self.insert_calls += 1
            if self.down:
                self.failed_calls += 1
                time.sleep(self.delay_s)
                raise AutoReconnect("connection refused (fake)")
            for doc in docs:
                bson.encode(doc)  # raises InvalidDocument before anything is stored, like insert_many
            fresh = []
            for doc in docs:
                if doc["_id"] in self.docs:
                    continue
                self.docs[doc["_id"]] = dict(doc)
                self.inserted_ids.append(doc["_id"])
                fresh.append(doc)
            if self.lose_ack:
                self.failed_calls += 1
                raise AutoReconnect("connection closed before the reply (fake)")
            return fresh

    def apply_rollups(self, docs: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            if self.down or self.rollups_down:
                self.failed_calls += 1
                raise AutoReconnect("connection refused (fake)")
            for key, entry in rollup_increments(docs).items():
                self.rollup_counts[key] = self.rollup_counts.get(key, 0) + int(entry["inc"]["count"])
            self.rolled_up_ids.extend(doc["_id"] for doc in docs)

    @property
    def rolled_up_total(self) -> int:
        return sum(self.rollup_counts.values())
