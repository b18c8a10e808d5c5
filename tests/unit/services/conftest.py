from __future__ import annotations

import pytest

from tests.fakes import FakeUnitOfWork


@pytest.fixture(autouse=True)
def _fast_hashing(fast_password_hashing: None) -> None:
    """Service tests hash many passwords; the cheap Argon2 parameters keep them fast."""


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()
