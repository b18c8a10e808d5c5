"""Feedback from an application's own users: on an answer the workbench gave (thumbs and a comment, kept with the
message in SQL, where labelling finds it), or on a trace the application sent (thumbs, a score and a comment, kept
beside its spans)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, model_validator

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.users import UserView
from workbench.services.conversations import ConversationError, record_feedback
from workbench.services.traces import TraceError

router = APIRouter(prefix="/feedback", tags=["feedback"])


class FeedbackIn(BaseModel):
    message_id: str | None = Field(default=None, min_length=1, max_length=64, description="an answer's message id")
    trace_id: str | None = Field(default=None, min_length=1, max_length=64, description="a stored trace's id")
    rating: Literal[1, -1] | None = Field(default=None, description="1: thumbs up, -1: thumbs down")
    score: float | None = Field(default=None, ge=0, le=1, description="a trace's score from 0 to 1")
    comment: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def one_target(self) -> FeedbackIn:
        if (self.message_id is None) == (self.trace_id is None):
            raise ValueError("give either message_id (an answer of the workbench) or trace_id (a trace you sent)")
        if self.message_id is not None and (self.rating is None or self.score is not None):
            raise ValueError("an answer's feedback is a rating (1 or -1) and an optional comment, without a score")
        return self


@router.post("", status_code=201, summary="Rate an answer or a trace; a second rating by the same user replaces it")
def give_feedback(
    feedback: FeedbackIn,
    request: Request,
    user: UserView = Depends(allowed("chat")),  # noqa: B008
) -> dict[str, str]:
    container = request.app.state.container
    if feedback.trace_id is not None:
        try:
            feedback_id = container.trace_reader.give_feedback(
                feedback.trace_id, user.id, rating=feedback.rating, score=feedback.score, comment=feedback.comment
            )
        except TraceError as exc:
            raise ApiError(404, str(exc)) from exc
        except ValueError as exc:
            raise ApiError(422, str(exc)) from exc
        return {"id": feedback_id}
    assert feedback.message_id is not None and feedback.rating is not None  # one_target made sure
    try:
        feedback_id = record_feedback(container.uow(), feedback.message_id, user.id, feedback.rating, feedback.comment)
    except ConversationError as exc:
        raise ApiError(404 if "no longer exists" in str(exc) else 422, str(exc)) from exc
    return {"id": feedback_id}
