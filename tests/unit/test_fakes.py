"""The in-memory unit of work keeps the contract the SQL one has, so service tests on it mean something.

What each fake repository returns is checked against SQLite and PostgreSQL in tests/integration/contracts.
"""

from __future__ import annotations

import inspect

import pytest

from tests.factories import (
    conversation_row,
    feedback_row,
    message_row,
    playground_run_row,
    random_user,
    rubric_row,
)
from tests.fakes import FakeIntegrityError, FakeUnitOfWork
from tests.fakes.tables import Tables
from workbench.storage.conflicts import is_unique_violation
from workbench.storage.ports import (
    ConversationRepository,
    EvaluationRepository,
    FeedbackRepository,
    KbDocumentRepository,
    KnowledgeBaseRepository,
    LabellingRepository,
    MessageRepository,
    PlaygroundRepository,
    PromptRepository,
    UserRepository,
)
from workbench.storage.sql.models import EvalRunRow
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
from workbench.storage.sql.repositories.users import SqlUserRepository


def test_commit_persists() -> None:
    uow = FakeUnitOfWork()
    user = random_user(username="kept")
    with uow:
        uow.users.add(user)
        uow.commit()
    assert [row.username for row in uow.rows("users")] == ["kept"]
    assert uow.commits == 1


def test_leaving_without_commit_rolls_back_adds_and_changes() -> None:
    uow = FakeUnitOfWork().seed(random_user(username="existing", role="viewer"))
    with uow:
        uow.users.add(random_user(username="dropped"))
        row = uow.users.get_by_username("existing")
        assert row is not None
        row.role = "admin"
    assert [(row.username, row.role) for row in uow.rows("users")] == [("existing", "viewer")]
    assert uow.commits == 0


def test_an_exception_inside_rolls_back() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(KeyError), uow:
        uow.users.add(random_user())
        raise KeyError("boom")
    assert uow.rows("users") == []


def test_unique_constraints_are_checked_on_commit() -> None:
    user = random_user()
    conversation = conversation_row(user.id)
    message = message_row(conversation.id, 0)
    uow = FakeUnitOfWork().seed(user, conversation, message, feedback_row(message.id, user.id))
    with pytest.raises(FakeIntegrityError), uow:
        uow.feedback.add(feedback_row(message.id, user.id, -1))
        uow.commit()
    assert len(uow.rows("feedback")) == 1
    with pytest.raises(FakeIntegrityError), uow:
        uow.users.add(random_user(username=user.username))
        uow.commit()


def test_rows_handed_out_are_copies() -> None:
    uow = FakeUnitOfWork().seed(random_user(username="a"))
    uow.rows("users")[0].username = "changed"
    assert uow.rows("users")[0].username == "a"


def test_rolled_back_json_changes_do_not_reach_the_committed_rows() -> None:
    user = random_user()
    conversation = conversation_row(user.id)
    message = message_row(conversation.id, 0, citations=[{"source": "a.md"}])
    uow = FakeUnitOfWork().seed(user, conversation, message)
    with uow:
        stored = uow.messages.get(message.id)
        assert stored is not None
        stored.citations[0]["source"] = "changed"  # in place, never committed
    assert uow.rows("messages")[0].citations == [{"source": "a.md"}]


def test_unset_columns_get_their_defaults_as_on_a_flush() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.evaluation.add(EvalRunRow(version_id="v", name="r", config={}, config_hash="h", item_count=1,
                                      created_by="me"))  # fmt: skip
        uow.commit()
    [run] = uow.rows("eval_runs")
    assert (len(run.id), run.status, run.repeat, run.tags, run.dispatch_id) == (32, "pending", 1, [], None)
    assert run.created_at.tzinfo is not None


def test_a_clash_is_reported_on_flush_too() -> None:
    uow = FakeUnitOfWork().seed(rubric_row("tone"))
    with pytest.raises(FakeIntegrityError, match="UNIQUE") as caught, uow:
        uow.labelling.add(rubric_row("tone"))
        uow.labelling.flush()
    assert is_unique_violation(caught.value)


def test_deletes_apply_each_foreign_keys_on_delete_action() -> None:
    user, other = random_user(), random_user()
    conversation = conversation_row(user.id)
    run = playground_run_row(user_id=user.id)
    tables = Tables({})
    for row in (user, other, conversation, message_row(conversation.id, 0), run):
        tables.add(row)
    tables.delete(user)
    assert [row.id for row in tables["users"]] == [other.id]
    assert list(tables["conversations"]) == list(tables["messages"]) == []  # CASCADE, through two tables
    assert [row.user_id for row in tables["playground_runs"]] == [None]  # SET NULL


PORTS = {
    "users": (UserRepository, SqlUserRepository),
    "conversations": (ConversationRepository, SqlConversationRepository),
    "messages": (MessageRepository, SqlMessageRepository),
    "feedback": (FeedbackRepository, SqlFeedbackRepository),
    "knowledge_bases": (KnowledgeBaseRepository, SqlKnowledgeBaseRepository),
    "kb_documents": (KbDocumentRepository, SqlKbDocumentRepository),
    "prompts": (PromptRepository, SqlPromptRepository),
    "playground": (PlaygroundRepository, SqlPlaygroundRepository),
    "labelling": (LabellingRepository, SqlLabellingRepository),
    "evaluation": (EvaluationRepository, SqlEvaluationRepository),
}


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("attribute", PORTS)
def test_fake_and_sql_repositories_implement_their_port_with_its_signatures(attribute: str) -> None:
    port, sql = PORTS[attribute]
    with FakeUnitOfWork() as uow:
        fake = type(getattr(uow, attribute))
    wanted = _methods(port)
    assert _methods(fake) == wanted  # exactly the port: a fake method nobody asked for would go untested
    assert {name: signature for name, signature in _methods(sql).items() if name in wanted} == wanted
