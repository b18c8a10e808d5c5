"""The `workbench` command line against the embedded SQLite file in the isolated data folder."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.factories import random_password
from workbench.cli import app
from workbench.services import users
from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_password_hashing")]


Run = Callable[..., Result]


@pytest.fixture
def run() -> Run:
    """Invoke the CLI in-process; `ok=False` expects a refusal (exit code 1)."""
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == (0 if ok else 1), result.output
        return result

    return invoke


@pytest.fixture
def data_uow(isolated_environment: Path) -> Iterator[Callable[[], SqlUnitOfWork]]:
    """Units of work on the SQLite file the CLI uses, to check what it did."""
    engine = build_engine(f"sqlite:///{isolated_environment / 'workbench.db'}")
    factory = build_session_factory(engine)
    yield lambda: SqlUnitOfWork(factory)
    engine.dispose()


def test_db_upgrade_current_and_downgrade(run: Run, isolated_environment: Path) -> None:
    url = f"sqlite:///{isolated_environment.resolve() / 'workbench.db'}"

    assert "database at revision 0009" in run("db", "upgrade").output
    assert migrate.current_revision(url) == "0009"
    assert run("db", "current").output.strip() == "current: 0009  head: 0009"

    assert "database at revision 0001" in run("db", "downgrade", "0001").output
    assert "database at revision None" in run("db", "downgrade", "base").output
    assert run("db", "current").output.strip() == "current: None  head: 0009"


def test_user_commands(run: Run, data_uow: Callable[[], SqlUnitOfWork]) -> None:
    assert "no users yet" in run("user", "list").output

    password = random_password()
    assert run("user", "create", "Alice", "--role", "admin", "--password", password).output.strip() == (
        "created alice (admin)"
    )
    run("user", "create", "bob", "--password", random_password(), "--display-name", "Bob B.")
    assert "already exists" in run("user", "create", "alice", "--password", random_password(), ok=False).output
    assert "at least 10 characters" in run("user", "create", "carl", "--password", "short", ok=False).output
    assert "username" in run("user", "create", "x y", "--password", random_password(), ok=False).output

    lines = run("user", "list").output.splitlines()
    assert [line.split()[:3] for line in lines] == [["alice", "admin", "active"], ["bob", "viewer", "active"]]
    assert all(line.endswith("last login never") for line in lines)

    assert run("user", "set-role", "bob", "analyst").output.strip() == "bob is now analyst"
    refused = run("user", "set-role", "alice", "viewer", ok=False)
    assert "last active admin" in refused.output
    assert "last active admin" in run("user", "disable", "alice", ok=False).output
    assert "No user named 'ghost'" in run("user", "set-role", "ghost", "admin", ok=False).output

    run("user", "disable", "bob")
    assert users.authenticate(data_uow(), "alice", password) is not None
    new_password = random_password()
    run("user", "reset-password", "alice", "--password", new_password)
    assert users.authenticate(data_uow(), "alice", new_password) is not None

    lines = run("user", "list").output.splitlines()
    assert [line.split()[:3] for line in lines] == [["alice", "admin", "active"], ["bob", "analyst", "disabled"]]
    assert "UTC" in lines[0]  # alice signed in above
    run("user", "enable", "bob")
    assert "active" in run("user", "list").output.splitlines()[1]


def test_bootstrap_admin_from_the_environment(
    run: Run, monkeypatch: pytest.MonkeyPatch, data_uow: Callable[[], SqlUnitOfWork]
) -> None:
    assert "WORKBENCH_ADMIN_PASSWORD" in run("user", "bootstrap-admin", ok=False).output

    password = random_password()
    monkeypatch.setenv("WORKBENCH_ADMIN_USERNAME", "Chief")
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", password)
    assert run("user", "bootstrap-admin").output.strip() == "created admin chief"
    assert run("user", "bootstrap-admin").output.strip() == "an admin exists already; nothing to do"

    signed_in = users.authenticate(data_uow(), "chief", password)
    assert signed_in is not None
    assert signed_in.role == "admin"


def test_seed_demo_writes_a_private_password_file(
    run: Run, isolated_environment: Path, data_uow: Callable[[], SqlUnitOfWork]
) -> None:
    result = run("seed-demo")

    password_file = isolated_environment / "demo-admin-password.txt"
    password = password_file.read_text().strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert len(password) >= 12
    assert password in result.output
    assert users.authenticate(data_uow(), "admin", password) is not None
    assert "sample eval dataset: northwind-qa v1, 24 questions" in result.output

    again = run("seed-demo")
    assert "admin exists already" in again.output
    assert "sample eval dataset" not in again.output  # imported once
    assert str(password_file) in again.output
    assert password_file.read_text().strip() == password  # not overwritten


def test_seed_demo_uses_a_configured_password_without_writing_it_down(
    run: Run, monkeypatch: pytest.MonkeyPatch, isolated_environment: Path, data_uow: Callable[[], SqlUnitOfWork]
) -> None:
    password = random_password()
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", password)
    run("seed-demo")
    assert not (isolated_environment / "demo-admin-password.txt").exists()
    assert users.authenticate(data_uow(), "admin", password) is not None


@pytest.mark.parametrize("setting", ["database_url", "staging"])
def test_seed_demo_refuses_outside_the_embedded_default(
    run: Run, monkeypatch: pytest.MonkeyPatch, isolated_environment: Path, tmp_path: Path, setting: str
) -> None:
    if setting == "database_url":
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    else:
        monkeypatch.setenv("WORKBENCH_ENV", "staging")
        monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", random_password())

    assert "seed-demo is for the embedded default" in run("seed-demo", ok=False).output
    assert not (isolated_environment / "demo-admin-password.txt").exists()
    assert not (tmp_path / "shared.db").exists()
