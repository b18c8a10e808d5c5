"""Which database this is: one row with an id made when the schema was created. Processes that must share a
database (the app and its queue workers) compare ids, so a worker pointed at another database says so instead of
reporting every run it is sent as missing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workbench.storage.sql.models.base import Base, UTCDateTime


class DatabaseIdentityRow(Base):
    __tablename__ = "database_identity"

    # Always 1: a second row cannot be inserted, so two processes making the id at once agree on the first one.
    singleton: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
