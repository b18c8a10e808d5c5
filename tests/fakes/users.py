"""The in-memory repositories of users and their API keys."""

from __future__ import annotations

from collections.abc import Sequence

from tests.fakes.tables import Tables
from workbench.domain.users import Role
from workbench.storage.sql.models import ApiKeyRow, UserRow


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


class FakeApiKeyRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, key: ApiKeyRow) -> None:
        self._tables.add(key)

    def get(self, key_id: str) -> ApiKeyRow | None:
        return self._tables.get(ApiKeyRow, key_id)

    def by_secret(self, secret_sha256: str) -> ApiKeyRow | None:
        return self._tables.first(ApiKeyRow, secret_sha256=secret_sha256)

    def list_for_user(self, user_id: str) -> Sequence[ApiKeyRow]:
        rows = sorted(self._tables.where(ApiKeyRow, user_id=user_id), key=lambda row: row.id)
        return sorted(rows, key=lambda row: row.created_at, reverse=True)
