"""The API over a real container (SQLite or PostgreSQL, the MongoDB-wire server), called in process through
FastAPI's TestClient, with a key per role."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.evaluation_fakes import seed_good_and_bad_runs
from tests.workers import wait_until
from workbench.api.app import create_api
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.domain.users import Role
from workbench.services import api_keys, users
from workbench.storage.runlog.embedded import free_port
from workbench.storage.sql import migrate

PASSWORD = "a-long-enough-password"


@dataclass
class ApiWorld:
    container: Container
    client: TestClient
    keys: dict[str, str]  # role -> a key of a user with that role

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture
def api_world(
    db_url: str, mongo_url: str, mongo_database_name: str, monkeypatch: pytest.MonkeyPatch, fast_password_hashing: None
) -> Iterator[ApiWorld]:
    migrate.upgrade(db_url)
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", db_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", mongo_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", mongo_database_name)
    monkeypatch.setenv("WORKBENCH_LLM__WARM_UP_ON_OPEN", "false")
    container = build_container(get_settings(), register_atexit=False)
    keys = {}
    for role in Role:
        user = users.create_user(container.uow(), f"{role.value}-user", PASSWORD, role)
        keys[role.value] = api_keys.create_key(container.uow(), user.id, "tests").secret
    try:
        with TestClient(create_api(container), raise_server_exceptions=False) as client:
            yield ApiWorld(container, client, keys)
    finally:
        container.close()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """An ASGI app on a real loopback port, in a thread of this process; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=30, what="uvicorn")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def served(api_world: ApiWorld) -> Iterator[str]:
    """The same API on a real port (the exporter and the client speak HTTP)."""
    with serving(api_world.client.app) as url:
        yield url


@pytest.fixture
def seeded_runs(api_world: ApiWorld) -> dict[str, str]:
    """Two completed runs over the 12 facts: "good" answers with the reference, "bad" mostly does not."""
    return seed_good_and_bad_runs(api_world.container.uow)
