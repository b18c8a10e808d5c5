"""Shared fixtures: an isolated environment per test, the real MongoDB-wire server, real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.storage.runlog.embedded import EmbeddedMongoServer, free_port

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("WORKBENCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the user's .env, WORKBENCH_* variables or ./data: everything points into tmp_path."""
    for name in list(os.environ):
        if name.startswith("WORKBENCH_") and name != "WORKBENCH_TEST_PG_URL":
            monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)  # so a stray .env in the checkout is never picked up
    return data_dir


class MongoServerHandle:
    """A real secantusdb server on loopback that a test can stop and start again on the same port and data."""

    def __init__(self, root: Path) -> None:
        self.server = EmbeddedMongoServer(data_dir=root, port=free_port())

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> str:
        return self.server.start()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServerHandle]:
    handle = MongoServerHandle(tmp_path_factory.mktemp("mongo"))
    handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def mongo_url(mongo_server: MongoServerHandle) -> str:
    if mongo_server.server.process is None:  # a test stopped it; bring it back for the next
        mongo_server.start()
    return mongo_server.url


@pytest.fixture
def mongo_database_name() -> str:
    """A fresh database per test on the shared server."""
    return f"test_{uuid.uuid4().hex[:12]}"


def _pg_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    if not _pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"wb_test_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'workbench.db'}"


@pytest.fixture
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2id, with the cheapest parameters: tests that create many users stay fast.

    Hashing itself is tested with the production parameters in tests/unit/test_passwords.py.
    """
    from argon2 import PasswordHasher

    from workbench.security import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
