"""The rows a fake unit of work holds, table by table, and the schema rules the database would apply to them.

Unique keys, column defaults and ON DELETE actions are read from `Base.metadata`, so a constraint added to a model
reaches the fake without anyone copying it here. Foreign keys are not checked (service tests seed only the rows
they need) and neither are CHECK constraints (they are SQL text); the SQL contract tests cover both.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from sqlalchemy import UniqueConstraint
from sqlalchemy import inspect as sa_inspect

from workbench.storage.sql.models import Base

RowT = TypeVar("RowT", bound=Base)

MODELS: dict[str, type[Base]] = {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers}


class FakeIntegrityError(Exception):
    """What the fake raises where the database would raise sqlalchemy.exc.IntegrityError; the message names a
    unique constraint the way the databases do, so `is_unique_violation` reads it the same way."""


def _attribute(model: type[Base], column: Any) -> str:
    return sa_inspect(model).get_property_by_column(column).key


def _unique_keys() -> dict[str, list[tuple[str, ...]]]:
    """table -> the attributes of each unique constraint (column `unique=True` included)."""
    return {
        name: [
            tuple(_attribute(MODELS[name], column) for column in constraint.columns)
            for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint)
        ]
        for name, table in Base.metadata.tables.items()
    }


def _references() -> dict[str, list[tuple[str, str, str | None]]]:
    """table -> (child table, child attribute, ON DELETE action) of every foreign key pointing at its id."""
    found: dict[str, list[tuple[str, str, str | None]]] = {name: [] for name in Base.metadata.tables}
    for name, table in Base.metadata.tables.items():
        for key in table.foreign_keys:
            found[key.column.table.name].append((name, _attribute(MODELS[name], key.parent), key.ondelete))
    return found


UNIQUE_KEYS = _unique_keys()
REFERENCES = _references()


def copy_row(row: RowT) -> RowT:
    """A detached copy holding the same column values (relationships are not copied, JSON values are)."""
    mapper = sa_inspect(type(row))
    values = {attr.key: copy.deepcopy(getattr(row, attr.key)) for attr in mapper.column_attrs}
    return type(row)(**values)


def with_defaults(row: RowT) -> RowT:
    """Fill unset columns with their Python-side defaults, as a flush does (ids, timestamps, statuses, counts)."""
    for attr in sa_inspect(type(row)).column_attrs:
        default = attr.columns[0].default
        if default is not None and getattr(row, attr.key) is None:
            setattr(row, attr.key, default.arg(None) if default.is_callable else default.arg)
    return row


class Table:
    """The rows of one table, by id."""

    def __init__(self, rows: Mapping[str, Any]) -> None:
        self.rows: dict[str, Any] = dict(rows)

    def add(self, row: Any) -> None:
        if self.rows.get(row.id) is row:
            return  # already here: adding a row read in this transaction changes nothing, as in a session
        if row.id in self.rows:
            raise FakeIntegrityError(f"UNIQUE constraint failed: {row.__tablename__}.id = {row.id}")
        self.rows[row.id] = row

    def get(self, row_id: str) -> Any:
        return self.rows.get(row_id)

    def remove(self, row_id: str) -> None:
        self.rows.pop(row_id, None)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self.rows.values()))  # a copy: callers may delete while they iterate


class Tables:
    """What one transaction sees: working copies of the committed rows, one `Table` per SQL table."""

    def __init__(self, committed: Mapping[str, Mapping[str, Base]]) -> None:
        self._tables = {
            name: Table({row_id: copy_row(row) for row_id, row in committed.get(name, {}).items()})
            for name in Base.metadata.tables
        }

    def __getitem__(self, name: str) -> Table:
        return self._tables[name]

    def add(self, row: Base) -> None:
        self[row.__tablename__].add(with_defaults(row))

    def get(self, model: type[RowT], row_id: str) -> RowT | None:
        found: RowT | None = self[model.__tablename__].get(row_id)
        return found

    def where(self, model: type[RowT], test: Callable[[RowT], bool] | None = None, **equal: Any) -> list[RowT]:
        """The rows of `model` whose attributes equal `equal` and that pass `test`, in no particular order."""
        return [
            row
            for row in self[model.__tablename__]
            if all(getattr(row, key) == value for key, value in equal.items()) and (test is None or test(row))
        ]

    def first(self, model: type[RowT], **equal: Any) -> RowT | None:
        return next(iter(self.where(model, **equal)), None)

    def delete(self, row: Base) -> None:
        """Delete a row and apply the ON DELETE action of every foreign key pointing at it."""
        name = row.__tablename__
        self[name].remove(row.id)  # type: ignore[attr-defined]
        for child_table, attribute, action in REFERENCES[name]:
            for child in self[child_table]:
                if getattr(child, attribute) != row.id:  # type: ignore[attr-defined]
                    continue
                if action == "CASCADE":
                    self.delete(child)
                elif action == "SET NULL":
                    setattr(child, attribute, None)

    def check_unique(self) -> None:
        """Raise FakeIntegrityError on the first unique key two rows share (NULLs never clash, as in SQL)."""
        for name, keys in UNIQUE_KEYS.items():
            for key in keys:
                seen: set[tuple[Any, ...]] = set()
                for row in self[name]:
                    value = tuple(getattr(row, attribute) for attribute in key)
                    if None in value:
                        continue
                    if value in seen:
                        raise FakeIntegrityError(f"UNIQUE constraint failed: {name} {key} = {value}")
                    seen.add(value)

    def snapshot(self) -> dict[str, dict[str, Base]]:
        """Copies of every row, to become the committed state."""
        return {
            name: {row_id: copy_row(row) for row_id, row in table.rows.items()} for name, table in self._tables.items()
        }
