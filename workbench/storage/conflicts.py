"""Telling a unique-key conflict apart from other database errors, the same way on SQLite and PostgreSQL."""

from __future__ import annotations


def is_unique_violation(exc: BaseException) -> bool:
    """A unique-key conflict (an IntegrityError from either backend): someone did the same thing a moment earlier."""
    text = str(exc).lower()
    return "unique" in text or "duplicate key" in text
