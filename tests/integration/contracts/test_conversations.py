"""The contracts of the conversation, message and feedback repositories, on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from tests.factories import conversation_row, feedback_row, message_row, random_user
from tests.integration.contracts.backends import Backend, at


def test_list_for_user_is_newest_first_and_limited(backend: Backend) -> None:
    alice, bob = random_user(), random_user()
    mine = [conversation_row(alice.id, updated_at=at(-m), title=f"{m}") for m in (9, 2, 30, 5)]
    backend.seed(alice, bob, *mine, conversation_row(bob.id, updated_at=at(0), title="bob's"))
    with backend.make_uow() as uow:
        assert [row.title for row in uow.conversations.list_for_user(alice.id)] == ["2", "5", "9", "30"]
        assert [row.title for row in uow.conversations.list_for_user(alice.id, limit=2)] == ["2", "5"]
        assert uow.conversations.list_for_user("nobody") == []


def test_add_and_get_a_conversation(backend: Backend) -> None:
    user = random_user()
    backend.seed(user)
    conversation = conversation_row(user.id, title="Holidays", knowledge_base="hr", model="echo")
    with backend.make_uow() as uow:
        uow.conversations.add(conversation)
        uow.commit()
    with backend.make_uow() as uow:
        stored = uow.conversations.get(conversation.id)
        assert stored is not None
        assert (stored.user_id, stored.title, stored.knowledge_base) == (user.id, "Holidays", "hr")
        assert stored.model == "echo"
        assert uow.conversations.get("missing") is None


def test_messages_in_seq_order_and_the_next_seq(backend: Backend) -> None:
    user = random_user()
    first, second = conversation_row(user.id), conversation_row(user.id)
    backend.seed(user, first, second)
    with backend.make_uow() as uow:
        assert uow.messages.next_seq(first.id) == 0
        for seq in (2, 0, 1):
            uow.messages.add(message_row(first.id, seq, content=f"m{seq}", citations=[{"source": f"{seq}.md"}]))
        uow.commit()
    with backend.make_uow() as uow:
        assert uow.messages.next_seq(first.id) == 3
        assert uow.messages.next_seq(second.id) == 0
        listed = uow.messages.list_for_conversation(first.id)
        assert [m.content for m in listed] == ["m0", "m1", "m2"]
        assert uow.messages.list_for_conversation(second.id) == []
        found = uow.messages.get(listed[1].id)
        assert found is not None
        assert found.citations == [{"source": "1.md"}]
        assert uow.messages.get("missing") is None


def test_message_seq_is_unique_per_conversation(backend: Backend) -> None:
    user = random_user()
    conversation, other = conversation_row(user.id), conversation_row(user.id)
    backend.seed(user, conversation, other, message_row(conversation.id, 0))
    with backend.conflict(), backend.make_uow() as uow:
        uow.messages.add(message_row(conversation.id, 0))
        uow.commit()
    with backend.make_uow() as uow:
        uow.messages.add(message_row(other.id, 0))  # the same seq in another conversation is fine
        uow.commit()
    with backend.make_uow() as uow:
        assert len(uow.messages.list_for_conversation(conversation.id)) == 1


def test_feedback_of_a_message_oldest_first_and_by_user(backend: Backend) -> None:
    alice, bob = random_user(), random_user()
    conversation = conversation_row(alice.id)
    message, other = message_row(conversation.id, 0), message_row(conversation.id, 1)
    backend.seed(
        alice, bob, conversation, message, other,
        feedback_row(message.id, bob.id, -1, created_at=at(5), comment="wrong"),
        feedback_row(message.id, alice.id, 1, created_at=at(0)),
        feedback_row(other.id, alice.id, 1, created_at=at(1)),
    )  # fmt: skip
    with backend.make_uow() as uow:
        found = uow.feedback.get_for(message.id, bob.id)
        assert found is not None
        assert (found.rating, found.comment) == (-1, "wrong")
        assert uow.feedback.get_for(message.id, "nobody") is None
        assert [f.user_id for f in uow.feedback.list_for_message(message.id)] == [alice.id, bob.id]
        assert uow.feedback.list_for_message("missing") == []


def test_feedback_is_unique_per_message_and_user(backend: Backend) -> None:
    user = random_user()
    conversation = conversation_row(user.id)
    message = message_row(conversation.id, 0)
    backend.seed(user, conversation, message, feedback_row(message.id, user.id, 1))
    with backend.conflict(), backend.make_uow() as uow:
        uow.feedback.add(feedback_row(message.id, user.id, -1))
        uow.commit()
    with backend.make_uow() as uow:
        assert [f.rating for f in uow.feedback.list_for_message(message.id)] == [1]
