"""Chat for other programs: an answer over a knowledge base with its citations, whole or streamed as server-sent
events, and the caller's conversations. The same ChatService as the Chat page: stored, run-logged, rateable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.users import UserView
from workbench.llm.errors import ModelNotConfigured
from workbench.services.chat import MAX_QUESTION_CHARS, ChatFailed, ChatInputError, ChatRequest, ChatTurn

router = APIRouter(tags=["chat"])
chatter = allowed("chat")


class ChatIn(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    knowledge_base: str | None = Field(default=None, max_length=100, description="none: plain chat")
    model: str | None = Field(default=None, max_length=100, description="default: llm.default_model")
    conversation_id: str | None = Field(default=None, max_length=64, description="continue one of yours")
    max_tokens: int | None = Field(default=None, ge=1, le=8192)
    stream: bool = Field(default=False, description="server-sent events: citations, delta..., done or error")


def _ask(request: Request, user: UserView, ask: ChatIn) -> ChatTurn:
    container = request.app.state.container
    model = ask.model or container.settings.llm.default_model
    try:
        container.llm_runtime.catalog.get(model)
    except ModelNotConfigured as exc:
        raise ApiError(422, str(exc)) from exc
    chat_request = ChatRequest(
        user_id=user.id, question=ask.question, model_id=model, knowledge_base=ask.knowledge_base,
        conversation_id=ask.conversation_id, max_tokens=ask.max_tokens, channel="api",
    )  # fmt: skip
    try:
        return container.chat.ask(chat_request)  # type: ignore[no-any-return]
    except ChatInputError as exc:
        raise ApiError(422, str(exc)) from exc
    except ChatFailed as exc:
        raise ApiError(502, str(exc)) from exc


def _done(turn: ChatTurn) -> dict[str, Any]:
    answer = turn.answer
    return {
        "conversation_id": turn.conversation_id,
        "question_id": turn.question.id,
        "message_id": answer.id if answer else None,
        "answer": answer.content if answer else "",
        "citations": turn.citations,
        "model": answer.model if answer else None,
        "latency_ms": answer.latency_ms if answer else None,
        "output_tokens": answer.output_tokens if answer else None,
        "timed_out": turn.timed_out,
    }


def _events(turn: ChatTurn) -> Iterator[str]:
    def event(name: str, data: Any) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    yield event("citations", turn.citations)
    for delta in turn:
        yield event("delta", {"text": delta})
    if turn.error is not None:
        yield event("error", {"message": str(turn.error), **_done(turn)})
    else:
        yield event("done", _done(turn))


@router.post("/chat", summary="Answer a question (with citations from a knowledge base); stream=true for SSE")
def chat(ask: ChatIn, request: Request, user: UserView = Depends(chatter)) -> Any:  # noqa: B008
    turn = _ask(request, user, ask)
    if ask.stream:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # proxies: pass each event on at once
        return StreamingResponse(_events(turn), media_type="text/event-stream", headers=headers)
    for _ in turn:
        pass
    if turn.error is not None:
        raise ApiError(502, f"{turn.error} (the question and any partial answer are kept in {turn.conversation_id})")
    return _done(turn)


@router.get("/conversations", summary="Your conversations, most recently active first")
def list_conversations(
    request: Request,
    limit: int = Query(default=30, ge=1, le=200),
    user: UserView = Depends(chatter),  # noqa: B008
) -> list[dict[str, Any]]:
    views = request.app.state.container.chat.conversations(user.id, limit)
    return [{**asdict(view), "updated_at": view.updated_at.isoformat()} for view in views]


@router.get("/conversations/{conversation_id}/messages", summary="One of your conversations, message by message")
def messages(conversation_id: str, request: Request, user: UserView = Depends(chatter)) -> list[dict[str, Any]]:  # noqa: B008
    try:
        views = request.app.state.container.chat.transcript(user.id, conversation_id)
    except ChatInputError as exc:
        raise ApiError(404, str(exc)) from exc
    return [{**asdict(view), "created_at": view.created_at.isoformat()} for view in views]
