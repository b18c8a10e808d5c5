"""The user repository's contract, on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from tests.factories import random_user
from tests.integration.contracts.backends import Backend, at
from workbench.domain.users import Role


def test_add_then_get_by_id_and_by_exact_username(backend: Backend) -> None:
    user = random_user(username="ana", display_name="Ana Lyst", created_at=at(0))
    with backend.make_uow() as uow:
        uow.users.add(user)
        uow.commit()
    with backend.make_uow() as uow:
        by_id = uow.users.get(user.id)
        assert by_id is not None
        assert (by_id.username, by_id.display_name, by_id.created_at) == ("ana", "Ana Lyst", at(0))
        by_name = uow.users.get_by_username("ana")
        assert by_name is not None
        assert by_name.id == user.id
        assert uow.users.get_by_username("ANA") is None  # usernames are stored normalised; lookups are exact
        assert uow.users.get("missing") is None


def test_list_by_username_and_count_active_admins(backend: Backend) -> None:
    backend.seed(
        random_user(username="zed", role=Role.ADMIN),
        random_user(username="amy", role=Role.ADMIN),
        random_user(username="max", role=Role.ADMIN, is_active=False),
        random_user(username="bob", role=Role.ANALYST),
    )
    with backend.make_uow() as uow:
        assert [row.username for row in uow.users.list()] == ["amy", "bob", "max", "zed"]
        assert uow.users.count_active_admins() == 2


def test_usernames_are_unique(backend: Backend) -> None:
    backend.seed(random_user(username="taken"))
    with backend.conflict(), backend.make_uow() as uow:
        uow.users.add(random_user(username="taken"))
        uow.commit()
    with backend.make_uow() as uow:
        assert len(uow.users.list()) == 1
