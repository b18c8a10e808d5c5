"""Feedback from an application's own users on an answer the workbench gave (thumbs and a comment)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.users import UserView
from workbench.services.conversations import ConversationError, record_feedback

router = APIRouter(prefix="/feedback", tags=["feedback"])


class FeedbackIn(BaseModel):
    message_id: str = Field(min_length=1, max_length=64, description="the answer's message id")
    rating: Literal[1, -1] = Field(description="1: thumbs up, -1: thumbs down")
    comment: str | None = Field(default=None, max_length=4000)


@router.post("", status_code=201, summary="Rate an answer; a second rating by the same key's user replaces it")
def give_feedback(
    feedback: FeedbackIn,
    request: Request,
    user: UserView = Depends(allowed("chat")),  # noqa: B008
) -> dict[str, str]:
    try:
        feedback_id = record_feedback(
            request.app.state.container.uow(), feedback.message_id, user.id, feedback.rating, feedback.comment
        )
    except ConversationError as exc:
        raise ApiError(404 if "no longer exists" in str(exc) else 422, str(exc)) from exc
    return {"id": feedback_id}
