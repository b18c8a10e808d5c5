"""Health of the stores and the task queue, for the Admin page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from workbench.domain.runlog_query import RunLogFilter
from workbench.llm.limits import LimitUse
from workbench.queue.client import QueueStatus
from workbench.storage.runlog.store import MongoRunLogStore
from workbench.storage.runlog.writer import RunLogWriter, WriterStats
from workbench.storage.sql import migrate


@dataclass(frozen=True, slots=True)
class SystemStatus:
    sql_backend: str
    sql_revision: str | None
    sql_head: str | None
    sql_error: str | None
    runlog_backend: str
    runlog_reachable: bool
    runlog_logs: int | None
    writer: WriterStats
    spool_pending: bool
    queue: QueueStatus | None = None  # the task queue that carries dataset and eval runs to workers
    limits: list[LimitUse] = field(default_factory=list)  # the models' and providers' request limits, in use now
    limits_counted: str = ""  # where

    @property
    def sql_up_to_date(self) -> bool:
        return self.sql_error is None and self.sql_revision == self.sql_head


def system_status(
    engine: Engine,
    mongo_client: MongoClient[dict[str, Any]],
    runlog_store: MongoRunLogStore,
    writer: RunLogWriter,
    *,
    embedded_runlog: bool,
    queue: QueueStatus | None = None,
    limits: list[LimitUse] | None = None,
    limits_counted: str = "",
) -> SystemStatus:
    revision: str | None = None
    sql_error: str | None = None
    try:
        revision = migrate.revision_of(engine)
    except SQLAlchemyError as exc:
        sql_error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    reachable, logs = True, None
    try:
        mongo_client.admin.command("ping")
        summary = runlog_store.summary(RunLogFilter())
        logs = summary.count
    except PyMongoError:
        reachable = False
    return SystemStatus(
        sql_backend=engine.dialect.name,
        sql_revision=revision,
        sql_head=migrate.head_revision(),
        sql_error=sql_error,
        runlog_backend="embedded MongoDB-wire server" if embedded_runlog else "MongoDB (configured URL)",
        runlog_reachable=reachable,
        runlog_logs=logs,
        writer=writer.stats,
        spool_pending=writer.spool_pending,
        queue=queue,
        limits=limits or [],
        limits_counted=limits_counted,
    )
