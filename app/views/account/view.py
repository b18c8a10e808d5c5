"""Account: who you are, changing your password, and your API keys."""

from __future__ import annotations

import streamlit as st

from app.components.markdown import plain
from app.views.account.api_keys import show_api_keys
from workbench.domain.users import UserView
from workbench.services.directory import UserDirectory


def render(me: UserView, *, users: UserDirectory) -> None:
    st.title("Account")
    st.markdown(f"Signed in as **{plain(me.display_name)}** (`{me.username}`), role **{me.role}**.")  # any text
    if me.last_login_at:
        st.caption(f"Last sign-in {me.last_login_at:%Y-%m-%d %H:%M} UTC")

    with st.form("change-password", clear_on_submit=True, border=True):
        st.subheader("Change password")
        current = st.text_input("Current password", type="password", autocomplete="current-password")
        new = st.text_input(
            "New password", type="password", autocomplete="new-password", help="At least 10 characters."
        )
        repeat = st.text_input("Repeat new password", type="password", autocomplete="new-password")
        if st.form_submit_button("Change password", type="primary"):
            if new != repeat:
                st.error("The two new passwords differ.")
            else:
                try:
                    users.change_own_password(current, new)
                except ValueError as exc:
                    st.error(str(exc))
                else:
                    st.success("Password changed.")

    show_api_keys(me, users)
