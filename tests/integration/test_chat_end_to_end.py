"""A chat turn against real parts: SQLite, the MongoDB-wire run log, Chroma, the ONNX embedder and a local model
(SmolLM2, the smallest packaged one), directly and through the Gradio API."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MongoServerHandle
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.domain.runlog_query import RunLogFilter
from workbench.domain.users import Role
from workbench.rag.sample import ensure_sample_knowledge_base
from workbench.services import users as user_service
from workbench.services.chat import ChatRequest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MODEL = "smollm2-135m-instruct"
QUESTION = "How long is the warranty on the R2 arm?"


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory, mongo_server: MongoServerHandle) -> Iterator[Container]:
    if mongo_server.server.process is None:
        mongo_server.start()
    settings = get_settings(
        data_dir=tmp_path_factory.mktemp("chat-data"),
        mongodb_url=mongo_server.url,
        mongodb_database=f"chat_{uuid.uuid4().hex[:8]}",
    )
    container = build_container(settings, register_atexit=False)
    report = ensure_sample_knowledge_base(container.rag)
    assert report is not None and not report.failed
    yield container
    container.close()


@pytest.fixture(scope="module")
def user_id(container: Container) -> str:
    return user_service.create_user(container.uow(), "chatter", "chatter-password-1", Role.ANALYST).id


def test_answer_cites_the_document_that_holds_it_and_everything_is_recorded(container: Container, user_id: str) -> None:
    turn = container.chat.ask(
        ChatRequest(user_id=user_id, question=QUESTION, model_id=MODEL, knowledge_base="sample", top_k=3, max_tokens=48)
    )
    text = "".join(turn)
    assert turn.error is None
    assert text.strip()
    assert turn.citations[0]["source"] == "warranty-policy.md"
    assert "24 months" in turn.citations[0]["text"]
    transcript = container.chat.transcript(user_id, turn.conversation_id)
    assert [m.role for m in transcript] == ["user", "assistant"]
    assert transcript[1].citations[0]["source"] == "warranty-policy.md"

    assert container.runlog_writer.flush(timeout=30)
    store = container.runlog_store
    logs = store.page(RunLogFilter(), limit=10).items
    by_kind = {log.kind.value: log for log in logs if log.conversation_id == turn.conversation_id}
    assert set(by_kind) == {"retrieval", "llm"}
    llm = by_kind["llm"]
    assert llm.model == MODEL and llm.status.value == "ok"
    assert llm.ttft_ms is not None and llm.latency_ms is not None and llm.ttft_ms <= llm.latency_ms
    assert llm.output_tokens and llm.output_tokens > 0
    assert by_kind["retrieval"].metadata["kb"] == "sample"

    thumbs = container.chat.rate(user_id, transcript[1].id, -1, "too short")
    assert thumbs
    assert container.chat.transcript(user_id, turn.conversation_id)[1].my_rating == -1


def test_gradio_api_answers_through_the_same_service(container: Container) -> None:
    from gradio_client import Client

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from app.gradio_demo import DemoSettings, build_demo

    # One question per two minutes per client: the second is refused.
    demo = build_demo(container, DemoSettings(model_id=MODEL, per_minute=0.5, max_tokens=32))
    demo.queue().launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        answer: Any = client.predict(message=QUESTION, api_name="/respond")
        assert "warranty-policy.md" in str(answer)
        with pytest.raises(Exception, match="Too many questions"):
            client.predict(message=QUESTION, api_name="/respond")
    finally:
        demo.close()
    assert container.runlog_writer.flush(timeout=30)
    gradio_logs = [
        log
        for log in container.runlog_store.page(RunLogFilter(), limit=50).items
        if log.metadata.get("channel") == "gradio"
    ]
    assert {log.kind.value for log in gradio_logs} == {"retrieval", "llm"}


def test_the_demo_mounts_into_a_fastapi_app(container: Container) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from app.gradio_demo import mount_demo

    app = mount_demo(FastAPI(), "/demo", container=container)
    with TestClient(app) as client:
        page = client.get("/demo/")
        assert page.status_code == 200
        assert "gradio" in page.text.lower()
        config = client.get("/demo/config").json()
        assert any(dep.get("api_name") == "respond" for dep in config["dependencies"])
