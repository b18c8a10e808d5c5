"""The Users tab of the Admin page: every user, adding one, and changing a user's role, sign-in and password.

A generated password is shown once, on the run after the change (kept in session_state until then), and never
stored anywhere else in clear.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pandas as pd
import streamlit as st

from workbench.domain.users import Role, UserView
from workbench.services.directory import UserDirectory

ROLE_HELP = {
    Role.ADMIN: "everything, including users",
    Role.ANALYST: "chat, playground, evaluations, run log",
    Role.ANNOTATOR: "labelling queues",
    Role.VIEWER: "read-only: run log and results",
}
FLASH_KEY = "admin_new_password"


def users_panel(me: UserView, users: UserDirectory) -> None:
    show_new_password()
    st.dataframe(users_table(users), hide_index=True)
    st.download_button(
        "Download users (CSV)",
        users_table(users).to_csv(index=False).encode(),
        file_name="workbench-users.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    role_guide()
    left, right = st.columns(2, gap="large")
    with left:
        create_user_form(users)
    with right:
        edit_user_form(me, users)


def users_table(users: UserDirectory) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "username": user.username,
                "name": user.display_name,
                "role": user.role.value,
                "active": user.is_active,
                "created (UTC)": user.created_at.strftime("%Y-%m-%d %H:%M"),
                "last sign-in (UTC)": user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never",
            }
            for user in users.list_users()
        ]
    )


def remember_new_password(username: str, password: str) -> None:
    """Kept for the next run only, so the table can refresh and the password is still shown once."""
    st.session_state[FLASH_KEY] = (username, password)


def show_new_password() -> None:
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        username, password = flash
        st.success(f"Password for **{username}** (shown once, copy it now):")
        st.code(password, language=None)


def create_user_form(users: UserDirectory) -> None:
    with st.form("create-user", clear_on_submit=True):
        st.subheader("Add a user")
        cols = st.columns([2, 2, 2])
        username = cols[0].text_input("Username", placeholder="e.g. jane.doe", key="new_username")
        display_name = cols[1].text_input("Display name", placeholder="Jane Doe", key="new_display_name")
        role = cols[2].selectbox(
            "Role", list(Role), index=list(Role).index(Role.VIEWER), format_func=_role_label, key="new_role"
        )
        password = st.text_input(
            "Initial password",
            type="password",
            help="Leave empty to generate one (shown once after creating).",
            key="new_password",
        )
        if st.form_submit_button("Add user", type="primary"):
            chosen = password or secrets.token_urlsafe(12)
            try:
                user = users.create_user(username, chosen, role, display_name)
            except ValueError as exc:
                st.error(str(exc))
                return
            st.toast(f"Added {user.username} as {user.role}")
            if not password:
                remember_new_password(user.username, chosen)
            st.rerun()


def _role_label(role: Role) -> str:
    return role.value


def role_guide() -> None:
    st.caption(" · ".join(f"**{role.value}**: {what}" for role, what in ROLE_HELP.items()))


def edit_user_form(me: UserView, users: UserDirectory) -> None:
    people = users.list_users()
    st.subheader("Change a user")
    chosen = st.selectbox("User", [u.username for u in people], key="admin_edit_user")
    user = next((u for u in people if u.username == chosen), None)
    if user is None:
        return
    cols = st.columns([3, 2, 2])
    new_role = cols[0].selectbox(
        "Role", list(Role), index=list(Role).index(user.role), format_func=_role_label, key=f"role_{user.id}"
    )
    if cols[0].button("Save role", key=f"save_role_{user.id}", disabled=new_role == user.role):
        _apply(lambda: users.set_role(user.username, new_role), f"{user.username} is now {new_role}")
    label = "Disable sign-in" if user.is_active else "Enable sign-in"
    if cols[1].button(label, key=f"toggle_{user.id}", disabled=user.id == me.id):
        _apply(
            lambda: users.set_active(user.username, not user.is_active),
            f"{user.username} {'disabled' if user.is_active else 'enabled'}",
        )
    if cols[2].button("Reset password", key=f"reset_{user.id}"):
        fresh = secrets.token_urlsafe(12)
        try:
            users.reset_password(user.username, fresh)
        except ValueError as exc:
            st.error(str(exc))
        else:
            remember_new_password(user.username, fresh)
            st.rerun()


def _apply(action: Callable[[], object], done: str) -> None:
    try:
        action()
    except ValueError as exc:
        st.error(str(exc))
        return
    st.toast(done)
    st.rerun()
