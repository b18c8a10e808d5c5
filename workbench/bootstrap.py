"""The one place that turns settings into engines, clients and services.

`build_container(settings)` returns everything a page, the CLI or a test needs. Process-wide objects only:
the Streamlit app caches the container with st.cache_resource; nothing here holds per-request state.
`open_sql()`, `open_rag()` and `open_playground_reader()` are the light builders for commands that need SQL alone
(no MongoDB started, no model loaded), so `workbench user list` answers at once.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from pymongo import MongoClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from workbench.config import Settings, get_settings
from workbench.evaluation.datasets import EvalDatasetService
from workbench.evaluation.pipeline import RagPipeline
from workbench.evaluation.reports import EvalReports
from workbench.evaluation.runs import EvalRunError, EvalRunService, Judge
from workbench.labelling.annotation import AnnotationService
from workbench.labelling.queues import QueueService
from workbench.labelling.review import ReviewService
from workbench.llm import LLMRuntime
from workbench.llm.limits import Limiter, LocalLimiter, RedisLimiter, configured_limits, limits_in_use
from workbench.playground.service import PlaygroundService
from workbench.prompting.registry import PromptRegistry
from workbench.queue.app import EVAL_ITEM, PLAYGROUND_CELL, broker_for_display, celery_app
from workbench.queue.client import TaskQueue
from workbench.rag.engine import RagEngine
from workbench.security.throttle import LoginThrottle
from workbench.services.background import BackgroundRuns
from workbench.services.chat import ChatService
from workbench.services.queued_runs import QueuedRuns
from workbench.services.system import SystemStatus, system_status
from workbench.services.traces import TraceService
from workbench.storage.runlog.embedded import EmbeddedMongoServer
from workbench.storage.runlog.spool import Spool
from workbench.storage.runlog.store import MongoRunLogStore
from workbench.storage.runlog.traces import TraceStore
from workbench.storage.runlog.writer import RunLogWriter
from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.identity import database_id_of
from workbench.storage.sql.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from workbench.domain.runlog import RunLog
    from workbench.evaluation.generator import QuestionGenerator

log = logging.getLogger(__name__)


def configure_offline_environment() -> None:
    """Switch off every library's phone-home before those libraries are imported."""
    import os

    for name, value in {
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "RAGAS_DO_NOT_TRACK": "true",
        "ANONYMIZED_TELEMETRY": "False",  # chromadb
        "DO_NOT_TRACK": "1",
    }.items():
        os.environ.setdefault(name, value)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    mongo_client: MongoClient[dict[str, Any]]
    runlog_store: MongoRunLogStore
    runlog_writer: RunLogWriter
    llm_runtime: LLMRuntime
    rag: RagEngine
    embedded_mongo: EmbeddedMongoServer | None = None
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    prompts: PromptRegistry = field(init=False)
    queue: TaskQueue = field(init=False)
    playground_jobs: QueuedRuns = field(init=False)  # dataset runs, worked by queue workers
    playground_tries: BackgroundRuns = field(init=False)  # the side-by-side try, streamed to the page from here
    eval_jobs: QueuedRuns = field(init=False)
    _closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.prompts = PromptRegistry(self.uow)
        self.queue = build_queue(self.settings, lambda: self.database_id)
        playground, eval_runs = self.playground, self.eval_runs
        self.playground_jobs = QueuedRuns(playground, self.queue.send, PLAYGROUND_CELL)
        self.playground_tries = BackgroundRuns(playground.execute, playground.request_stop, "playground-try")
        self.eval_jobs = QueuedRuns(eval_runs, self.queue.send, EVAL_ITEM)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory)

    @functools.cached_property
    def traces(self) -> TraceStore:
        """Trace spans (OTLP ingest), in the run-log database."""
        store = TraceStore(self.mongo_client[self.settings.mongodb_database])
        try:
            store.ensure_indexes()
        except Exception as exc:  # noqa: BLE001 - MongoDB away now: the indexes are made on the next start
            log.warning("could not create the span indexes now (%s)", exc)
        return store

    @functools.cached_property
    def database_id(self) -> str:
        """The id of the SQL database this process works on (read once; made by migration 0007)."""
        return database_id_of(self.session_factory)

    @property
    def chat(self) -> ChatService:
        """The chat use case over this container's stores, retriever and models (cheap to build)."""
        return ChatService(
            self.uow, self.rag, self.llm_runtime, self.runlog_writer,
            prompts=self.prompts, prompt_label=self.settings.prompts.chat_label,
        )  # fmt: skip

    @property
    def playground(self) -> PlaygroundService:
        """Playground runs over this container's stores and models (cheap to build)."""
        return PlaygroundService(
            self.uow, self.llm_runtime, self.runlog_writer,
            max_concurrency=self.settings.playground.max_concurrency, max_rows=self.settings.playground.max_rows,
        )  # fmt: skip

    @property
    def trace_reader(self) -> TraceService:
        """Traces to read: the newest, by session, one as a span tree (the Run log page and the API)."""
        return TraceService(self.traces)

    @property
    def eval_datasets(self) -> EvalDatasetService:
        return EvalDatasetService(self.uow)

    @property
    def eval_runs(self) -> EvalRunService:
        """Eval runs over this container's retrieval, prompts and models (cheap to build)."""
        pipeline = RagPipeline(self.llm_runtime, self.rag, self.prompts)
        return EvalRunService(
            self.uow, pipeline, self.runlog_writer, judge_for=self.judge,
            concurrency=self.settings.evaluation.concurrency,
        )  # fmt: skip

    @property
    def eval_reports(self) -> EvalReports:
        return EvalReports(self.uow)

    @property
    def question_generator(self) -> QuestionGenerator:
        """Drafts eval questions from a knowledge base's passages into a labelling queue for review."""
        from workbench.evaluation.generator import QuestionGenerator

        return QuestionGenerator(self.rag, self.llm_runtime, self.prompts, self.label_queues)

    def judge(self, model_id: str) -> Judge:
        """A judge over a configured model: a local model is served on loopback, a hosted one used as configured."""
        from workbench.evaluation.judge import JudgeScorer, LocalRagasEmbeddings  # imports ragas: only when judging

        spec = self.llm_runtime.catalog.get(model_id)
        timeout = self.settings.evaluation.judge_timeout_s
        embeddings = LocalRagasEmbeddings(self.rag.embedding)
        if spec.provider == "local":
            server = self.llm_runtime.local_server(spec)
            return JudgeScorer(server.base_url, spec.id, server.api_key, timeout, embeddings)
        if spec.provider not in ("openai", "openai_compatible", "ollama"):
            raise EvalRunError(f"{spec.id}: a judge must speak the OpenAI API (local, openai, ollama or compatible).")
        key = self.llm_runtime.catalog.environ.get(spec.api_key_env or "", "") or "not-needed"
        base_url = spec.base_url or "https://api.openai.com/v1"
        if spec.provider == "ollama":
            base_url = base_url.rstrip("/") + "/v1"
        return JudgeScorer(base_url, spec.model, key, timeout, embeddings)

    @property
    def label_queues(self) -> QueueService:
        """Rubrics, queues, members, items and progress (cheap to build)."""
        return QueueService(self.uow)

    @property
    def annotation(self) -> AnnotationService:
        return AnnotationService(self.uow)

    @property
    def review(self) -> ReviewService:
        return ReviewService(self.uow)

    def system_status(self) -> SystemStatus:
        """Health of the SQL database, the run log and its writer, the task queue and the request limits (the Admin
        page)."""
        limiter = self.llm_runtime.limiter
        limits = configured_limits(self.settings.llm.all_models, self.settings.llm.provider_limits)
        return system_status(
            self.engine, self.mongo_client, self.runlog_store, self.runlog_writer,
            embedded_runlog=self.embedded_mongo is not None, queue=self.queue.status(),
            limits=limits_in_use(limiter, limits), limits_counted=limiter.where,
        )  # fmt: skip

    @property
    def mongo_url_for_display(self) -> str:
        return "embedded" if self.embedded_mongo else "configured (WORKBENCH_MONGODB_URL)"

    def close(self) -> None:
        """Flush run logs, then stop what was started here (the embedded server last)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.playground_tries.close()  # answers being streamed finish and are stored and logged
        self.queue.close()
        self.runlog_writer.close()
        self.mongo_client.close()
        self.llm_runtime.close()
        self.rag.close()
        self.engine.dispose()
        if self.embedded_mongo is not None:
            self.embedded_mongo.stop()


def build_queue(settings: Settings, database_id: Callable[[], str] | None = None) -> TaskQueue:
    """The task queue client: cheap, connects on first use (the embedded default's folders are made here).
    `database_id` stamps each task with the database of its run (needed to send; reading the status needs none)."""
    return TaskQueue(
        celery_app(settings), broker_for_display(settings), queue=settings.queue.name,
        timeout_s=settings.queue.connect_timeout_s, database_id=database_id,
    )  # fmt: skip


def build_limiter(settings: Settings) -> Limiter:
    """Where the models' request limits are counted: in Redis (`llm.limits_url`, or the queue's broker when it is
    Redis) so that the app and every worker share one count; otherwise in each process."""
    configured = settings.llm.provider_limits or any(spec.limits.any for spec in settings.llm.all_models)
    url = settings.llm.limits_url or settings.queue.broker_url
    if not configured:
        return LocalLimiter()
    if url is None or not url.get_secret_value().startswith(("redis://", "rediss://")):
        if settings.queue.broker_url is not None:
            log.warning("request limits are counted in each process: set WORKBENCH_LLM__LIMITS_URL to a Redis "
                        "to count them across the workers")  # fmt: skip
        return LocalLimiter()
    return RedisLimiter(url.get_secret_value(), namespace=settings.queue.name)


def build_sql(settings: Settings, *, migrate_embedded: bool = True) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory; the embedded SQLite file is migrated on the way (it is ours to keep current)."""
    engine = build_engine(settings.sql_url, echo=settings.sql_echo)
    if migrate_embedded and settings.uses_embedded_sql:
        migrate.upgrade(settings.sql_url)
    return engine, build_session_factory(engine)


def build_rag_engine(settings: Settings, session_factory: sessionmaker[Session]) -> RagEngine:
    """Knowledge bases, ingestion and retrieval; Chroma and the embedding model load on first use."""
    return RagEngine(settings.rag, settings.resolved_data_dir, lambda: SqlUnitOfWork(session_factory))


@dataclass
class SqlServices:
    """The services that read and write SQL alone, over one engine: what most commands need, quick to open."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory)

    @property
    def prompts(self) -> PromptRegistry:
        return PromptRegistry(self.uow)

    @property
    def eval_datasets(self) -> EvalDatasetService:
        return EvalDatasetService(self.uow)

    @property
    def eval_reports(self) -> EvalReports:
        return EvalReports(self.uow)


@contextmanager
def open_sql(settings: Settings | None = None, *, migrate_embedded: bool = True) -> Iterator[SqlServices]:
    """SQL services for one command; the engine is disposed on the way out."""
    settings = settings or get_settings()
    engine, session_factory = build_sql(settings, migrate_embedded=migrate_embedded)
    try:
        yield SqlServices(settings, engine, session_factory)
    finally:
        engine.dispose()


@contextmanager
def open_rag(settings: Settings | None = None) -> Iterator[RagEngine]:
    """Knowledge bases over SQL and Chroma, without MongoDB or a chat model (ingest, kb list, the sample corpus)."""
    configure_offline_environment()
    with open_sql(settings) as sql:
        engine = build_rag_engine(sql.settings, sql.session_factory)
        try:
            yield engine
        finally:
            engine.close()


class NothingToLog:
    """Listing and exporting runs read SQL only; no model is called, so no MongoDB is started for them."""

    def log(self, record: RunLog) -> None:
        raise RuntimeError("this playground service only reads runs")


@contextmanager
def open_playground_reader(settings: Settings | None = None) -> Iterator[PlaygroundService]:
    """Playground runs to list, show and export: SQL and a model catalog that starts nothing."""
    with open_sql(settings) as sql:
        runtime = LLMRuntime.for_data_dir(sql.settings.llm, sql.settings.resolved_data_dir)  # lazy: starts nothing
        try:
            yield PlaygroundService(sql.uow, runtime, NothingToLog())
        finally:
            runtime.close()


def mongo_url(settings: Settings) -> tuple[str, EmbeddedMongoServer | None]:
    if settings.mongodb_url is not None:
        return settings.mongodb_url.get_secret_value(), None
    server = EmbeddedMongoServer(
        data_dir=settings.resolved_data_dir,
        host=settings.embedded_mongo.host,
        port=settings.embedded_mongo.port,
        command=settings.embedded_mongo.command,
        start_timeout_s=settings.embedded_mongo.start_timeout_s,
        sync_on_commit=settings.embedded_mongo.sync_on_commit,
    )
    return server.ensure_running(), server


def build_container(
    settings: Settings | None = None, *, migrate_embedded: bool = True, register_atexit: bool = True
) -> Container:
    configure_offline_environment()
    settings = settings or get_settings()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)

    # A shared SQL server is migrated by its operator (`workbench db upgrade`), never implicitly.
    engine, session_factory = build_sql(settings, migrate_embedded=migrate_embedded)
    url, embedded = mongo_url(settings)
    client: MongoClient[dict[str, Any]] = MongoClient(
        url,
        tz_aware=True,
        tzinfo=UTC,
        serverSelectionTimeoutMS=settings.runlog.server_selection_timeout_ms,
        appname="genai-workbench",
    )
    store = MongoRunLogStore(client[settings.mongodb_database])
    try:
        store.ensure_indexes()
    except Exception as exc:  # noqa: BLE001 - the app must start while MongoDB is away; logs spool meanwhile
        log.warning("could not create run-log indexes now (%s); they are created on the next start", exc)
    writer = RunLogWriter(
        store,
        Spool(settings.spool_dir),
        batch_size=settings.runlog.batch_size,
        flush_interval_s=settings.runlog.flush_interval_s,
        retry_interval_s=settings.runlog.retry_interval_s,
    ).start()
    container = Container(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        mongo_client=client,
        runlog_store=store,
        runlog_writer=writer,
        # Lazy: no weights are touched and no model starts until a model is first used.
        llm_runtime=LLMRuntime.for_data_dir(settings.llm, settings.resolved_data_dir, build_limiter(settings)),
        # Lazy too: the Chroma client and the embedding model are created on first use.
        rag=build_rag_engine(settings, session_factory),
        embedded_mongo=embedded,
    )
    if register_atexit:
        atexit.register(container.close)
    return container
