"""The chat turn with fakes: what is stored, what is logged, and how bad input and model errors are handled."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.factories import random_user
from tests.fakes import FakeUnitOfWork
from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.domain.traces import attributes, documents_of, messages_of
from workbench.llm.errors import ProviderError
from workbench.services.chat import MAX_QUESTION_CHARS, ChatInputError, ChatRequest, ChatService


@dataclass
class FakeChunk:
    source: str
    text: str
    score: float
    chunk_id: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeRetrieval:
    chunks: list[FakeChunk]
    top_k: int = 4
    embedding_model: str = "fake-embedder"
    latency_ms: float = 3.0
    embedding_ms: float = 2.0
    search_ms: float = 1.0


class FakeRetriever:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, int | None]] = []

    def retrieve(self, kb: str, query: str, top_k: int | None = None) -> FakeRetrieval:
        self.asked.append((kb, query, top_k))
        return FakeRetrieval(
            [FakeChunk("warranty.md", "The R2 arm has 24 months of warranty.", 0.8, "c1", {"page": 2})]
        )


class FakeStream:
    provider = "local"

    def __init__(self, deltas: list[str], fail_after: int | None = None) -> None:
        self._deltas = deltas
        self._fail_after = fail_after
        self.parts: list[str] = []
        self.finished = False
        self.ttft_ms, self.latency_ms, self.input_tokens, self.output_tokens = 12.0, 40.0, 30, len(deltas)
        self.tokens_estimated = False

    def __iter__(self) -> Iterator[str]:
        for i, delta in enumerate(self._deltas):
            if self._fail_after is not None and i == self._fail_after:
                self.finished = True
                raise ProviderError("local", "m", "the server went away", "restart it")
            self.parts.append(delta)
            yield delta
        self.finished = True

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def close(self) -> None:
        self.finished = True


class FakeRuntime:
    def __init__(self, fail_after: int | None = None) -> None:
        self.fail_after = fail_after
        self.messages: list[Any] = []

    def stream_chat(self, model_id: str, messages: list[Any], **overrides: Any) -> FakeStream:
        self.messages = messages
        return FakeStream(["Twenty-four ", "months [1]."], self.fail_after)

    def warm_up(self, model_id: str) -> None:
        pass

    def load_libraries(self) -> None:
        pass


class Recorder:
    def __init__(self) -> None:
        self.records: list[RunLog] = []
        self.spans: list[dict[str, Any]] = []

    def log(self, record: RunLog) -> None:
        self.records.append(record)

    def log_spans(self, docs: Sequence[dict[str, Any]]) -> None:
        self.spans.extend(docs)


@pytest.fixture
def setup() -> tuple[ChatService, FakeUnitOfWork, FakeRuntime, Recorder, str]:
    uow = FakeUnitOfWork()
    user = random_user()
    uow.seed(user)
    runtime, recorder = FakeRuntime(), Recorder()
    return ChatService(lambda: uow, FakeRetriever(), runtime, recorder), uow, runtime, recorder, user.id


def ask(service: ChatService, user_id: str, question: str = "How long is the warranty?", **kw: Any) -> Any:
    request = ChatRequest(user_id=user_id, question=question, model_id="m", knowledge_base="kb", **kw)
    turn = service.ask(request)
    text = "".join(turn)
    return turn, text


def test_a_turn_stores_question_and_answer_with_citations_and_logs_both_calls(setup: Any) -> None:
    service, uow, runtime, recorder, user_id = setup
    _, text = ask(service, user_id)
    assert text == "Twenty-four months [1]."
    messages = sorted(uow.rows("messages"), key=lambda m: m.seq)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "How long is the warranty?"),
        ("assistant", "Twenty-four months [1]."),
    ]
    assert messages[1].citations[0]["source"] == "warranty.md"
    assert messages[1].citations[0]["page"] == 2
    kinds = [r.kind for r in recorder.records]
    assert kinds == [RunKind.RETRIEVAL, RunKind.LLM]
    assert len({r.run_id for r in recorder.records}) == 1
    assert messages[1].run_id == recorder.records[0].run_id
    llm = recorder.records[1]
    assert (llm.ttft_ms, llm.output_tokens, llm.status, llm.prompt_name) == (12.0, 2, RunStatus.OK, "rag-answer")
    assert "[1] (from warranty.md)" in runtime.messages[-1].content  # the passage reached the model


def test_follow_up_questions_send_the_earlier_turns(setup: Any) -> None:
    service, _, runtime, _, user_id = setup
    first, _ = ask(service, user_id)
    ask(service, user_id, "And for the M1?", conversation_id=first.conversation_id)
    roles = [m.role.value for m in runtime.messages]
    assert roles == ["system", "user", "assistant", "user"]


@pytest.mark.parametrize("question", ["", "   ", "x" * (MAX_QUESTION_CHARS + 1)])
def test_empty_or_oversized_questions_are_refused_before_anything_is_stored(setup: Any, question: str) -> None:
    service, uow, _, recorder, user_id = setup
    with pytest.raises(ChatInputError):
        ask(service, user_id, question)
    assert uow.rows("messages") == [] and recorder.records == []


def test_a_model_failure_mid_answer_keeps_the_question_and_the_partial_answer(setup: Any) -> None:
    service, uow, runtime, recorder, user_id = setup
    runtime.fail_after = 1
    turn, text = ask(service, user_id)
    assert text == "Twenty-four "
    assert turn.error is not None and "server went away" in str(turn.error)
    assert [m.role for m in uow.rows("messages")].count("user") == 1
    assert recorder.records[-1].status == RunStatus.ERROR


def test_someone_elses_conversation_cannot_be_continued(setup: Any) -> None:
    service, uow, _, _, user_id = setup
    first, _ = ask(service, user_id)
    stranger = random_user()
    uow.seed(stranger)
    with pytest.raises(ChatInputError, match="not yours"):
        ask(service, stranger.id, "hi", conversation_id=first.conversation_id)


def test_a_prompt_without_passages_can_be_used_over_a_knowledge_base(setup: Any) -> None:
    service, _, runtime, _, user_id = setup
    turn, text = ask(service, user_id, prompt_name="plain-chat")
    assert turn.error is None and text
    assert runtime.messages[-1].content == "How long is the warranty?"  # the passages were not forced on it


def test_a_turn_emits_its_span_tree_keyed_by_the_run_id(setup: Any) -> None:
    service, _, _, recorder, user_id = setup
    turn, text = ask(service, user_id)
    root, *children = recorder.spans
    run_id = recorder.records[0].run_id
    assert {span["trace_id"] for span in recorder.spans} == {run_id}
    assert (root["kind"], root["parent_span_id"], root["session_id"]) == ("CHAIN", None, turn.conversation_id)
    assert [(c["kind"], c["parent_span_id"]) for c in children] == [("RETRIEVER", root["span_id"]),
                                                                    ("LLM", root["span_id"])]  # fmt: skip
    retriever, llm = (attributes(c) for c in children)
    assert documents_of(retriever)[0]["content"] == "The R2 arm has 24 months of warranty."
    assert documents_of(retriever)[0]["score"] == 0.8
    assert [m["role"] for m in messages_of(llm, "input")] == ["system", "user"]
    assert messages_of(llm, "output") == [{"role": "assistant", "content": text}]
    assert llm["llm.prompt_template.template"] == "rag-answer"
    assert attributes(root)["output.value"] == text
    assert children[1]["output_tokens"] == 2 and all(s["status"] == "ok" for s in recorder.spans)
    assert root["start"] <= children[0]["start"] <= children[1]["end"] <= root["end"]


def test_a_failed_model_call_marks_its_span_and_the_root_as_errors(setup: Any) -> None:
    service, _, runtime, recorder, user_id = setup
    runtime.fail_after = 1
    ask(service, user_id)
    root, _, llm = recorder.spans
    assert (root["status"], llm["status"]) == ("error", "error")
    assert "server went away" in llm["status_message"]


def test_tracing_that_fails_never_fails_the_turn(setup: Any) -> None:
    service, _, _, recorder, user_id = setup

    def broken(docs: Any) -> None:
        raise RuntimeError("writer closed")

    recorder.log_spans = broken
    turn, text = ask(service, user_id)
    assert turn.error is None and text and turn.answer is not None


def test_a_span_that_cannot_be_built_never_fails_the_turn(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.services.chat_trace import TurnTrace

    def broken(self: TurnTrace, *args: Any, **kwargs: Any) -> None:
        raise TypeError("unexpected stream")

    monkeypatch.setattr(TurnTrace, "llm", broken)
    service, _, _, recorder, user_id = setup
    turn, text = ask(service, user_id)
    assert turn.error is None and text and turn.answer is not None and recorder.spans == []
