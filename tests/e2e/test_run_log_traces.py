"""The Run log's Traces tab over real stores: empty state, a chat turn's trace as a span tree with its passages and
messages, sessions, and one click to an eval dataset or an annotation queue (for the roles that may)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from pymongo import MongoClient

from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from workbench.domain.users import Role
from workbench.evaluation.datasets import EvalDatasetService
from workbench.labelling.queues import QueueService
from workbench.labelling.rubrics import DEFAULT_RUBRIC
from workbench.labelling.views import Actor
from workbench.llm.messages import Message
from workbench.llm.messages import Role as MessageRole
from workbench.services import users
from workbench.services.chat_trace import TurnTrace
from workbench.storage.runlog.traces import TraceStore

pytestmark = pytest.mark.e2e
TRACE = "c0ffee" * 5 + "00"


def store_turn(app_env: AppEnvironment, trace_id: str = TRACE, conversation: str = "conv-1") -> None:
    """A chat turn's spans as the chat records them: a retrieval with one passage and a model call."""
    started = datetime.now(UTC) - timedelta(seconds=3)
    turn = TurnTrace(trace_id, "u1", conversation, "app", started=started)
    chunk = SimpleNamespace(chunk_id="c1", text="<b>The R2 arm</b> has 24 months of warranty.", score=0.81,
                            source="warranty.md", metadata={"page": 2})  # fmt: skip
    turn.retrieval(started, "sample", "How long is the warranty?", [chunk], top_k=4, embedding_model="minilm")
    messages = [Message(MessageRole.SYSTEM, "Answer from the passages."), Message(MessageRole.USER, "How long?")]
    turn.llm(started + timedelta(milliseconds=200), model="smollm2-135m-instruct", provider="local",
             messages=messages, output="24 months [1].",
             prompt=("rag-answer", 3), variables={"question": "How long?"}, parameters={"max_tokens": 64},
             input_tokens=40, output_tokens=6)  # fmt: skip
    client: MongoClient[dict[str, object]] = MongoClient(app_env.mongo_url, tz_aware=True)
    TraceStore(client[app_env.database]).add(
        turn.finish(
            "How long is the warranty?", "24 months [1].", kb="sample", model="smollm2-135m-instruct", error=None
        )
    )


def traces_tab(at):  # type: ignore[no-untyped-def]
    return next(tab for tab in at.tabs if tab.label == "Traces")


def test_no_traces_says_where_they_come_from(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "run_log")
    assert "No traces yet" in traces_tab(at).info[0].value


def test_a_trace_shows_its_spans_passages_and_messages_and_goes_to_a_dataset_and_a_queue(
    app_env: AppEnvironment,
) -> None:
    store_turn(app_env)
    store_turn(app_env, "d" * 32, conversation="conv-2")
    admin = next(u for u in users.list_users(app_env.uow()) if u.username == "admin")
    actor = Actor(admin.id, admin.username, admin.role)
    queues = QueueService(app_env.uow)
    rubric = queues.save_rubric(actor, "quality", DEFAULT_RUBRIC)
    queues.create_queue(actor, "chat answers", rubric.version_id, 1, [admin.id])

    at = open_page(signed_in(), "run_log")
    tab = traces_tab(at)
    assert len(tab.dataframe[0].value) == 2  # both traces, newest first
    at.selectbox(key="traces_session").select("conv-2").run()
    assert list(traces_tab(at).dataframe[0].value["trace"]) == ["d" * 32]
    at.selectbox(key="traces_session").select("All sessions").run()

    client: MongoClient[dict[str, object]] = MongoClient(app_env.mongo_url, tz_aware=True)
    TraceStore(client[app_env.database]).put_feedback({"_id": f"{TRACE}:u9", "trace_id": TRACE, "user_id": "u9",
                                                       "rating": -1, "score": 0.4, "comment": "**too** vague",
                                                       "at": datetime.now(UTC)})  # fmt: skip
    at.text_input(key="traces_open").input(TRACE).run()
    assert not at.exception, at.exception
    tab = traces_tab(at)
    assert [s.value for s in tab.subheader] == [f"Trace {TRACE}"]
    assert "**Feedback** 0 thumbs up · 1 thumbs down · mean score 0.40" in [m.value for m in tab.markdown]
    assert "\\*\\*too\\*\\* vague" in [c.value for c in tab.caption]  # shown as typed, not as bold
    spans = tab.dataframe[0].value  # an id typed in replaces the list of traces
    assert list(spans["kind"]) == ["CHAIN", "RETRIEVER", "LLM"]
    assert len(tab.get("plotly_chart")) == 1  # the timeline
    at.selectbox(key=f"traces_span_{TRACE}").select(1).run()  # the retriever
    texts = [t.value for t in traces_tab(at).text]
    assert "<b>The R2 arm</b> has 24 months of warranty." in texts  # shown as written, never as HTML
    at.selectbox(key=f"traces_span_{TRACE}").select(2).run()  # the model call
    tab = traces_tab(at)
    assert "Answer from the passages." in [t.value for t in tab.text]
    assert any("rag\\-answer v3" in m.value for m in tab.markdown)

    at.selectbox(key="traces_dataset").select("New dataset…").run()
    at.text_input(key="traces_dataset_name").input("from-chat").run()
    at.button(key="traces_add_dataset").click().run()
    assert "Added: from-chat v1, 1 items." in [s.value for s in traces_tab(at).success]
    service = EvalDatasetService(app_env.uow)
    (item,) = service.items(service.version("from-chat").id)
    assert item.reference_contexts == ("<b>The R2 arm</b> has 24 months of warranty.",)

    at.button(key="traces_add_queue").click().run()
    assert "Added to chat answers." in [s.value for s in traces_tab(at).success]
    at.button(key="traces_add_queue").click().run()
    assert "Already in chat answers." in [s.value for s in traces_tab(at).success]


def test_a_viewer_reads_traces_but_adds_them_nowhere(app_env: AppEnvironment) -> None:
    store_turn(app_env)
    app_env.add_user("vera", Role.VIEWER)
    at = open_page(signed_in("vera"), "run_log")
    at.text_input(key="traces_open").input(TRACE).run()
    tab = traces_tab(at)
    assert [s.value for s in tab.subheader] == [f"Trace {TRACE}"]
    keys = {b.key for b in tab.button}
    assert not keys & {"traces_add_queue", "traces_add_dataset"}
    at.text_input(key="traces_open").input("0" * 32).run()
    assert "No trace" in traces_tab(at).warning[0].value
