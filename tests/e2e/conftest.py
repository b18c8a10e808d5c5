"""Fixtures for driving the app: a configured environment, signed-in AppTest sessions, seeded run logs."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from pymongo import MongoClient
from streamlit.testing.v1 import AppTest

from tests.factories import run_logs_between
from workbench.bootstrap import build_sql
from workbench.config import get_settings
from workbench.domain.users import Role
from workbench.services import users as user_service
from workbench.storage.runlog.store import MongoRunLogStore
from workbench.storage.sql.uow import SqlUnitOfWork

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENTRY = str(PROJECT_ROOT / "app" / "streamlit_app.py")
ADMIN_PASSWORD = "admin-password-123"
pytestmark = pytest.mark.e2e


@dataclass
class AppEnvironment:
    mongo_url: str
    database: str

    def uow(self) -> SqlUnitOfWork:
        _, factory = build_sql(get_settings())
        return SqlUnitOfWork(factory)

    def add_user(self, username: str, role: Role, password: str = ADMIN_PASSWORD) -> None:
        user_service.create_user(self.uow(), username, password, role)

    def store(self) -> MongoRunLogStore:
        client: MongoClient[dict[str, object]] = MongoClient(self.mongo_url, tz_aware=True)
        return MongoRunLogStore(client[self.database])

    def seed_logs(self, count: int, hours: int = 48, **overrides: object) -> None:
        store = self.store()
        store.ensure_indexes()
        end = datetime.now(UTC)
        logs = run_logs_between(count, end - timedelta(hours=hours), end, rng=random.Random(7), **overrides)
        store.write([log.to_document() for log in logs])


@pytest.fixture
def app_env(mongo_url: str, mongo_database_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppEnvironment]:
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", mongo_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", mongo_database_name)
    # The smallest packaged model, and no background warm-up: a test ends (and stops its model) long before a
    # warm-up request would, and stopping llama.cpp under an in-flight request can hang.
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", "smollm2-135m-instruct")
    monkeypatch.setenv("WORKBENCH_LLM__WARM_UP_ON_OPEN", "false")
    env = AppEnvironment(mongo_url, mongo_database_name)
    env.add_user("admin", Role.ADMIN)
    yield env
    close_cached_containers()


def close_cached_containers() -> None:
    """Stop the writer threads and clients the pages cached for this environment."""
    from app import ui

    try:
        ui.container().close()
    finally:
        st.cache_resource.clear()


def signed_in(username: str = "admin", password: str = ADMIN_PASSWORD) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, name: str) -> AppTest:
    at.switch_page(str(PROJECT_ROOT / "pages" / f"{name}.py")).run()
    assert not at.exception, at.exception
    return at
