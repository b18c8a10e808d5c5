"""Annotation queues: list them, and add stored traces to one as items to label."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.users import UserView
from workbench.labelling.sources import trace_item
from workbench.labelling.views import Actor, LabellingError, LabellingForbidden
from workbench.services.traces import TraceError

router = APIRouter(prefix="/annotation-queues", tags=["labelling"])


class TracesIn(BaseModel):
    traces: list[str] = Field(min_length=1, max_length=1_000, description="trace ids to label, one item each")


def _actor(user: UserView) -> Actor:
    return Actor(user.id, user.username, user.role)


@router.get("", summary="The queues the caller may see (reviewers: every queue; annotators: their own)")
def queues(request: Request, user: UserView = Depends(allowed("labelling"))) -> list[dict[str, Any]]:  # noqa: B008
    return [{"id": q.id, "name": q.name, "status": q.status, "rubric": q.rubric.name,
             "annotators_per_item": q.annotators_per_item, "members": q.members}
            for q in request.app.state.container.label_queues.queues(_actor(user))]  # fmt: skip


@router.post("/{queue_id}/items", status_code=201, summary="Add traces as items; a trace already there is skipped")
def add_items(
    queue_id: str,
    body: TracesIn,
    request: Request,
    user: UserView = Depends(allowed("review")),  # noqa: B008
) -> dict[str, int]:
    container = request.app.state.container
    try:
        drafts = [trace_item(container.trace_reader.tree(trace_id)) for trace_id in dict.fromkeys(body.traces)]
    except TraceError as exc:
        raise ApiError(404, str(exc)) from exc
    try:
        added, already = container.label_queues.add_items(_actor(user), queue_id, drafts)
    except LabellingForbidden as exc:
        raise ApiError(403, str(exc)) from exc
    except LabellingError as exc:
        raise ApiError(404 if "does not exist" in str(exc) else 422, str(exc)) from exc
    return {"added": added, "already_there": already}
