"""Health (no key needed: for load balancers and compose) and who the key signs in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from workbench.api.auth import current_user
from workbench.domain.users import UserView

router = APIRouter(tags=["system"])


@router.get("/health", summary="The API answers")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/me", summary="The user an API key signs in")
def me(user: UserView = Depends(current_user)) -> dict[str, Any]:  # noqa: B008 - FastAPI's dependency idiom
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role}
