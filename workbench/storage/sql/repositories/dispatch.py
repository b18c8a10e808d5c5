"""The two conditional UPDATEs that keep one dispatch per run, for playground runs and eval runs alike.

A run is worked while its `dispatch_id` is set. Beginning a dispatch sets it only where none is set, so two starts
at once cannot both win; ending one clears it only while the given dispatch still holds it, so a late task of an
old dispatch never records the end of a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session


def begin_dispatch(
    session: Session, model: Any, run_id: str, dispatch_id: str, now: datetime, values: dict[str, Any]
) -> bool:
    query = (
        update(model)
        .where(model.id == run_id, model.dispatch_id.is_(None))
        .values(dispatch_id=dispatch_id, dispatched_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]


def end_dispatch(
    session: Session, model: Any, run_id: str, dispatch_id: str | None, values: dict[str, Any]
) -> bool:  # fmt: skip
    held = model.dispatch_id.is_not(None) if dispatch_id is None else model.dispatch_id == dispatch_id
    query = (
        update(model)
        .where(model.id == run_id, held)
        .values(dispatch_id=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]
