"""build_container: settings in, working SQL unit of work and run-log writer out; close() flushes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from tests.factories import random_password, run_log
from workbench.bootstrap import build_container
from workbench.domain.runlog_query import RunLogFilter
from workbench.domain.users import Role
from workbench.services import users
from workbench.storage.runlog.embedded import free_port, ping
from workbench.storage.runlog.spool import Segment
from workbench.storage.runlog.store import MongoRunLogStore
from workbench.storage.sql import migrate

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def external_mongo(
    mongo_url: str, mongo_database_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MongoRunLogStore]:
    """Point the settings at the test server; yields a store to look at what arrived."""
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", mongo_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", mongo_database_name)
    monkeypatch.setenv("WORKBENCH_RUNLOG__FLUSH_INTERVAL_S", "0.05")
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url, tz_aware=True, tzinfo=UTC)
    yield MongoRunLogStore(client[mongo_database_name])
    client.drop_database(mongo_database_name)
    client.close()


def test_container_with_a_configured_mongodb_and_the_default_sqlite(
    external_mongo: MongoRunLogStore, isolated_environment: Path
) -> None:
    container = build_container(register_atexit=False)
    try:
        assert container.embedded_mongo is None
        assert container.mongo_url_for_display == "configured (WORKBENCH_MONGODB_URL)"
        assert container.settings.uses_embedded_sql
        assert (isolated_environment / "workbench.db").exists()
        assert migrate.is_up_to_date(container.settings.sql_url)
        assert "created_at_desc" in external_mongo.logs.index_information()

        password = random_password()
        created = users.create_user(container.uow(), "alice", password, Role.ADMIN)
        signed_in = users.authenticate(container.uow(), "alice", password)
        assert signed_in is not None
        assert signed_in.id == created.id

        records = [run_log() for _ in range(300)]
        for record in records:
            container.runlog_writer.log(record)
    finally:
        container.close()
    container.close()  # idempotent

    assert external_mongo.count_raw() == 300  # close() flushed the queue before returning
    assert set(external_mongo.logs.distinct("_id")) == {r.id for r in records}
    assert external_mongo.summary(RunLogFilter()).count == 300
    assert external_mongo.get(records[0].id) == records[0]


def test_container_starts_while_mongodb_is_away_and_keeps_the_logs(
    monkeypatch: pytest.MonkeyPatch, isolated_environment: Path
) -> None:
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", f"mongodb://127.0.0.1:{free_port()}/")
    monkeypatch.setenv("WORKBENCH_RUNLOG__SERVER_SELECTION_TIMEOUT_MS", "200")
    container = build_container(register_atexit=False)
    records = [run_log() for _ in range(20)]
    try:
        for record in records:
            container.runlog_writer.log(record)
        assert container.runlog_writer.flush(timeout=10)
        assert container.runlog_writer.stats.spooled == 20
    finally:
        container.close()

    spool_dir = isolated_environment / "runlog-spool"
    spooled = [doc["_id"] for path in sorted(spool_dir.glob("segment-*.jsonl"))
               for batch in Segment(path).batches() for doc in batch.docs]  # fmt: skip
    assert spooled == [r.id for r in records]


def test_container_with_the_embedded_server(isolated_environment: Path) -> None:
    container = build_container(register_atexit=False)
    try:
        embedded = container.embedded_mongo
        assert embedded is not None
        assert embedded.owned
        assert container.mongo_url_for_display == "embedded"
        assert embedded.storage_path == isolated_environment.resolve() / "mongo"
        record = run_log()
        container.runlog_writer.log(record)
        assert container.runlog_writer.wait_delivered(timeout=30)
        assert container.runlog_store.get(record.id) == record
    finally:
        container.close()
    assert not ping(embedded.url)
    assert not embedded.state_path.exists()
