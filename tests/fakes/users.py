"""The in-memory user repository."""

from __future__ import annotations

from collections.abc import Sequence

from tests.fakes.tables import Tables
from workbench.domain.users import Role
from workbench.storage.sql.models import UserRow


class FakeUserRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, user: UserRow) -> None:
        self._tables.add(user)

    def get(self, user_id: str) -> UserRow | None:
        return self._tables.get(UserRow, user_id)

    def get_by_username(self, username: str) -> UserRow | None:
        return self._tables.first(UserRow, username=username)

    def list(self) -> Sequence[UserRow]:
        return sorted(self._tables.where(UserRow), key=lambda row: row.username)

    def count_active_admins(self) -> int:
        return len(self._tables.where(UserRow, role=Role.ADMIN.value, is_active=True))
