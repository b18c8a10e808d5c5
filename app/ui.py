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

import streamlit as st

from workbench.bootstrap import Container, build_container
from workbench.domain.access import can_open
from workbench.domain.users import Role, UserView
from workbench.services import users as user_service

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
