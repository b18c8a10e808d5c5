"""Sign in: a username and password, checked with a per-account throttle against guessing."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.components.services import UnitOfWorkFactory
from workbench.domain.users import UserView
from workbench.security.throttle import LoginThrottle
from workbench.services import users as user_service


def render(*, uow: UnitOfWorkFactory, throttle: LoginThrottle, sign_in: Callable[[UserView], None]) -> None:
    """`sign_in` remembers the user for this browser session; the page then reruns into the app."""
    _, middle, _ = st.columns([1, 1.4, 1])
    middle.title("GenAI Workbench")
    middle.caption("Chat with your documents, try prompts, label answers and measure your RAG assistant.")

    with middle.form("sign-in", clear_on_submit=False, border=True):
        st.subheader("Sign in")
        username = st.text_input("Username", key="login_username", autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")

    if submitted:
        locked = throttle.seconds_locked(username)
        if not username or not password:
            middle.error("Enter your username and password.")
        elif locked > 0:
            middle.error(f"Too many failed attempts for this account. Try again in {locked:.0f} seconds.")
        else:
            user = user_service.authenticate(uow(), username, password)
            if user is None:
                throttle.failed(username)
                middle.error("That username and password do not match an active account.")
            else:
                throttle.succeeded(username)
                sign_in(user)
                st.rerun()

    middle.caption(
        "No account yet? An admin creates one on the Admin page or with `workbench user create NAME --role ROLE`. "
        "On a fresh local install, `make run` printed the demo admin's password (also in data/demo-admin-password.txt)."
    )
