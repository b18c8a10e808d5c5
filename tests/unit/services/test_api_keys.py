"""API keys: shown once, stored as a hash, refused with the reason once revoked, expired or their user disabled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import random_user
from tests.fakes import FakeUnitOfWork
from workbench.domain.clock import utcnow
from workbench.domain.users import Role
from workbench.services import api_keys as svc
from workbench.services import users


def analyst(uow: FakeUnitOfWork) -> str:
    row = random_user(username="ana", role=Role.ANALYST)
    uow.seed(row)
    return row.id


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(uow: FakeUnitOfWork) -> None:
    made = svc.create_key(uow, analyst(uow), " ci ")
    assert made.secret.startswith("wbk_") and len(made.secret) > 40
    assert (made.key.name, made.key.prefix, made.key.active) == ("ci", made.secret[:12], True)
    (stored,) = uow.rows("api_keys")
    assert stored.secret_sha256 == svc.digest(made.secret) and made.secret not in repr(vars(stored))


def test_a_key_signs_its_user_in_with_the_users_role(uow: FakeUnitOfWork) -> None:
    user_id = analyst(uow)
    made = svc.create_key(uow, user_id, "ci")
    user = svc.authenticate_key(uow, made.secret)
    assert (user.id, user.role) == (user_id, Role.ANALYST)
    assert svc.list_keys(uow, user_id)[0].last_used_at is not None


@pytest.mark.parametrize(
    ("secret", "reason"),
    [("wbk_not-a-key", "unknown API key"), ("sk-openai", "not a workbench API key")],
)
def test_an_unknown_key_is_refused(uow: FakeUnitOfWork, secret: str, reason: str) -> None:
    analyst(uow)
    with pytest.raises(svc.ApiKeyRefused, match=reason):
        svc.authenticate_key(uow, secret)


def test_a_revoked_key_is_refused_at_its_next_use(uow: FakeUnitOfWork) -> None:
    user_id = analyst(uow)
    made = svc.create_key(uow, user_id, "ci")
    revoked = svc.revoke_key(uow, user_id, made.key.id)
    assert not revoked.active
    with pytest.raises(svc.ApiKeyRefused, match="revoked"):
        svc.authenticate_key(uow, made.secret)


def test_an_expired_key_and_a_disabled_users_key_are_refused(uow: FakeUnitOfWork) -> None:
    user_id = analyst(uow)
    made = svc.create_key(uow, user_id, "ci", expires_in_days=1)
    row = uow.committed["api_keys"][made.key.id]
    row.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(svc.ApiKeyRefused, match="expired"):
        svc.authenticate_key(uow, made.secret)

    other = svc.create_key(uow, user_id, "bot")
    uow.seed(random_user(username="root", role=Role.ADMIN))
    users.set_active(uow, "ana", False)
    with pytest.raises(svc.ApiKeyRefused, match="disabled"):
        svc.authenticate_key(uow, other.secret)


def test_only_the_owner_revokes_a_key_and_names_are_required(uow: FakeUnitOfWork) -> None:
    user_id = analyst(uow)
    made = svc.create_key(uow, user_id, "ci")
    stranger = random_user(username="bob")
    uow.seed(stranger)
    with pytest.raises(svc.ApiKeyError, match="no such key of yours"):
        svc.revoke_key(uow, stranger.id, made.key.id)
    with pytest.raises(svc.ApiKeyError, match="name"):
        svc.create_key(uow, user_id, "  ")
    with pytest.raises(svc.ApiKeyError, match="1 to 3650 days"):
        svc.create_key(uow, user_id, "x", expires_in_days=0)
