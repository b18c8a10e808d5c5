"""Real SQL engines (SQLite file and PostgreSQL) and real MongoDB databases for the integration tests."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError
from sqlalchemy import Engine

from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.uow import SqlUnitOfWork

SQL_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=SQL_BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each engine: a SQLite file in tmp_path, then a fresh PostgreSQL database."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The database migrated to head."""
    migrate.upgrade(db_url)
    engine = build_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_uow(engine: Engine) -> Callable[[], SqlUnitOfWork]:
    factory = build_session_factory(engine)
    return lambda: SqlUnitOfWork(factory)


@pytest.fixture
def mongo_client(mongo_url: str) -> Iterator[MongoClient[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(
        mongo_url, tz_aware=True, tzinfo=UTC, serverSelectionTimeoutMS=2_000
    )
    yield client
    client.close()


@pytest.fixture
def mongo_db(mongo_client: MongoClient[dict[str, Any]], mongo_database_name: str) -> Iterator[Database[Any]]:
    database = mongo_client[mongo_database_name]
    yield database
    with contextlib.suppress(PyMongoError):  # best-effort cleanup on a shared server
        mongo_client.drop_database(mongo_database_name)
