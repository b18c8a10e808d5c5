"""Signing in and out, and the pages each role is shown."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.conftest import ENTRY, AppEnvironment, open_page, signed_in
from workbench.domain.users import Role

pytestmark = pytest.mark.e2e
ADMIN_PAGE = ENTRY.replace("app/streamlit_app.py", "pages/admin.py")


def test_login_page_is_all_an_anonymous_visitor_sees(app_env: AppEnvironment) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["GenAI Workbench"]
    assert at.text_input(key="login_password") is not None


def test_wrong_password_is_refused_with_a_clear_message(app_env: AppEnvironment) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=60).run()
    at.text_input(key="login_username").input("admin")
    at.text_input(key="login_password").input("not-the-password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["That username and password do not match an active account."]
    assert [t.value for t in at.title] == ["GenAI Workbench"]


def test_empty_form_asks_for_credentials(app_env: AppEnvironment) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=60).run()
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Enter your username and password."]


def test_repeated_failures_lock_the_account_for_a_while(app_env: AppEnvironment) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=60).run()
    for _ in range(5):
        at.text_input(key="login_username").input("admin")
        at.text_input(key="login_password").input("wrong-password-x")
        at.button[0].click().run()
    at.text_input(key="login_password").input("admin-password-123")  # even the right one now waits
    at.button[0].click().run()
    assert "Too many failed attempts" in at.error[0].value


def test_admin_signs_in_lands_on_chat_and_can_sign_out(app_env: AppEnvironment) -> None:
    at = signed_in()
    assert [t.value for t in at.title] == ["Chat"]
    assert "role: admin" in at.sidebar.markdown[0].value
    at.sidebar.button[0].click().run()
    assert [t.value for t in at.title] == ["GenAI Workbench"]


def test_annotator_sees_only_labelling_and_their_account(app_env: AppEnvironment) -> None:
    app_env.add_user("anna", Role.ANNOTATOR)
    at = signed_in("anna")
    assert [t.value for t in at.title] == ["Labelling"]  # annotators land on their queues
    with pytest.raises(ValueError, match=r"Known pages: \['[^,]*pages/labelling.py', '[^,]*pages/account.py'\]"):
        at.switch_page(ADMIN_PAGE)


def test_viewer_cannot_open_admin(app_env: AppEnvironment) -> None:
    app_env.add_user("victor", Role.VIEWER)
    at = signed_in("victor")
    assert [t.value for t in at.title] == ["Chat"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(ADMIN_PAGE)


def test_disabled_user_is_signed_out_on_next_interaction(app_env: AppEnvironment) -> None:
    from workbench.services import users as user_service

    app_env.add_user("dora", Role.ANALYST)
    at = signed_in("dora")
    user_service.set_active(app_env.uow(), "dora", False)
    at.run()
    assert [t.value for t in at.title] == ["GenAI Workbench"]


def test_account_page_changes_password(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "account")
    at.text_input[0].input("admin-password-123")
    at.text_input[1].input("a-brand-new-password")
    at.text_input[2].input("a-brand-new-password")
    at.button(key="FormSubmitter:change-password-Change password").click().run()
    assert [s.value for s in at.success] == ["Password changed."]
    assert signed_in("admin", "a-brand-new-password").title[0].value == "Chat"


def test_account_page_makes_shows_once_and_revokes_an_api_key(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "account")
    assert any("No keys yet" in i.value for i in at.info)
    name_input = next(t for t in at.text_input if t.label == "Name")
    name_input.input("ci")
    at.button(key="FormSubmitter:new-api-key-Make a key").click().run()
    (secret,) = [c.value for c in at.code if c.value.startswith("wbk_")]
    assert any("not shown again" in s.value for s in at.success)
    with app_env.uow() as uow:
        (stored,) = uow.api_keys.list_for_user(uow.users.get_by_username("admin").id)  # type: ignore[union-attr]
        assert stored.name == "ci" and secret.startswith(stored.prefix) and secret not in stored.secret_sha256

    at.run()  # the next run of the page: the key is no longer shown
    assert not [c.value for c in at.code if c.value.startswith("wbk_")]
    assert any("ci" in m.value and "active" in m.value for m in at.markdown)
    next(b for b in at.button if b.label == "Revoke").click().run()
    assert any("ci" in m.value and "revoked" in m.value for m in at.markdown)
