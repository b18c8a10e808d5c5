"""The workbench's messages: one turn's list (system, history, user) and its LlamaIndex form."""

from __future__ import annotations

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from tests.unit.llm.conftest import FakeLLM, chunk
from workbench.llm.messages import Message, Role, prompt_messages, to_llama_index
from workbench.llm.streaming import stream_chat


def test_a_turn_is_system_then_history_then_the_question() -> None:
    history = [Message(Role.USER, "Warranty?"), Message(Role.ASSISTANT, "Two years.")]
    assert prompt_messages("Be brief.", "And the M1?", history) == [
        Message(Role.SYSTEM, "Be brief."),
        *history,
        Message(Role.USER, "And the M1?"),
    ]


def test_a_blank_system_message_is_left_out() -> None:
    assert prompt_messages("", "Hi") == prompt_messages(" \n", "Hi") == [Message(Role.USER, "Hi")]


def test_roles_compare_equal_to_their_names() -> None:
    assert [m.role for m in prompt_messages("s", "u")] == ["system", "user"]


def test_the_llm_is_sent_llama_index_messages_with_the_same_roles_and_text() -> None:
    messages = prompt_messages("Be brief.", "Capital of France?", [Message(Role.ASSISTANT, "Hello.")])
    assert to_llama_index(messages) == [
        ChatMessage(role=MessageRole.SYSTEM, content="Be brief."),
        ChatMessage(role=MessageRole.ASSISTANT, content="Hello."),
        ChatMessage(role=MessageRole.USER, content="Capital of France?"),
    ]
    llm = FakeLLM([chunk("Paris")])
    assert "".join(stream_chat(llm, messages, provider="local", model="m")) == "Paris"
    assert llm.calls == [to_llama_index(messages)]
