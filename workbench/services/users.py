"""Users: create, sign in, change roles and passwords. Never returns a password hash."""

from __future__ import annotations

from datetime import UTC, datetime

from workbench.domain.ids import new_id
from workbench.domain.users import (
    Role,
    UserView,
    check_password_strength,
    normalise_username,
)
from workbench.security.passwords import hash_password, needs_rehash, verify_password
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import UserRow

# Verified against when the username is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-0000")


class UserError(ValueError):
    """A user action that cannot be done; the message is safe to show."""


class UserExists(UserError):
    pass


class UnknownUser(UserError):
    pass


class LastAdmin(UserError):
    pass


def user_view(row: UserRow) -> UserView:
    return UserView(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        is_active=row.is_active,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def create_user(uow: UnitOfWork, username: str, password: str, role: Role | str, display_name: str = "") -> UserView:
    name = normalise_username(username)
    check_password_strength(password)
    with uow:
        if uow.users.get_by_username(name) is not None:
            raise UserExists(f"A user named '{name}' already exists.")
        row = UserRow(
            id=new_id(),
            username=name,
            display_name=display_name.strip() or name,
            password_hash=hash_password(password),
            role=Role(role).value,
            is_active=True,
            created_at=datetime.now(UTC),
        )
        uow.users.add(row)
        uow.commit()
        return user_view(row)


def ensure_first_admin(uow: UnitOfWork, username: str, password: str) -> UserView | None:
    """Create an admin if there is no active one yet; returns it, or None when one already exists."""
    with uow:
        if uow.users.count_active_admins() > 0:
            return None
    return create_user(uow, username, password, Role.ADMIN)


def authenticate(uow: UnitOfWork, username: str, password: str) -> UserView | None:
    """The user when the credentials are right and the account active; None otherwise."""
    try:
        name = normalise_username(username)
    except ValueError:
        verify_password(_DUMMY_HASH, password)
        return None
    with uow:
        row = uow.users.get_by_username(name)
        if row is None:
            verify_password(_DUMMY_HASH, password)
            return None
        if not verify_password(row.password_hash, password) or not row.is_active:
            return None
        if needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        row.last_login_at = datetime.now(UTC)
        uow.commit()
        return user_view(row)


def list_users(uow: UnitOfWork) -> list[UserView]:
    with uow:
        return [user_view(row) for row in uow.users.list()]


def get_user(uow: UnitOfWork, user_id: str) -> UserView | None:
    with uow:
        row = uow.users.get(user_id)
        return user_view(row) if row else None


def _require(uow: UnitOfWork, username: str) -> UserRow:
    row = uow.users.get_by_username(normalise_username(username))
    if row is None:
        raise UnknownUser(f"No user named '{username}'.")
    return row


def _guard_last_admin(uow: UnitOfWork, row: UserRow) -> None:
    if row.role == Role.ADMIN.value and row.is_active and uow.users.count_active_admins() <= 1:
        raise LastAdmin("This is the last active admin; make another admin first.")


def set_role(uow: UnitOfWork, username: str, role: Role | str) -> UserView:
    new_role = Role(role)
    with uow:
        row = _require(uow, username)
        if new_role != Role.ADMIN:
            _guard_last_admin(uow, row)
        row.role = new_role.value
        uow.commit()
        return user_view(row)


def set_active(uow: UnitOfWork, username: str, active: bool) -> UserView:
    with uow:
        row = _require(uow, username)
        if not active:
            _guard_last_admin(uow, row)
        row.is_active = active
        uow.commit()
        return user_view(row)


def reset_password(uow: UnitOfWork, username: str, new_password: str) -> None:
    check_password_strength(new_password)
    with uow:
        row = _require(uow, username)
        row.password_hash = hash_password(new_password)
        uow.commit()


def change_own_password(uow: UnitOfWork, user_id: str, current: str, new_password: str) -> None:
    check_password_strength(new_password)
    with uow:
        row = uow.users.get(user_id)
        if row is None or not verify_password(row.password_hash, current):
            raise UserError("The current password is not right.")
        row.password_hash = hash_password(new_password)
        uow.commit()


def ensure_service_user(uow: UnitOfWork, username: str, role: Role | str = Role.VIEWER) -> UserView:
    """A user that owns records made on someone's behalf (the public demo); it can never sign in."""
    import secrets

    name = normalise_username(username)
    with uow:
        row = uow.users.get_by_username(name)
        if row is not None:
            return user_view(row)
        row = UserRow(
            id=new_id(), username=name, display_name=name, password_hash=hash_password(secrets.token_urlsafe(32)),
            role=Role(role).value, is_active=False, created_at=datetime.now(UTC),
        )  # fmt: skip
        uow.users.add(row)
        uow.commit()
        return user_view(row)
