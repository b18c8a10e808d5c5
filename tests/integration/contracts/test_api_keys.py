"""The API key repository's contract, on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from tests.factories import random_user
from tests.integration.contracts.backends import Backend, at
from workbench.domain.ids import new_id
from workbench.storage.sql.models import ApiKeyRow


def key(user_id: str, secret: str, minutes: float, name: str = "ci") -> ApiKeyRow:
    return ApiKeyRow(id=new_id(), user_id=user_id, name=name, prefix=secret[:12], secret_sha256=secret.ljust(64, "0"),
                     created_at=at(minutes))  # fmt: skip


def test_keys_are_found_by_id_and_by_secret_and_listed_newest_first(backend: Backend) -> None:
    ana, bob = random_user(username="ana"), random_user(username="bob")
    older, newer, bobs = key(ana.id, "a1", 0), key(ana.id, "a2", 5, "bot"), key(bob.id, "b1", 1)
    backend.seed(ana, bob, older, newer, bobs)
    with backend.make_uow() as uow:
        found = uow.api_keys.by_secret("a2".ljust(64, "0"))
        assert found is not None and (found.id, found.name) == (newer.id, "bot")
        assert uow.api_keys.by_secret("zz".ljust(64, "0")) is None
        got = uow.api_keys.get(older.id)
        assert got is not None and got.created_at == at(0) and got.revoked_at is None
        assert [row.id for row in uow.api_keys.list_for_user(ana.id)] == [newer.id, older.id]


def test_secrets_are_unique(backend: Backend) -> None:
    ana = random_user(username="ana")
    backend.seed(ana, key(ana.id, "same", 0))
    with backend.conflict(), backend.make_uow() as uow:
        uow.api_keys.add(key(ana.id, "same", 1))
        uow.commit()
