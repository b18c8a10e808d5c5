"""Types of what a page hands its view besides services."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.storage.ports import UnitOfWork

# A fresh unit of work per call, for the services that take one per user event (users, chat answers to label).
UnitOfWorkFactory = Callable[[], "UnitOfWork"]
