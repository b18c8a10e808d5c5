"""The security suite's figures, printed at the end of the run (pytest's terminal summary)."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import api_world  # noqa: F401 - the API over real stores, a key per role
from tests.integration.conftest import db_url  # noqa: F401 - SQLite, then PostgreSQL

FIGURES: dict[str, Any] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if "templates" in FIGURES:
        refused, total, slowest = FIGURES["templates"]
        terminalreporter.write_line(
            f"template abuse: {refused} of {total} payloads refused, the rest rendered without Python's insides; "
            f"slowest {slowest * 1000:.0f} ms (the budget: 2 s)"
        )
