"""Eval datasets: list them, and add items (given, or made from stored traces) as a new version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.users import UserView
from workbench.evaluation.datasets import MAX_CONTEXTS, MAX_QUESTION_CHARS, DatasetVersion, EvalDatasetError
from workbench.services.traces import TraceError

router = APIRouter(prefix="/eval-datasets", tags=["evaluation"])
MAX_ITEMS = 10_000


class ItemIn(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    reference_answer: str | None = Field(default=None, max_length=100_000)
    reference_contexts: list[str] = Field(default_factory=list, max_length=MAX_CONTEXTS)
    tags: list[str] = Field(default_factory=list, max_length=50)


class ItemsIn(BaseModel):
    items: list[ItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    traces: list[str] = Field(
        default_factory=list, max_length=1_000,
        description="trace ids: each becomes an item (its question, its answer as the reference to check, the "
        "passages it retrieved as reference contexts)",
    )  # fmt: skip
    replace: bool = Field(default=False, description="the new version holds only these items (default: appended)")
    note: str = Field(default="", max_length=500)


def _version(version: DatasetVersion) -> dict[str, Any]:
    return {"name": version.name, "version": version.version, "items": version.item_count, "source": version.source,
            "note": version.note, "created_by": version.created_by,
            "created_at": version.created_at.isoformat()}  # fmt: skip


@router.get("", summary="Every eval dataset's latest version")
def datasets(request: Request, user: UserView = Depends(allowed("eval_datasets"))) -> list[dict[str, Any]]:  # noqa: B008
    return [_version(v) for v in request.app.state.container.eval_datasets.datasets()]


@router.post("/{name}/items", status_code=201, summary="Add items as a new version (made when the name is new)")
def add_items(
    name: str,
    body: ItemsIn,
    request: Request,
    user: UserView = Depends(allowed("eval_datasets")),  # noqa: B008
) -> dict[str, Any]:
    container = request.app.state.container
    items = [item.model_dump() for item in body.items]
    try:
        items += [container.trace_reader.eval_item(trace_id) for trace_id in body.traces]
    except TraceError as exc:
        raise ApiError(404, str(exc)) from exc
    if not items:
        raise ApiError(422, "send at least one item or trace id")
    service = container.eval_datasets
    try:
        if body.replace:
            report = service.import_items(name, items, source="api", actor=user.username, note=body.note)
        else:
            report = service.append_items(name, items, source="api", actor=user.username, note=body.note)
    except EvalDatasetError as exc:
        raise ApiError(422, str(exc)) from exc
    return {**_version(report.version), "unchanged": report.unchanged,
            "rejected": [{"where": r.where, "reason": r.reason} for r in report.rejected]}  # fmt: skip
