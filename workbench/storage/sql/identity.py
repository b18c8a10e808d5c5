"""The id of the database a process is connected to (see models/identity.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workbench.storage.sql.models import DatabaseIdentityRow


def database_id_of(session_factory: sessionmaker[Session]) -> str:
    """This database's id: the one its migration made, or (a schema made without the migrations) one made now."""
    with session_factory() as session:
        row = session.get(DatabaseIdentityRow, 1)
        if row is not None:
            return row.id
        session.add(DatabaseIdentityRow(singleton=1, id=uuid.uuid4().hex, created_at=datetime.now(UTC)))
        try:
            session.commit()
        except IntegrityError:  # another process made it first: theirs counts
            session.rollback()
        row = session.get(DatabaseIdentityRow, 1, populate_existing=True)
        assert row is not None
        return row.id
