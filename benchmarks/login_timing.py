"""Sign-in timing: does a wrong username cost what a wrong password costs?

A sign-in that answered faster for an unknown username than for a known one with a wrong password would tell an
attacker which usernames exist. `services.users.authenticate` checks the password against a dummy Argon2id hash when
the user is unknown (or the name is not even a valid username), so all three misses do one hash check. Measured over
a real migrated SQLite database with production hashing parameters, interleaved round by round so machine noise
falls on every case alike; the bare baseline is one `verify_password` call with no database.

    .venv/bin/python benchmarks/login_timing.py [--rounds N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import emit, median, say

from workbench.domain.users import Role
from workbench.security.passwords import hash_password, verify_password
from workbench.services import users as user_service
from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.uow import SqlUnitOfWork

PASSWORD = "the-right-password-1"
RATIO_BAND = (0.8, 1.25)  # unknown user / wrong password: within this band, the two are indistinguishable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-login-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'workbench.db'}"
        migrate.upgrade(url)
        engine = build_engine(url)
        factory = build_session_factory(engine)
        uow = lambda: SqlUnitOfWork(factory)  # noqa: E731
        user_service.create_user(uow(), "alice", PASSWORD, Role.ANALYST)
        stored = hash_password(PASSWORD)
        cases: dict[str, Callable[[], object]] = {
            "bare_verify": lambda: verify_password(stored, "wrong-password-0"),
            "wrong_password": lambda: user_service.authenticate(uow(), "alice", "wrong-password-0"),
            "unknown_user": lambda: user_service.authenticate(uow(), "nobody-here", "wrong-password-0"),
            "invalid_username": lambda: user_service.authenticate(uow(), "!!", "wrong-password-0"),
            "right_password": lambda: user_service.authenticate(uow(), "alice", PASSWORD),
        }
        for call in cases.values():  # warm the engine, the hasher and the caches
            call()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for round_ in range(args.rounds):
            order = list(cases.items())
            order = order[round_ % len(order) :] + order[: round_ % len(order)]  # rotate who goes first
            for name, call in order:
                started = time.perf_counter()
                call()
                times[name].append((time.perf_counter() - started) * 1000)
        engine.dispose()
    p50 = {name: median(values) for name, values in times.items()}
    for name, value in p50.items():
        say(f"{name:17s} p50 {value:7.1f} ms")
    unknown = p50["unknown_user"] / p50["wrong_password"]
    invalid = p50["invalid_username"] / p50["wrong_password"]
    say(f"unknown user / wrong password {unknown:.3f}; invalid username / wrong password {invalid:.3f} "
        f"(indistinguishable within {RATIO_BAND[0]}–{RATIO_BAND[1]})")  # fmt: skip
    emit({
        "bench": "login_timing",
        "unknown_vs_wrong_ratio": round(unknown, 3),
        "invalid_vs_wrong_ratio": round(invalid, 3),
        "wrong_vs_bare_ratio": round(p50["wrong_password"] / p50["bare_verify"], 3),
        "wrong_password_p50_ms": round(p50["wrong_password"], 1),
        "unknown_user_p50_ms": round(p50["unknown_user"], 1),
        "within_band": RATIO_BAND[0] <= unknown <= RATIO_BAND[1] and RATIO_BAND[0] <= invalid <= RATIO_BAND[1],
    })  # fmt: skip


if __name__ == "__main__":
    main()
