"""The dispatch rules the SQL repositories express as conditional UPDATEs, shared by the fake run repositories."""

from __future__ import annotations

from typing import Any


def begin(run: Any | None, dispatch_id: str, **values: Any) -> bool:
    """A run takes a new dispatch only when none holds it."""
    if run is None or run.dispatch_id is not None:
        return False
    run.dispatch_id = dispatch_id
    for name, value in values.items():
        setattr(run, name, value)
    return True


def end(run: Any | None, dispatch_id: str | None, **values: Any) -> bool:
    """Clear the dispatch (record how it ended) only while `dispatch_id` holds it; None: whichever holds it."""
    if run is None or run.dispatch_id is None or (dispatch_id is not None and run.dispatch_id != dispatch_id):
        return False
    run.dispatch_id = None
    for name, value in values.items():
        setattr(run, name, value)
    return True
