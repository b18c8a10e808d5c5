from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import conversation_row, random_user
from tests.fakes import FakeUnitOfWork
from workbench.services import conversations as svc


@pytest.fixture
def user_id(uow: FakeUnitOfWork) -> str:
    user = random_user()
    uow.seed(user)
    return user.id


@pytest.fixture
def conversation_id(uow: FakeUnitOfWork, user_id: str) -> str:
    return svc.start_conversation(uow, user_id, title="Refund policy", knowledge_base="handbook", model="m")


def test_start_conversation_commits_one_row(uow: FakeUnitOfWork, user_id: str) -> None:
    conversation_id = svc.start_conversation(uow, user_id, title="x" * 300, model="llama3.2:3b")

    [row] = uow.rows("conversations")
    assert row.id == conversation_id
    assert row.user_id == user_id
    assert len(row.title) == 200
    assert row.model == "llama3.2:3b"
    assert row.created_at == row.updated_at
    assert uow.commits == 1


def test_messages_get_consecutive_seq_and_list_in_order(uow: FakeUnitOfWork, conversation_id: str) -> None:
    contents = [f"turn {i}" for i in range(7)]
    views = [
        svc.append_message(uow, conversation_id, "user" if i % 2 == 0 else "assistant", text)
        for i, text in enumerate(contents)
    ]

    assert [view.seq for view in views] == list(range(7))
    listed = svc.list_messages(uow, conversation_id)
    assert [m.content for m in listed] == contents
    assert [m.seq for m in listed] == list(range(7))
    assert [m.id for m in listed] == [v.id for v in views]


def test_seq_is_per_conversation(uow: FakeUnitOfWork, user_id: str) -> None:
    first = svc.start_conversation(uow, user_id)
    second = svc.start_conversation(uow, user_id)

    svc.append_message(uow, first, "user", "a")
    svc.append_message(uow, first, "assistant", "b")

    assert svc.append_message(uow, second, "user", "c").seq == 0
    assert svc.append_message(uow, first, "user", "d").seq == 2


def test_append_message_keeps_details_and_bumps_updated_at(uow: FakeUnitOfWork, conversation_id: str) -> None:
    before = uow.rows("conversations")[0].updated_at
    citations = [{"source": "handbook.pdf", "page": 3}]

    view = svc.append_message(
        uow, conversation_id, "assistant", "answer", citations=citations, model="m", input_tokens=12,
        output_tokens=34, latency_ms=456.7, run_id="r1",
    )  # fmt: skip

    assert view.citations == citations
    [message] = uow.rows("messages")
    assert (message.model, message.input_tokens, message.output_tokens, message.latency_ms, message.run_id) == (
        "m", 12, 34, 456.7, "r1",
    )  # fmt: skip
    assert uow.rows("conversations")[0].updated_at >= before
    assert uow.rows("conversations")[0].updated_at == view.created_at


def test_append_to_a_missing_conversation_fails(uow: FakeUnitOfWork) -> None:
    with pytest.raises(svc.ConversationError):
        svc.append_message(uow, "missing", "user", "hello")
    assert uow.rows("messages") == []


def test_list_for_user_is_newest_first(uow: FakeUnitOfWork, user_id: str) -> None:
    now = datetime.now(UTC)
    rows = [conversation_row(user_id, updated_at=now - timedelta(minutes=m)) for m in (5, 1, 30)]
    uow.seed(*rows, conversation_row("someone-else", updated_at=now))

    with uow:
        listed = uow.conversations.list_for_user(user_id, limit=2)

    assert [row.id for row in listed] == [rows[1].id, rows[0].id]


# feedback ---------------------------------------------------------------------------------


@pytest.fixture
def message_id(uow: FakeUnitOfWork, conversation_id: str) -> str:
    return svc.append_message(uow, conversation_id, "assistant", "an answer").id


def test_feedback_is_one_row_per_user_per_message(uow: FakeUnitOfWork, message_id: str, user_id: str) -> None:
    first = svc.record_feedback(uow, message_id, user_id, 1, "helpful")
    second = svc.record_feedback(uow, message_id, user_id, -1, "  actually wrong  ")

    assert first == second
    [row] = uow.rows("feedback")
    assert (row.rating, row.comment) == (-1, "actually wrong")
    assert row.updated_at >= row.created_at


def test_feedback_from_two_users_is_two_rows(uow: FakeUnitOfWork, message_id: str, user_id: str) -> None:
    other = random_user()
    uow.seed(other)

    svc.record_feedback(uow, message_id, user_id, 1)
    svc.record_feedback(uow, message_id, other.id, -1)

    with uow:
        ratings = {row.user_id: row.rating for row in uow.feedback.list_for_message(message_id)}
    assert ratings == {user_id: 1, other.id: -1}


@pytest.mark.parametrize("rating", [0, 2, -2, 5])
def test_rating_must_be_plus_or_minus_one(uow: FakeUnitOfWork, message_id: str, user_id: str, rating: int) -> None:
    with pytest.raises(svc.ConversationError, match="thumbs"):
        svc.record_feedback(uow, message_id, user_id, rating)
    assert uow.rows("feedback") == []


def test_comment_length_limit(uow: FakeUnitOfWork, message_id: str, user_id: str) -> None:
    longest = "x" * svc.MAX_COMMENT_CHARS
    svc.record_feedback(uow, message_id, user_id, 1, longest)
    assert uow.rows("feedback")[0].comment == longest

    with pytest.raises(svc.ConversationError, match=str(svc.MAX_COMMENT_CHARS)):
        svc.record_feedback(uow, message_id, user_id, -1, longest + "y")
    assert uow.rows("feedback")[0].rating == 1  # the refused update changed nothing


def test_blank_comment_is_stored_as_none(uow: FakeUnitOfWork, message_id: str, user_id: str) -> None:
    svc.record_feedback(uow, message_id, user_id, 1, "   ")
    assert uow.rows("feedback")[0].comment is None


def test_feedback_on_a_missing_message_fails(uow: FakeUnitOfWork, user_id: str) -> None:
    with pytest.raises(svc.ConversationError):
        svc.record_feedback(uow, "missing", user_id, 1)
