"""The security suite's figures, printed at the end of the run (pytest's terminal summary)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import app_env  # noqa: F401 - the app over an isolated environment, an admin signed up
from tests.integration.api.conftest import api_world  # noqa: F401 - the API over real stores, a key per role
from tests.integration.conftest import db_url, engine, make_uow  # noqa: F401 - SQLite, then PostgreSQL, migrated
from tests.integration.rag.conftest import (  # noqa: F401 - the real embedder, Chroma in tmp_path, SQLite
    counting,
    make_engine,
    minilm,
    sqlite_engine,
)

FIGURES: dict[str, Any] = {}


def tally_upload(entry: str, case: str, *, refused: bool) -> None:
    """Count one bad file at one entry point: refused with a reason that says what it must, or not."""
    FIGURES.setdefault("uploads", {})[(entry, case)] = refused


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if "templates" in FIGURES:
        refused, total, slowest = FIGURES["templates"]
        terminalreporter.write_line(
            f"template abuse: {refused} of {total} payloads refused, the rest rendered without Python's insides; "
            f"slowest {slowest * 1000:.0f} ms (the budget: 2 s)"
        )
    if "uploads" in FIGURES:
        outcomes: dict[tuple[str, str], bool] = FIGURES["uploads"]
        entries: dict[str, list[bool]] = {}
        for (entry, _), refused in outcomes.items():
            entries.setdefault(entry, []).append(refused)
        each = ", ".join(f"{entry} {sum(seen)}/{len(seen)}" for entry, seen in entries.items())
        terminalreporter.write_line(
            f"uploads: {sum(outcomes.values())} of {len(outcomes)} bad files refused with a reason ({each})"
        )
