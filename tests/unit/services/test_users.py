from __future__ import annotations

import dataclasses

import pytest
from argon2 import PasswordHasher

from tests.factories import DEFAULT_PASSWORD, random_password, random_user
from tests.fakes import FakeUnitOfWork
from workbench.domain.users import InvalidUsername, Role, UserView, WeakPassword
from workbench.security import passwords
from workbench.services import users as svc


def _admin(uow: FakeUnitOfWork, name: str = "root", *, active: bool = True) -> None:
    uow.seed(random_user(username=name, role=Role.ADMIN, is_active=active))


# create ---------------------------------------------------------------------------------


def test_create_user_stores_a_hash_and_returns_a_view_without_it(uow: FakeUnitOfWork) -> None:
    password = random_password()
    view = svc.create_user(uow, "  Alice.Smith ", password, Role.ANALYST, display_name=" Alice ")

    assert isinstance(view, UserView)
    assert not any(f.name == "password_hash" for f in dataclasses.fields(view))
    assert (view.username, view.display_name, view.role, view.is_active) == ("alice.smith", "Alice", "analyst", True)
    assert view.created_at.tzinfo is not None
    assert uow.commits == 1
    [row] = uow.rows("users")
    assert row.id == view.id
    assert row.password_hash.startswith("$argon2id$")
    assert password not in row.password_hash
    assert passwords.verify_password(row.password_hash, password)


def test_display_name_defaults_to_the_username(uow: FakeUnitOfWork) -> None:
    view = svc.create_user(uow, "bob", random_password(), "viewer")
    assert view.display_name == "bob"
    assert view.role is Role.VIEWER


def test_duplicate_username_is_refused_case_insensitively(uow: FakeUnitOfWork) -> None:
    svc.create_user(uow, "carol", random_password(), Role.VIEWER)

    with pytest.raises(svc.UserExists, match="carol"):
        svc.create_user(uow, "CAROL", random_password(), Role.ADMIN)

    assert len(uow.rows("users")) == 1
    assert uow.commits == 1


@pytest.mark.parametrize("password", ["short", "123456789", "password123", "  ChangeMe123 ", "Administrator"])
def test_weak_passwords_are_refused(uow: FakeUnitOfWork, password: str) -> None:
    with pytest.raises(WeakPassword):
        svc.create_user(uow, "dave", password, Role.VIEWER)
    assert uow.rows("users") == []
    assert uow.commits == 0


@pytest.mark.parametrize("username", ["", "a", "-dash-first", "with space", "ümlaut", "x" * 64, "semi;colon"])
def test_invalid_usernames_are_refused(uow: FakeUnitOfWork, username: str) -> None:
    with pytest.raises(InvalidUsername):
        svc.create_user(uow, username, random_password(), Role.VIEWER)
    assert uow.rows("users") == []


def test_unknown_role_is_refused(uow: FakeUnitOfWork) -> None:
    with pytest.raises(ValueError, match="superuser"):
        svc.create_user(uow, "erin", random_password(), "superuser")
    assert uow.rows("users") == []


# authenticate ---------------------------------------------------------------------------


def test_authenticate_with_the_right_password_records_the_login(uow: FakeUnitOfWork) -> None:
    password = random_password()
    created = svc.create_user(uow, "frank", password, Role.VIEWER)
    assert created.last_login_at is None

    signed_in = svc.authenticate(uow, " Frank ", password)

    assert signed_in is not None
    assert signed_in.id == created.id
    assert signed_in.last_login_at is not None
    [row] = uow.rows("users")
    assert row.last_login_at == signed_in.last_login_at  # committed, not just returned


def test_authenticate_with_a_wrong_password_fails_and_changes_nothing(uow: FakeUnitOfWork) -> None:
    svc.create_user(uow, "grace", random_password(), Role.VIEWER)
    commits = uow.commits

    assert svc.authenticate(uow, "grace", "not-her-password") is None
    assert uow.commits == commits
    assert uow.rows("users")[0].last_login_at is None


@pytest.mark.parametrize("username", ["nobody", "!!invalid!!"])
def test_authenticate_unknown_or_invalid_username_fails(uow: FakeUnitOfWork, username: str) -> None:
    svc.create_user(uow, "heidi", DEFAULT_PASSWORD, Role.VIEWER)
    assert svc.authenticate(uow, username, DEFAULT_PASSWORD) is None


def test_disabled_user_cannot_sign_in(uow: FakeUnitOfWork) -> None:
    password = random_password()
    uow.seed(random_user(username="ivan", password=password, is_active=False))
    assert svc.authenticate(uow, "ivan", password) is None


def test_authenticate_rehashes_a_hash_made_with_old_parameters(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = random_password()
    old_hash = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1).hash(password)
    uow.seed(random_user(username="judy", password_hash=old_hash))

    assert svc.authenticate(uow, "judy", password) is not None

    new_hash = uow.rows("users")[0].password_hash
    assert new_hash != old_hash
    assert not passwords.needs_rehash(new_hash)
    assert passwords.verify_password(new_hash, password)


# roles, activation, the last-admin guard -------------------------------------------------


def test_set_role_changes_the_role(uow: FakeUnitOfWork) -> None:
    svc.create_user(uow, "ken", random_password(), Role.VIEWER)
    assert svc.set_role(uow, "ken", "annotator").role is Role.ANNOTATOR
    assert uow.rows("users")[0].role == "annotator"


def test_set_role_of_an_unknown_user(uow: FakeUnitOfWork) -> None:
    with pytest.raises(svc.UnknownUser):
        svc.set_role(uow, "ghost", Role.ADMIN)


def test_the_last_active_admin_cannot_be_demoted(uow: FakeUnitOfWork) -> None:
    _admin(uow, "root")
    _admin(uow, "old-root", active=False)  # a disabled admin does not count

    with pytest.raises(svc.LastAdmin):
        svc.set_role(uow, "root", Role.ANALYST)

    assert {row.username: row.role for row in uow.rows("users")} == {"root": "admin", "old-root": "admin"}
    assert uow.commits == 0


def test_an_admin_can_be_demoted_when_another_is_active(uow: FakeUnitOfWork) -> None:
    _admin(uow, "root")
    _admin(uow, "second")

    assert svc.set_role(uow, "root", Role.VIEWER).role is Role.VIEWER
    with pytest.raises(svc.LastAdmin):
        svc.set_role(uow, "second", Role.VIEWER)


def test_setting_the_last_admin_to_admin_again_is_allowed(uow: FakeUnitOfWork) -> None:
    _admin(uow, "root")
    assert svc.set_role(uow, "root", Role.ADMIN).role is Role.ADMIN


def test_the_last_active_admin_cannot_be_disabled(uow: FakeUnitOfWork) -> None:
    _admin(uow, "root")
    uow.seed(random_user(username="viewer1"))

    with pytest.raises(svc.LastAdmin):
        svc.set_active(uow, "root", False)
    assert svc.set_active(uow, "viewer1", False).is_active is False

    active = {row.username: row.is_active for row in uow.rows("users")}
    assert active == {"root": True, "viewer1": False}


def test_disable_and_enable_an_admin_when_another_is_active(uow: FakeUnitOfWork) -> None:
    _admin(uow, "root")
    _admin(uow, "second")

    assert svc.set_active(uow, "second", False).is_active is False
    with pytest.raises(svc.LastAdmin):
        svc.set_active(uow, "root", False)
    assert svc.set_active(uow, "second", True).is_active is True
    assert svc.set_active(uow, "root", False).is_active is False


# first admin, passwords, listing ----------------------------------------------------------


def test_ensure_first_admin_is_idempotent(uow: FakeUnitOfWork) -> None:
    first = svc.ensure_first_admin(uow, "admin", "first-password-1")
    second = svc.ensure_first_admin(uow, "admin2", "second-password-2")

    assert first is not None
    assert first.role is Role.ADMIN
    assert second is None
    assert [row.username for row in uow.rows("users")] == ["admin"]
    assert svc.authenticate(uow, "admin", "first-password-1") is not None


def test_ensure_first_admin_ignores_non_admins_and_disabled_admins(uow: FakeUnitOfWork) -> None:
    uow.seed(random_user(username="analyst1", role=Role.ANALYST))
    _admin(uow, "retired", active=False)

    created = svc.ensure_first_admin(uow, "admin", random_password())

    assert created is not None
    assert created.username == "admin"


def test_change_own_password(uow: FakeUnitOfWork) -> None:
    old, new = random_password(), random_password()
    user = svc.create_user(uow, "liz", old, Role.VIEWER)

    svc.change_own_password(uow, user.id, old, new)

    assert svc.authenticate(uow, "liz", new) is not None
    assert svc.authenticate(uow, "liz", old) is None


def test_change_own_password_needs_the_current_one(uow: FakeUnitOfWork) -> None:
    old = random_password()
    user = svc.create_user(uow, "mia", old, Role.VIEWER)

    with pytest.raises(svc.UserError, match="current password"):
        svc.change_own_password(uow, user.id, "wrong-current-pw", random_password())
    with pytest.raises(WeakPassword):
        svc.change_own_password(uow, user.id, old, "short")
    with pytest.raises(svc.UserError):
        svc.change_own_password(uow, "no-such-id", old, random_password())

    assert svc.authenticate(uow, "mia", old) is not None


def test_reset_password(uow: FakeUnitOfWork) -> None:
    svc.create_user(uow, "ned", random_password(), Role.VIEWER)
    new = random_password()

    svc.reset_password(uow, "ned", new)

    assert svc.authenticate(uow, "ned", new) is not None
    with pytest.raises(svc.UnknownUser):
        svc.reset_password(uow, "nobody", new)


def test_list_users_sorted_by_username_and_get_user(uow: FakeUnitOfWork) -> None:
    for name in ("zoe", "amy", "max"):
        svc.create_user(uow, name, random_password(), Role.VIEWER)

    listed = svc.list_users(uow)

    assert [user.username for user in listed] == ["amy", "max", "zoe"]
    assert svc.get_user(uow, listed[1].id) == listed[1]
    assert svc.get_user(uow, "missing") is None
