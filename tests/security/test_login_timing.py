"""A wrong username costs the same work as a wrong password: one Argon2id check each (benchmarks/login_timing.py
gives the times). The lockout after repeated failures is unchanged and counts unknown usernames too."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from workbench.domain.users import Role
from workbench.security.throttle import LoginThrottle
from workbench.services import users as user_service
from workbench.storage.sql.uow import SqlUnitOfWork

MakeUow = Callable[[], SqlUnitOfWork]
PASSWORD = "the-right-password-1"


@pytest.mark.parametrize("username", ["alice", "nobody-here", "!! not a name"], ids=["wrong", "unknown", "invalid"])
def test_every_miss_checks_one_hash(make_uow: MakeUow, monkeypatch: pytest.MonkeyPatch, username: str) -> None:
    user_service.create_user(make_uow(), "alice", PASSWORD, Role.ANALYST)
    checked: list[str] = []
    real = user_service.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(user_service, "verify_password", counting)
    assert user_service.authenticate(make_uow(), username, "wrong-password-0") is None
    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$")


def test_the_lockout_treats_an_unknown_username_like_a_known_one() -> None:
    now = [0.0]
    throttle = LoginThrottle(max_failures=3, base_lock_s=30, clock=lambda: now[0])
    for name in ("alice", "nobody-here"):
        for _ in range(3):
            throttle.failed(name)
        assert throttle.seconds_locked(name) == 30
    now[0] = 31
    assert throttle.seconds_locked("nobody-here") == 0
