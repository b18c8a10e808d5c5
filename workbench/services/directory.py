"""The user records a signed-in person's pages work with: the people list, user administration and their own account.

Pages get this instead of a unit of work, so what they may do with users goes through one object that
`domain.access.SERVICE_ROLES` guards by name. The account's own actions (password, API keys) are bound to the person
it was made for: a page cannot change someone else's password by passing another id.
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.domain.users import Role, UserView
from workbench.services import api_keys
from workbench.services import users as user_service
from workbench.storage.ports import UnitOfWork


class UserDirectory:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], acting_user_id: str) -> None:
        self._uow = uow_factory
        self._me = acting_user_id

    # Reading people
    def list_users(self) -> list[UserView]:
        return user_service.list_users(self._uow())

    def usernames(self) -> dict[str, str]:
        """User id → username: what the run log shows for a call's user."""
        return {user.id: user.username for user in user_service.list_users(self._uow())}

    def members_to_choose(self) -> list[UserView]:
        """Who can be made an annotator of a queue: active users who may label (a viewer changes nothing)."""
        return [u for u in user_service.list_users(self._uow()) if u.is_active and u.role != Role.VIEWER]

    # Administration
    def create_user(self, username: str, password: str, role: Role | str, display_name: str = "") -> UserView:
        return user_service.create_user(self._uow(), username, password, role, display_name)

    def set_role(self, username: str, role: Role | str) -> UserView:
        return user_service.set_role(self._uow(), username, role)

    def set_active(self, username: str, active: bool) -> UserView:
        return user_service.set_active(self._uow(), username, active)

    def reset_password(self, username: str, new_password: str) -> None:
        user_service.reset_password(self._uow(), username, new_password)

    # The acting user's own account
    def change_own_password(self, current: str, new_password: str) -> None:
        user_service.change_own_password(self._uow(), self._me, current, new_password)

    def create_key(self, name: str, *, expires_in_days: int | None = None) -> api_keys.NewApiKey:
        return api_keys.create_key(self._uow(), self._me, name, expires_in_days=expires_in_days)

    def list_keys(self) -> list[api_keys.ApiKeyView]:
        return api_keys.list_keys(self._uow(), self._me)

    def revoke_key(self, key_id: str) -> api_keys.ApiKeyView:
        return api_keys.revoke_key(self._uow(), self._me, key_id)
