"""The SQL repository of user accounts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.domain.users import Role
from workbench.storage.sql.models import UserRow


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
