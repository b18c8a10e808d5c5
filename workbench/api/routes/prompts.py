"""Prompts for applications at run time: a version by label (`production`) or number, raw or rendered. A GET
carries an ETag (the content's SHA-256), so a client that polls sends If-None-Match and gets 304 until it changes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.users import UserView
from workbench.prompting.errors import TemplateError, VariableErrors
from workbench.prompting.registry import PromptRegistry
from workbench.prompting.versions import PromptNotFound, PromptVersion

router = APIRouter(prefix="/prompts", tags=["prompts"])
reader = allowed("prompts")


class RenderRequest(BaseModel):
    variables: dict[str, Any] = Field(default_factory=dict, description="a value for each variable the prompt uses")
    label: str | None = Field(default=None, description="e.g. production; default: production, else the latest")
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)


def _registry(request: Request) -> PromptRegistry:
    registry: PromptRegistry = request.app.state.container.prompts
    return registry


def _find(registry: PromptRegistry, name: str, label: str | None, version: int | None) -> PromptVersion:
    if label is not None and version is not None:
        raise ApiError(422, "ask by label or by version, not both")
    try:
        if label is not None or version is not None:
            return registry.get(name, label if label is not None else version)
        return registry.labelled(name)  # production, as chat answers with it; the latest while none is set
    except PromptNotFound as exc:
        raise ApiError(404, str(exc)) from exc


def _body(found: PromptVersion) -> dict[str, Any]:
    template = found.template
    return {
        "name": found.name, "version": found.version, "labels": list(found.labels), "sha256": found.content_sha256,
        "content": found.content, "system": template.system, "body": template.body,
        "variables": template.required_variables(), "created_at": found.created_at.isoformat(),
    }  # fmt: skip


@router.get("", summary="Every prompt: its newest version and labels")
def list_prompts(request: Request, user: UserView = Depends(reader)) -> list[dict[str, Any]]:  # noqa: B008
    return [
        {"name": s.name, "latest_version": s.latest_version, "labels": dict(s.labels)}
        for s in _registry(request).summaries()
    ]


@router.get("/{name}", summary="One version, raw: by label or number (default: production, else the latest)")
def get_prompt(
    name: str,
    request: Request,
    response: Response,
    label: str | None = Query(default=None, max_length=64),
    version: int | None = Query(default=None, ge=1, le=2**31 - 1),
    user: UserView = Depends(reader),  # noqa: B008
) -> Any:
    found = _find(_registry(request), name, label, version)
    etag = f'"{found.content_sha256}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"  # cache it, and ask again (cheaply, with the ETag)
    return _body(found)


@router.post("/{name}/render", summary="One version rendered with the given variables")
def render_prompt(
    name: str,
    ask: RenderRequest,
    request: Request,
    user: UserView = Depends(reader),  # noqa: B008
) -> dict[str, Any]:
    found = _find(_registry(request), name, ask.label, ask.version)
    try:
        system, user_message = found.template.render(**ask.variables)
    except VariableErrors as exc:
        raise ApiError(422, str(exc)) from exc
    except TemplateError as exc:
        raise ApiError(422, f"the prompt does not render: {exc}") from exc
    return {"name": found.name, "version": found.version, "system": system, "user": user_message}
