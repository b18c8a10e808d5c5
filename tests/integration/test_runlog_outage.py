"""Acceptance: run logs streamed through a MongoDB outage all arrive, each exactly once, with rollups to match."""

from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from tests.conftest import MongoServerHandle
from tests.factories import run_log
from workbench.domain.runlog_query import RunLogFilter
from workbench.storage.runlog.spool import Spool
from workbench.storage.runlog.store import MongoRunLogStore
from workbench.storage.runlog.writer import RunLogWriter

pytestmark = pytest.mark.integration

TOTAL = 5_000
STOP_AT = 1_500  # logs streamed before the server goes away
START_AT = 3_500  # logs streamed before it comes back


def test_every_log_arrives_exactly_once_across_a_server_restart(
    mongo_server: MongoServerHandle, mongo_url: str, mongo_database_name: str, tmp_path: Path
) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(
        mongo_url, tz_aware=True, tzinfo=UTC, serverSelectionTimeoutMS=500, connectTimeoutMS=500
    )
    store = MongoRunLogStore(client[mongo_database_name])
    store.ensure_indexes()
    writer = RunLogWriter(
        store, Spool(tmp_path / "spool"), batch_size=250, flush_interval_s=0.05, retry_interval_s=0.2
    ).start()
    records = [run_log() for _ in range(TOTAL)]
    try:
        for record in records[:STOP_AT]:
            writer.log(record)
        assert writer.flush(timeout=60)  # the stream pauses here; nothing is in flight when the server stops
        assert writer.stats.spooled == 0

        mongo_server.stop()
        started = time.perf_counter()
        for record in records[STOP_AT:START_AT]:
            writer.log(record)
        logging_took = time.perf_counter() - started
        assert writer.flush(timeout=60)
        assert writer.spool_pending
        assert writer.stats.spooled == START_AT - STOP_AT  # all of them waited on disk, none dropped

        mongo_server.start()
        for record in records[START_AT:]:  # logged while the spool is still being replayed
            writer.log(record)
        assert writer.wait_delivered(timeout=120)
    finally:
        if mongo_server.server.process is None:  # the server is shared by the whole session
            mongo_server.start()
        writer.close()

    assert logging_took < 1.0, "log() must not wait for the unreachable server"
    assert store.count_raw() == TOTAL
    stored_ids = set(store.logs.distinct("_id"))
    assert len(stored_ids) == TOTAL
    assert stored_ids == {r.id for r in records}
    assert store.summary(RunLogFilter()).count == TOTAL
    assert writer.stats.replayed == writer.stats.spooled
    assert writer.stats.written + writer.stats.replayed == TOTAL
    assert list((tmp_path / "spool").glob("segment-*")) == []
    client.close()
