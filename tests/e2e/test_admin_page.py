"""The Admin page: adding users, changing roles, the last-admin guard, and the health of the stores and queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from tests.workers import running_worker, wait_until
from workbench.bootstrap import build_queue
from workbench.config import get_settings
from workbench.domain.users import Role
from workbench.services import users as user_service
from workbench.storage.runlog.embedded import free_port

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


def test_system_tab_shows_the_queue_its_depth_and_its_workers(app_env: AppEnvironment, tmp_path: Path) -> None:
    at = open_page(signed_in(), "admin")
    assert "embedded" in " ".join(str(m.value) for m in at.markdown)
    assert any("No worker answers" in w.value for w in at.warning)
    with running_worker(tmp_path / "worker.log"):
        wait_until(lambda: bool(build_queue(get_settings()).status().workers), what="the worker to answer a ping")
        at.run()
        metrics = {m.label: m.value for m in at.metric}
        assert (metrics["Tasks waiting"], metrics["Workers alive"]) == ("0", "1")
        assert not any("No worker answers" in w.value for w in at.warning)


def test_an_unreachable_broker_is_said_and_nothing_hangs(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_QUEUE__BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody listens
    monkeypatch.setenv("WORKBENCH_QUEUE__CONNECT_TIMEOUT_S", "1")
    at = open_page(signed_in(), "admin")
    [error] = [e.value for e in at.error if "task queue" in e.value]
    assert "does not answer" in error and "WORKBENCH_QUEUE__BROKER_URL" in error


def test_system_tab_shows_the_request_limits_and_where_they_are_counted(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(signed_in(), "admin")
    assert any("None set" in str(c.value) for c in at.caption)  # the empty state says how to set one

    monkeypatch.setenv(
        "WORKBENCH_LLM__PROVIDER_LIMITS", '{"openai": {"requests_per_minute": 500, "max_concurrency": 8}}'
    )
    at = open_page(signed_in(), "admin")
    assert any("Counted in each process" in str(c.value) for c in at.caption)
    (table,) = [frame.value for frame in at.dataframe if "limit" in frame.value.columns]
    assert table.to_dict("records") == [
        {"limit": "provider:openai", "at once": 8, "per minute": 500, "in flight now": 0}
    ]
