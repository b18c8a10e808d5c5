"""The messages a model is sent: the workbench's own small type, turned into LlamaIndex's only inside workbench.llm.

Services, the playground and evaluation build `Message` lists with `prompt_messages` and hand them to
`LLMRuntime.stream_chat`; none of them imports llama_index to talk to a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llama_index.core.base.llms.types import ChatMessage


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


def prompt_messages(system: str, user: str, history: Sequence[Message] = ()) -> list[Message]:
    """The list a model gets for one turn: the system message (left out when blank), earlier turns, the user's."""
    messages = [Message(Role.SYSTEM, system)] if system.strip() else []
    messages.extend(history)
    messages.append(Message(Role.USER, user))
    return messages


def to_llama_index(messages: Sequence[Message]) -> list[ChatMessage]:
    """The same messages as LlamaIndex's ChatMessage, for its LLMs."""
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    return [ChatMessage(role=MessageRole(message.role.value), content=message.content) for message in messages]
