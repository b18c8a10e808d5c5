"""What a contract test is given: one backend's units of work, a way to seed it, and the error it raises on a clash."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from workbench.storage.conflicts import is_unique_violation
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import Base

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A fixed moment `minutes` after T0: orderings in these tests never rest on two rows made at once."""
    return T0 + timedelta(minutes=minutes)


@dataclass
class Backend:
    """One backend under contract: units of work over one store, a way to seed it, and its integrity error."""

    name: str
    make_uow: Callable[[], UnitOfWork]
    seed_rows: Callable[[tuple[Base, ...]], None]
    integrity_error: type[Exception]

    def seed(self, *rows: Base) -> None:
        """Store rows as committed, in the given order (parents first), without going through a repository."""
        self.seed_rows(rows)

    def conflict(self) -> pytest.RaisesExc[Exception]:
        """Expect a unique-key conflict, as services see it (`is_unique_violation` on the raised error)."""
        return pytest.raises(self.integrity_error, check=is_unique_violation)
