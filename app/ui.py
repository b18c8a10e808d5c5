"""What every page shares: the cached container, the signed-in user and the access check.

Only process-wide, thread-safe objects are cached (the container with its engine, clients and writer);
st.session_state holds UI state only: who is signed in and where the user is in a page. Pages take the services
they need from the container and hand them to their view (app/views); nothing below app/views or app/components
sees the container.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import streamlit as st

from workbench.bootstrap import Container, build_container
from workbench.config import Settings
from workbench.domain.access import SERVICE_ROLES, Guarded, can_open
from workbench.domain.users import Role, UserView
from workbench.llm.catalog import ModelCatalog
from workbench.services import users as user_service
from workbench.services.directory import UserDirectory

AUTH_KEY = "auth_user_id"


def _environment_key() -> str:
    """Settings come from the environment; a different environment (a test) gets its own container."""
    relevant = sorted((k, v) for k, v in os.environ.items() if k.startswith("WORKBENCH_"))
    return hashlib.sha256(repr((os.getcwd(), relevant)).encode()).hexdigest()


@st.cache_resource(show_spinner="Starting the workbench's stores…")
def _container(environment_key: str) -> Container:
    return build_container()


def container() -> Container:
    return _container(_environment_key())


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: UserView

    @property
    def role(self) -> Role:
        return self.user.role


def current_user() -> UserView | None:
    """The signed-in user, re-read each run so role changes and disabling take effect at once."""
    user_id = st.session_state.get(AUTH_KEY)
    if not user_id:
        return None
    user = user_service.get_user(container().uow(), user_id)
    if user is None or not user.is_active:
        sign_out()
        return None
    return user


def sign_in(user: UserView) -> None:
    st.session_state[AUTH_KEY] = user.id


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def require_page(page: str) -> UserView:
    """Stop rendering unless the signed-in user may open this page (the router hides it anyway)."""
    user = current_user()
    if user is None or not can_open(user.role, page):
        st.error("You do not have access to this page.")
        st.stop()
    assert user is not None
    return user


class PageServices:
    """The container's services as one signed-in user may use them: each is `Guarded` by the user's role.

    Pages take their services from here, never from the container, so a view that asks for something the role may
    not do (a viewer saving a prompt, an annotator adjudicating) is refused by `domain.access.SERVICE_ROLES` even if
    the view forgot to hide the button.
    """

    def __init__(self, container: Container, user: UserView) -> None:
        self._container, self._user = container, user

    def __getattr__(self, name: str) -> Any:
        if name not in SERVICE_ROLES:
            raise AttributeError(f"pages are not handed the container's {name!r}; add it to SERVICE_ROLES first")
        return Guarded(getattr(self._container, name), name, self._user.role)

    @property
    def settings(self) -> Settings:
        return self._container.settings

    @property
    def catalog(self) -> ModelCatalog:
        return self._container.llm_runtime.catalog

    @property
    def users(self) -> Any:
        return Guarded(UserDirectory(self._container.uow, self._user.id), "users", self._user.role)

    def system_status(self) -> Any:
        """Checks the stores when called (the Admin page's System tab)."""
        return Guarded(self._container.system_status(), "system_status", self._user.role)


def services(user: UserView) -> PageServices:
    return PageServices(container(), user)
