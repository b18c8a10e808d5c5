"""Admin: users and roles, and the health of the stores."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.views.admin.status import show_status
from app.views.admin.users import users_panel
from workbench.domain.users import UserView
from workbench.services.directory import UserDirectory
from workbench.services.system import SystemStatus


def render(me: UserView, *, users: UserDirectory, status: Callable[[], SystemStatus]) -> None:
    """`status` checks the stores when called (the System tab's figures)."""
    st.title("Admin")
    users_tab, status_tab = st.tabs(["Users", "System"])
    with users_tab:
        users_panel(me, users)
    with status_tab:
        show_status(status())
