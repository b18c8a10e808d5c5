"""The SQL repositories of user accounts and their API keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.domain.users import Role
from workbench.storage.sql.models import ApiKeyRow, UserRow


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, user: UserRow) -> None:
        self._session.add(user)

    def get(self, user_id: str) -> UserRow | None:
        return self._session.get(UserRow, user_id)

    def get_by_username(self, username: str) -> UserRow | None:
        return self._session.scalar(select(UserRow).where(UserRow.username == username))

    def list(self) -> Sequence[UserRow]:
        return self._session.scalars(select(UserRow).order_by(UserRow.username)).all()

    def count_active_admins(self) -> int:
        query = select(func.count()).where(UserRow.role == Role.ADMIN.value, UserRow.is_active)
        return int(self._session.scalar(query) or 0)


class SqlApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, key: ApiKeyRow) -> None:
        self._session.add(key)

    def get(self, key_id: str) -> ApiKeyRow | None:
        return self._session.get(ApiKeyRow, key_id)

    def by_secret(self, secret_sha256: str) -> ApiKeyRow | None:
        return self._session.scalar(select(ApiKeyRow).where(ApiKeyRow.secret_sha256 == secret_sha256))

    def list_for_user(self, user_id: str) -> Sequence[ApiKeyRow]:
        query = select(ApiKeyRow).where(ApiKeyRow.user_id == user_id)
        return self._session.scalars(query.order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id)).all()
