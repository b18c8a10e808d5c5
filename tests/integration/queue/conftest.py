"""A real broker (the machine's Redis or RabbitMQ), a queue of its own per test, and the settings workers share."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import IN_CI
from workbench.bootstrap import Container, build_container
from workbench.config import Settings, get_settings
from workbench.evaluation.datasets import EvalDatasetService
from workbench.queue.app import celery_app

BROKERS = {"redis": "redis://127.0.0.1:6379/0", "amqp": "amqp://guest:guest@127.0.0.1:5672//"}
MODEL = "smollm2-135m-instruct"  # the smallest packaged model: the queue is under test, not the answers


@dataclass
class QueueWorld:
    broker: str
    settings: Settings
    container: Container  # what the app holds: sends the tasks, reads the progress


def broker_answers(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return True
    except Exception:  # noqa: BLE001 - any failure to connect means "not reachable"
        return False


def configure(monkeypatch: pytest.MonkeyPatch, broker_url: str, mongo_url: str, database: str) -> str:
    """The environment a test's app side and its worker processes share; returns the queue's name."""
    name = f"wb-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("WORKBENCH_QUEUE__BROKER_URL", broker_url)
    monkeypatch.setenv("WORKBENCH_QUEUE__NAME", name)
    monkeypatch.setenv("WORKBENCH_QUEUE__VISIBILITY_TIMEOUT_S", "10")  # Redis: a killed worker's task returns soon
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", mongo_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", database)
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", MODEL)
    monkeypatch.setenv("WORKBENCH_LLM__WARM_UP_ON_OPEN", "false")
    monkeypatch.setenv("WORKBENCH_LLM__LOCAL_THREADS", "1")
    return name


def delete_queue(settings: Settings) -> None:
    app = celery_app(settings)
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(settings.queue.name)
    except Exception:  # noqa: BLE001 - a broker that went away with its queue
        pass
    finally:
        app.close()


@pytest.fixture(params=sorted(BROKERS))
def world(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, mongo_url: str, mongo_database_name: str
) -> Iterator[QueueWorld]:
    url = BROKERS[request.param]
    if not broker_answers(url):
        message = f"the {request.param} broker does not answer at {url}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    configure(monkeypatch, url, mongo_url, mongo_database_name)
    settings = get_settings()
    container = build_container(settings, register_atexit=False)
    from tests.evaluation_fakes import SAMPLE_ITEMS

    EvalDatasetService(container.uow).import_items("facts", SAMPLE_ITEMS, source="test", actor="ci")
    try:
        yield QueueWorld(request.param, settings, container)
    finally:
        container.close()
        delete_queue(settings)
