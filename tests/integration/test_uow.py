"""The unit-of-work contract and the repositories' queries on SQLite and PostgreSQL."""

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


# Queries -----------------------------------------------------------------------------------------


def test_list_users_by_username_and_count_active_admins(make_uow: MakeUow) -> None:
    _seed(
        make_uow,
        random_user(username="zed", role=Role.ADMIN),
        random_user(username="amy", role=Role.ADMIN),
        random_user(username="max", role=Role.ADMIN, is_active=False),
        random_user(username="bob", role=Role.ANALYST),
    )
    with make_uow() as uow:
        assert [row.username for row in uow.users.list()] == ["amy", "bob", "max", "zed"]
        assert uow.users.count_active_admins() == 2
        assert uow.users.get_by_username("bob") is not None
        assert uow.users.get_by_username("BOB") is None  # usernames are stored normalised
        assert uow.users.get("missing") is None


def test_list_for_user_is_newest_first_and_limited(make_uow: MakeUow) -> None:
    alice, bob = random_user(), random_user()
    now = datetime.now(UTC)
    mine = [conversation_row(alice.id, updated_at=now - timedelta(minutes=m), title=f"{m}") for m in (9, 2, 30, 5)]
    _seed(make_uow, alice, bob, *mine, conversation_row(bob.id, updated_at=now))

    with make_uow() as uow:
        assert [row.title for row in uow.conversations.list_for_user(alice.id)] == ["2", "5", "9", "30"]
        assert [row.title for row in uow.conversations.list_for_user(alice.id, limit=2)] == ["2", "5"]
        assert uow.conversations.list_for_user("nobody") == []


def test_next_seq_and_message_order(make_uow: MakeUow) -> None:
    user = random_user()
    first, second = conversation_row(user.id), conversation_row(user.id)
    _seed(make_uow, user, first, second)

    with make_uow() as uow:
        assert uow.messages.next_seq(first.id) == 0
        for seq in (2, 0, 1):
            uow.messages.add(message_row(first.id, seq, content=f"m{seq}"))
        uow.commit()

    with make_uow() as uow:
        assert uow.messages.next_seq(first.id) == 3
        assert uow.messages.next_seq(second.id) == 0
        assert [m.content for m in uow.messages.list_for_conversation(first.id)] == ["m0", "m1", "m2"]
        conversation = uow.conversations.get(first.id)
        assert conversation is not None
        assert [m.seq for m in conversation.messages] == [0, 1, 2]


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


def test_feedback_queries(make_uow: MakeUow) -> None:
    alice, bob = random_user(), random_user()
    conversation = conversation_row(alice.id)
    message = message_row(conversation.id, 0)
    now = datetime.now(UTC)
    _seed(
        make_uow, alice, bob, conversation, message,
        feedback_row(message.id, bob.id, -1, created_at=now),
        feedback_row(message.id, alice.id, 1, created_at=now - timedelta(seconds=5)),
    )  # fmt: skip

    with make_uow() as uow:
        found = uow.feedback.get_for(message.id, bob.id)
        assert found is not None
        assert found.rating == -1
        assert uow.feedback.get_for(message.id, "nobody") is None
        assert [f.user_id for f in uow.feedback.list_for_message(message.id)] == [alice.id, bob.id]


# Constraints enforced by the database ---------------------------------------------------------------


def test_feedback_unique_per_message_and_user(make_uow: MakeUow) -> None:
    user = random_user()
    conversation = conversation_row(user.id)
    message = message_row(conversation.id, 0)
    _seed(make_uow, user, conversation, message, feedback_row(message.id, user.id, 1))

    with pytest.raises(IntegrityError), make_uow() as uow:
        uow.feedback.add(feedback_row(message.id, user.id, -1))
        uow.commit()

    with make_uow() as uow:
        assert [f.rating for f in uow.feedback.list_for_message(message.id)] == [1]


def test_feedback_rating_check_constraint(make_uow: MakeUow) -> None:
    user = random_user()
    conversation = conversation_row(user.id)
    message = message_row(conversation.id, 0)
    _seed(make_uow, user, conversation, message)

    with pytest.raises(IntegrityError), make_uow() as uow:
        uow.feedback.add(feedback_row(message.id, user.id, 5))
        uow.commit()


@pytest.mark.parametrize("duplicate", ["username", "seq"])
def test_unique_username_and_message_seq(make_uow: MakeUow, duplicate: str) -> None:
    user = random_user(username="taken")
    conversation = conversation_row(user.id)
    _seed(make_uow, user, conversation, message_row(conversation.id, 0))

    with pytest.raises(IntegrityError), make_uow() as uow:
        if duplicate == "username":
            uow.users.add(random_user(username="taken"))
        else:
            uow.messages.add(message_row(conversation.id, 0))
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
