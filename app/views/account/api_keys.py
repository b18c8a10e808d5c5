"""API keys on the Account page: make one (shown once), see what each was last used for, revoke."""

from __future__ import annotations

import streamlit as st

from app.components.markdown import plain
from workbench.domain.users import UserView
from workbench.services import api_keys as key_service
from workbench.services.directory import UserDirectory

_EXPIRY = {"never": None, "30 days": 30, "90 days": 90, "1 year": 365}
_JUST_MADE = "account-new-api-key"


def show_api_keys(me: UserView, users: UserDirectory) -> None:
    st.subheader("API keys")
    st.caption(
        f"Other programs (a CI job, your application sending traces and feedback) call the HTTP API with a key, "
        f"as you, with your role ({me.role}). Send it as `Authorization: Bearer <key>`."
    )
    made = st.session_state.pop(_JUST_MADE, None)
    if made is not None:
        st.success("Key made. Copy it now: it is not shown again, and only its hash is kept.")
        st.code(made, language=None)

    with st.form("new-api-key", clear_on_submit=True, border=True):
        cols = st.columns([3, 2])
        name = cols[0].text_input("Name", placeholder="what uses it: ci, support bot", max_chars=64)
        expiry = cols[1].selectbox("Expires", list(_EXPIRY), index=2)
        if st.form_submit_button("Make a key"):
            try:
                new = users.create_key(name, expires_in_days=_EXPIRY[expiry])
            except key_service.ApiKeyError as exc:
                st.error(str(exc))
            else:
                st.session_state[_JUST_MADE] = new.secret
                st.rerun()

    keys = users.list_keys()
    if not keys:
        st.info("No keys yet. Make one above to call the API from another program.")
        return
    for key in keys:
        with st.container(border=True):
            cols = st.columns([4, 4, 2])
            state = "active" if key.active else ("revoked" if key.revoked_at else "expired")
            cols[0].markdown(f"**{plain(key.name)}** · `{key.prefix}…` · {state}")
            used = f"last used {key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
            expires = f"expires {key.expires_at:%Y-%m-%d}" if key.expires_at else "never expires"
            cols[1].caption(f"made {key.created_at:%Y-%m-%d} · {used} · {expires}")
            if key.revoked_at is None and cols[2].button("Revoke", key=f"revoke-{key.id}"):
                users.revoke_key(key.id)
                st.rerun()
