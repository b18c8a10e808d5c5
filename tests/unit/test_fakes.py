"""The in-memory unit of work keeps the contract the SQL one has, so service tests on it mean something."""

from __future__ import annotations

import pytest

from tests.factories import conversation_row, feedback_row, message_row, random_user
from tests.fakes import FakeIntegrityError, FakeUnitOfWork


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
