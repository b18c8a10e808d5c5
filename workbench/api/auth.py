"""Who calls: an API key (`Authorization: Bearer wbk_...`, or `X-API-Key`), checked on every request, and the role
each route needs (the same table the pages use). Each key has its own request budget per minute."""

from __future__ import annotations

import math
from collections.abc import Callable

from fastapi import Depends, Request

from workbench.api.errors import ApiError
from workbench.domain.access import can_do, can_open
from workbench.domain.users import UserView
from workbench.services.api_keys import ApiKeyRefused, authenticate_key, digest

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="workbench"'}


def _presented_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.headers.get("x-api-key"):
        return request.headers["x-api-key"].strip()
    raise ApiError(401, "no API key: send `Authorization: Bearer <key>` (make a key on the Account page)", _CHALLENGE)


def current_user(request: Request) -> UserView:
    secret = _presented_key(request)
    state = request.app.state
    limiter = state.rate_limiter
    bucket = digest(secret)  # per key; unknown keys share their own buckets and are refused below anyway
    if not limiter.allow(bucket):
        wait = max(1, math.ceil(limiter.retry_after_s(bucket)))
        raise ApiError(429, f"too many requests with this key: wait {wait} s", {"Retry-After": str(wait)})
    try:
        return authenticate_key(state.container.uow(), secret)
    except ApiKeyRefused as exc:
        raise ApiError(401, str(exc), _CHALLENGE) from exc


def _role_check(permits: Callable[[str], bool], refusal: str) -> Callable[[UserView], UserView]:
    def check(user: UserView = Depends(current_user)) -> UserView:  # noqa: B008 - FastAPI's dependency idiom
        if not permits(user.role):
            raise ApiError(403, f"the role {user.role} may not {refusal}")
        return user

    return check


def allowed(page: str) -> Callable[[UserView], UserView]:
    """A dependency: the caller, if their role may use what the page of that name shows (README's role table)."""
    return _role_check(lambda role: can_open(role, page), f"use this route (it needs what the {page} page needs)")


def may(action: str) -> Callable[[UserView], UserView]:
    """A dependency: the caller, if their role may do `action` (domain/access.py ACTION_ROLES)."""
    return _role_check(lambda role: can_do(role, action), action.replace("_", " "))
