"""Run logs, newest first, filtered as on the Run log page, a page at a time (keyset cursor)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.runlog_query import PageCursor, RunLogFilter
from workbench.domain.users import UserView
from workbench.services.runlog import RunLogUnavailable, browse_run_logs

router = APIRouter(prefix="/runlogs", tags=["run logs"])
# Times far outside what a log can carry would overflow the hourly windows the store reads by.
EARLIEST, LATEST = datetime(1970, 1, 2, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _cursor(token: str | None) -> PageCursor | None:
    if not token:
        return None
    try:
        created, _, log_id = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not EARLIEST <= moment <= LATEST or not log_id:
            raise ValueError("not a cursor")
        return PageCursor(moment, log_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, "cursor: not one this API gave (pass next_cursor from the previous page)") from exc


def _token(cursor: PageCursor | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(f"{cursor.created_at.isoformat()}|{cursor.log_id}".encode()).decode()


@router.get("", summary="Run logs, newest first; pass next_cursor back for the next page")
def list_run_logs(
    request: Request,
    kind: list[str] = Query(default=[], description="llm, retrieval, chat, eval, ..."),  # noqa: B008
    model: list[str] = Query(default=[]),  # noqa: B008
    status: list[str] = Query(default=[], description="ok, error, timeout"),  # noqa: B008
    start: datetime | None = Query(default=None, description="ISO 8601, with a zone"),  # noqa: B008
    end: datetime | None = Query(default=None),  # noqa: B008
    limit: int = Query(default=50, ge=1, le=500),
    cursor: str | None = Query(default=None, max_length=400),
    user: UserView = Depends(allowed("run_log")),  # noqa: B008
) -> dict[str, Any]:
    for name, moment in (("start", start), ("end", end)):
        if moment is not None and moment.tzinfo is None:
            raise ApiError(422, f"{name}: give a time zone (e.g. 2026-12-07T09:00:00Z)")
        if moment is not None and not EARLIEST <= moment <= LATEST:
            raise ApiError(422, f"{name}: a time between {EARLIEST:%Y} and {LATEST:%Y}")
    flt = RunLogFilter(kinds=tuple(kind), models=tuple(model), statuses=tuple(status), start=start, end=end)
    try:
        page = browse_run_logs(request.app.state.container.runlog_store, flt, _cursor(cursor), limit)
    except RunLogUnavailable as exc:
        raise ApiError(503, str(exc), {"Retry-After": "10"}) from exc
    items = []
    for log in page.items:
        document = log.to_document()
        document["id"] = document.pop("_id")
        document["created_at"] = log.created_at.isoformat()
        items.append(document)
    return {"items": items, "next_cursor": _token(page.next_cursor)}
