"""User and conversation services end to end on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.factories import random_password
from workbench.domain.users import Role, WeakPassword
from workbench.services import conversations as chats
from workbench.services import users
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_password_hashing")]

MakeUow = Callable[[], SqlUnitOfWork]


def test_user_lifecycle(make_uow: MakeUow) -> None:
    password = random_password()
    admin = users.ensure_first_admin(make_uow(), "Admin", password)
    assert admin is not None
    assert users.ensure_first_admin(make_uow(), "other", random_password()) is None

    analyst_password = random_password()
    analyst = users.create_user(make_uow(), "ana", analyst_password, Role.ANALYST, "Ana Lyst")
    with pytest.raises(users.UserExists):
        users.create_user(make_uow(), "ANA", random_password(), Role.VIEWER)
    with pytest.raises(WeakPassword):
        users.create_user(make_uow(), "weak", "short", Role.VIEWER)

    signed_in = users.authenticate(make_uow(), "admin", password)
    assert signed_in is not None
    assert signed_in.last_login_at is not None
    assert users.authenticate(make_uow(), "admin", "wrong-password") is None

    with pytest.raises(users.LastAdmin):
        users.set_role(make_uow(), "admin", Role.VIEWER)
    with pytest.raises(users.LastAdmin):
        users.set_active(make_uow(), "admin", False)

    users.set_role(make_uow(), "ana", Role.ADMIN)
    users.set_active(make_uow(), "admin", False)
    assert users.authenticate(make_uow(), "admin", password) is None
    with pytest.raises(users.LastAdmin):
        users.set_role(make_uow(), "ana", Role.ANNOTATOR)

    new_password = random_password()
    users.change_own_password(make_uow(), analyst.id, analyst_password, new_password)
    assert users.authenticate(make_uow(), "ana", analyst_password) is None
    assert users.authenticate(make_uow(), "ana", new_password) is not None

    listed = users.list_users(make_uow())
    assert [(u.username, u.role, u.is_active) for u in listed] == [
        ("admin", Role.ADMIN, False),
        ("ana", Role.ADMIN, True),
    ]
    assert users.get_user(make_uow(), analyst.id) == listed[1]
    assert listed[0].last_login_at == signed_in.last_login_at


def test_conversation_and_feedback(make_uow: MakeUow) -> None:
    alice = users.create_user(make_uow(), "alice", random_password(), Role.VIEWER)
    bob = users.create_user(make_uow(), "bob", random_password(), Role.ANNOTATOR)
    conversation_id = chats.start_conversation(make_uow(), alice.id, "Holidays", knowledge_base="hr")

    sent = [
        chats.append_message(make_uow(), conversation_id, role, text, citations=cites)
        for role, text, cites in [
            ("user", "How many days?", []),
            ("assistant", "25 days.", [{"source": "hr.pdf", "page": 4}]),
            ("user", "And carry-over?", []),
        ]
    ]
    assert [m.seq for m in sent] == [0, 1, 2]
    listed = chats.list_messages(make_uow(), conversation_id)
    assert [(m.seq, m.content) for m in listed] == [(0, "How many days?"), (1, "25 days."), (2, "And carry-over?")]
    assert listed[1].citations == [{"source": "hr.pdf", "page": 4}]

    answer = sent[1].id
    first = chats.record_feedback(make_uow(), answer, alice.id, 1, "spot on")
    again = chats.record_feedback(make_uow(), answer, alice.id, -1, "actually outdated")
    chats.record_feedback(make_uow(), answer, bob.id, 1)
    assert first == again

    with make_uow() as uow:
        rows = {row.user_id: (row.rating, row.comment) for row in uow.feedback.list_for_message(answer)}
        conversation = uow.conversations.get(conversation_id)
        assert conversation is not None
        assert conversation.updated_at == sent[-1].created_at
        assert [c.id for c in uow.conversations.list_for_user(alice.id)] == [conversation_id]
    assert rows == {alice.id: (-1, "actually outdated"), bob.id: (1, None)}

    with pytest.raises(chats.ConversationError):
        chats.record_feedback(make_uow(), answer, bob.id, 0)
    with pytest.raises(chats.ConversationError):
        chats.append_message(make_uow(), "gone", "user", "hello")
