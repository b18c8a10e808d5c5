"""The SQL unit of work's contract, and what only the database enforces, on SQLite and PostgreSQL.

What each repository returns is asserted once for the fake and both databases in tests/integration/contracts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from tests.factories import conversation_row, feedback_row, message_row, random_user
from workbench.domain.users import Role
from workbench.storage.sql.models import ConversationRow, FeedbackRow, MessageRow, UserRow
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = pytest.mark.integration

MakeUow = Callable[[], SqlUnitOfWork]


def _usernames(make_uow: MakeUow) -> list[str]:
    with make_uow() as uow:
        return [row.username for row in uow.users.list()]


def _seed(make_uow: MakeUow, *rows: object) -> None:
    with make_uow() as uow:
        for row in rows:
            uow.session.add(row)
            uow.session.flush()  # in the given order: these models have no relationships to sort them by
        uow.commit()


# Transactions -----------------------------------------------------------------------------------


def test_commit_persists(make_uow: MakeUow) -> None:
    user = random_user(username="committed")
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()

    with make_uow() as uow:
        stored = uow.users.get(user.id)
        assert stored is not None
        assert stored.username == "committed"
        assert stored.created_at == user.created_at
        assert stored.created_at.tzinfo is not None


def test_leaving_without_commit_rolls_back(make_uow: MakeUow) -> None:
    with make_uow() as uow:
        uow.users.add(random_user(username="uncommitted"))
        uow.session.flush()  # written inside the transaction...
        assert uow.users.get_by_username("uncommitted") is not None

    assert _usernames(make_uow) == []  # ...and gone afterwards


def test_an_exception_inside_rolls_back(make_uow: MakeUow) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), make_uow() as uow:
        uow.users.add(random_user(username="doomed"))
        uow.session.flush()
        raise Boom

    assert _usernames(make_uow) == []


def test_changes_after_a_commit_are_rolled_back(make_uow: MakeUow) -> None:
    user = random_user(username="kept", role=Role.VIEWER)
    user_id = user.id
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()
        stored = uow.users.get(user_id)
        assert stored is not None
        stored.role = Role.ADMIN.value  # changed but never committed

    with make_uow() as uow:
        again = uow.users.get(user_id)
        assert again is not None
        assert again.role == Role.VIEWER.value


def test_session_is_closed_outside_the_block(make_uow: MakeUow) -> None:
    uow = make_uow()
    with uow:
        assert uow.session.is_active
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.session
    with uow:  # a unit of work can be used for the next event
        assert uow.users.list() == []


def test_rows_returned_after_commit_stay_readable(make_uow: MakeUow) -> None:
    user = random_user(username="detached")
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()
        row = uow.users.get(user.id)
    assert row is not None
    assert row.username == "detached"  # expire_on_commit=False: no lazy load after the session closed


# Relationships and column types ----------------------------------------------------------------


def test_a_conversation_loads_its_messages_in_seq_order(make_uow: MakeUow) -> None:
    user = random_user()
    conversation = conversation_row(user.id)
    _seed(make_uow, user, conversation, *[message_row(conversation.id, seq) for seq in (2, 0, 1)])

    with make_uow() as uow:
        stored = uow.conversations.get(conversation.id)
        assert stored is not None
        assert [m.seq for m in stored.messages] == [0, 1, 2]  # the relationship's order_by


def test_message_citations_round_trip_as_json(make_uow: MakeUow) -> None:
    user = random_user()
    conversation = conversation_row(user.id)
    citations = [{"source": "a.pdf", "page": 2, "score": 0.83}, {"source": "b.md", "chunk": "ü ✓"}]
    message = message_row(conversation.id, 0, citations=citations, latency_ms=123.456)
    _seed(make_uow, user, conversation, message)

    with make_uow() as uow:
        stored = uow.messages.get(message.id)
        assert stored is not None
        assert stored.citations == citations
        assert stored.latency_ms == pytest.approx(123.456)


# Constraints enforced by the database ---------------------------------------------------------------


def test_feedback_rating_check_constraint(make_uow: MakeUow) -> None:
    user = random_user()
    conversation = conversation_row(user.id)
    message = message_row(conversation.id, 0)
    _seed(make_uow, user, conversation, message)

    with pytest.raises(IntegrityError), make_uow() as uow:
        uow.feedback.add(feedback_row(message.id, user.id, 5))
        uow.commit()


def test_foreign_keys_are_enforced(make_uow: MakeUow) -> None:
    with pytest.raises(IntegrityError), make_uow() as uow:
        uow.conversations.add(conversation_row("no-such-user"))
        uow.commit()


def test_deleting_a_user_cascades_to_everything_they_own(make_uow: MakeUow) -> None:
    user, other = random_user(), random_user()
    conversation = conversation_row(user.id)
    message = message_row(conversation.id, 0)
    _seed(make_uow, user, other, conversation, message, feedback_row(message.id, other.id))

    with make_uow() as uow:
        uow.session.delete(uow.users.get(user.id))
        uow.commit()

    with make_uow() as uow:
        session = uow.session
        assert session.scalars(select(ConversationRow)).all() == []
        assert session.scalars(select(MessageRow)).all() == []
        assert session.scalars(select(FeedbackRow)).all() == []
        assert [row.id for row in session.scalars(select(UserRow))] == [other.id]


def test_naive_datetimes_are_refused(make_uow: MakeUow) -> None:
    with pytest.raises(StatementError, match="naive"), make_uow() as uow:
        uow.users.add(random_user(created_at=datetime(2026, 1, 1)))
        uow.commit()


def test_datetimes_come_back_in_utc(make_uow: MakeUow) -> None:
    plus_two = datetime(2026, 6, 1, 12, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    user = random_user(created_at=plus_two)
    _seed(make_uow, user)
    with make_uow() as uow:
        stored = uow.users.get(user.id)
        assert stored is not None
        assert stored.created_at == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
        assert stored.created_at.utcoffset() == timedelta(0)
