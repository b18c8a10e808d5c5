"""The lease rules the SQL repositories express as conditional UPDATEs, shared by the fake run repositories."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def can_claim(run: Any, owner: str, now: datetime) -> bool:
    """A run's lease can be taken when it is free, already ours, or expired."""
    return (
        run.lease_owner is None
        or run.lease_owner == owner
        or (run.lease_expires_at is not None and run.lease_expires_at < now)
    )


def renew(run: Any | None, owner: str, expires_at: datetime) -> bool:
    if run is None or run.lease_owner != owner:
        return False
    run.lease_expires_at = expires_at
    return True


def holds(run: Any, owner: str) -> bool:
    return bool(run.lease_owner == owner)
