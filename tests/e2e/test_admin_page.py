"""The Admin page: adding users, changing roles, the last-admin guard, and store health."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from workbench.domain.users import Role
from workbench.services import users as user_service

pytestmark = pytest.mark.e2e


def test_add_user_with_generated_password_who_can_then_sign_in(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "admin")
    at.text_input(key="new_username").input("jane.doe")
    at.text_input(key="new_display_name").input("Jane Doe")
    at.selectbox(key="new_role").select(Role.ANALYST)
    at.button(key="FormSubmitter:create-user-Add user").click().run()
    assert not at.exception
    generated = at.code[0].value
    assert len(generated) >= 12
    assert "jane.doe" in set(at.dataframe[0].value["username"])
    assert signed_in("jane.doe", generated).title[0].value == "Chat"


def test_invalid_username_is_explained(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "admin")
    at.text_input(key="new_username").input("Bad Name!")
    at.button(key="FormSubmitter:create-user-Add user").click().run()
    assert "A username is 2-63 characters" in at.error[0].value


def test_the_last_admin_cannot_be_demoted(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "admin")
    at.selectbox(key="admin_edit_user").select("admin").run()
    role = next(s for s in at.selectbox if s.label == "Role" and s.key != "new_role")
    role.select(Role.VIEWER).run()
    next(b for b in at.button if b.label == "Save role").click().run()
    assert "last active admin" in at.error[0].value
    assert [u.role for u in user_service.list_users(app_env.uow())] == [Role.ADMIN]


def test_change_role_and_reset_password(app_env: AppEnvironment) -> None:
    app_env.add_user("bob", Role.VIEWER)
    at = open_page(signed_in(), "admin")
    at.selectbox(key="admin_edit_user").select("bob").run()
    role = next(s for s in at.selectbox if s.label == "Role" and s.key != "new_role")
    role.select(Role.ANNOTATOR).run()
    next(b for b in at.button if b.label == "Save role").click().run()
    assert not at.exception
    bob = next(u for u in user_service.list_users(app_env.uow()) if u.username == "bob")
    assert bob.role == Role.ANNOTATOR
    next(b for b in at.button if b.label == "Reset password").click().run()
    fresh = at.code[0].value
    assert signed_in("bob", fresh).title[0].value == "Labelling"  # an annotator now, landing on their queues


def test_system_tab_reports_healthy_stores(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "admin")
    successes = [s.value for s in at.success]
    assert any(value.startswith("Schema up to date") for value in successes)
    assert any(value.startswith("Reachable") for value in successes)
