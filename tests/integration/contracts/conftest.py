"""The contract fixture: a unit-of-work factory per backend (the in-memory fake, SQLite, PostgreSQL).

A contract test asserts a repository's behaviour once and runs on all three, so the fake cannot drift from the SQL it
stands in for. Each SQL database is migrated once per session and emptied before every test, which keeps the suite
quick; the fake starts empty for each test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from tests.conftest import IN_CI, PG_ADMIN_URL, _pg_available
from tests.fakes import FakeIntegrityError, FakeUnitOfWork
from tests.integration.contracts.backends import Backend
from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.models import Base
from workbench.storage.sql.uow import SqlUnitOfWork

BACKENDS = [
    pytest.param("fake", id="fake"),
    pytest.param("sqlite", id="sqlite", marks=pytest.mark.integration),
    pytest.param("postgres", id="postgres", marks=[pytest.mark.integration, pytest.mark.postgres]),
]


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('contracts') / 'contracts.db'}"
    migrate.upgrade(url)
    engine = build_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    import psycopg

    if not _pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"wb_contracts_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        migrate.upgrade(url)
        engine = build_engine(url)
        yield engine
        engine.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):  # children first: foreign keys are enforced
            conn.execute(table.delete())


def _fake_backend() -> Backend:
    uow = FakeUnitOfWork()

    def seed(rows: tuple[Base, ...]) -> None:
        uow.seed(*rows)

    return Backend("fake", lambda: uow, seed, FakeIntegrityError)


def _sql_backend(name: str, engine: Engine) -> Backend:
    _empty(engine)
    sessions = build_session_factory(engine)

    def seed(rows: tuple[Base, ...]) -> None:
        with sessions() as session:
            for row in rows:
                session.add(row)
                session.flush()  # in the given order: most models have no relationships to sort inserts by
            session.commit()

    return Backend(name, lambda: SqlUnitOfWork(sessions), seed, IntegrityError)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "fake":
        return _fake_backend()
    return _sql_backend(request.param, request.getfixturevalue(f"{request.param}_engine"))
