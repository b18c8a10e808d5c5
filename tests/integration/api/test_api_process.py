"""`workbench api` as its own process, over real HTTP: the health route, the OpenAPI document, and a key made on
the same database signing in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.workers import answers_ok, wait_until
from workbench.bootstrap import open_sql
from workbench.domain.users import Role
from workbench.services import api_keys, users
from workbench.storage.runlog.embedded import free_port

pytestmark = pytest.mark.integration


def test_workbench_api_serves_over_http(
    tmp_path: Path,
    mongo_url: str,
    mongo_database_name: str,
    monkeypatch: pytest.MonkeyPatch,
    fast_password_hashing: None,
) -> None:
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", mongo_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", mongo_database_name)
    with open_sql() as sql:
        user = users.create_user(sql.uow(), "ci-bot", "a-long-enough-password", Role.ANALYST)
        secret = api_keys.create_key(sql.uow(), user.id, "ci").secret
    port = free_port()
    log = (tmp_path / "api.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "workbench.cli", "api", "--port", str(port)],
                               env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"

    try:
        wait_until(lambda: answers_ok(f"{base}/health"), timeout=60, what="workbench api to answer")
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "GenAI Workbench API"
        me = httpx.get(f"{base}/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["username"] == "ci-bot"
        assert httpx.get(f"{base}/me").status_code == 401
    finally:
        process.terminate()
        assert process.wait(30) == 0
        log.close()
