"""Datasets for the prompt playground: a table (see workbench.tabular) whose columns fill a template's variables.

The shipped tables under `datasets/` are listed here, and a template's variables are mapped onto a table's columns.
Reading the file itself is workbench.tabular's job, shared with eval datasets; its names are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from workbench.tabular import (
    MAX_BYTES,
    MAX_ROWS,
    TABLE_SUFFIXES,
    DatasetError,
    Table,
    datasets_dir,
    format_size,
    load_table,
)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "TABLE_SUFFIXES",
    "DatasetError",
    "DatasetInfo",
    "MappingError",
    "Table",
    "check_mapping",
    "datasets_dir",
    "list_datasets",
    "load_dataset",
    "load_table",
    "require_mapping",
    "row_values",
    "suggest_mapping",
]

CORPUS_FOLDER = "sample-corpus"  # knowledge-base documents, not tables (its spare-parts.csv is one document per row)
_SYNONYMS = (
    ("question", "query", "prompt", "input", "q"),
    ("context", "contexts", "passages", "passage", "document", "documents"),
    ("answer", "reference", "expected", "groundtruth"),
)


class MappingError(DatasetError):
    """Template variables without a usable column; `errors` maps each such variable to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    name: str  # path relative to the datasets folder, posix style: what load_dataset takes
    size: int  # bytes
    path: Path

    @property
    def format(self) -> str:
        return self.path.suffix.lower().lstrip(".")


def list_datasets(directory: Path | None = None) -> list[DatasetInfo]:
    """The tables under the datasets folder (recursive), sorted by name; the sample corpus and READMEs are left out."""
    root = directory or datasets_dir()
    if not root.is_dir():
        return []
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and _is_table(relative):
            found.append(DatasetInfo(relative.as_posix(), path.stat().st_size, path))
    return sorted(found, key=lambda info: info.name)


def load_dataset(
    name: str, directory: Path | None = None, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Table:
    """The shipped table `name` (as listed by list_datasets); paths that leave the datasets folder are refused."""
    root = (directory or datasets_dir()).resolve()
    relative = PurePosixPath(name.replace("\\", "/"))
    if not name.strip() or relative.is_absolute() or re.match(r"[A-Za-z]:", name) or ".." in relative.parts:
        raise DatasetError(f"'{name}' is not a dataset name. Use a name from the list, such as 'playground/x.csv'.")
    path = (root / relative).resolve()
    if not path.is_relative_to(root):  # a symlink pointing out of the folder
        raise DatasetError(f"'{name}' points outside the datasets folder. Use a name from the list.")
    if not _is_table(PurePosixPath(path.relative_to(root).as_posix())) or not path.is_file():
        raise DatasetError(f"No dataset named '{name}' in {root}. Pick one from the list or upload the file.")
    size = path.stat().st_size
    if size > max_bytes:  # refuse before reading the whole file into memory
        raise DatasetError(
            f"The file is {format_size(size)}; the limit is {format_size(max_bytes)}. Split it into smaller files."
        )
    return load_table(path.read_bytes(), relative.as_posix(), max_bytes=max_bytes, max_rows=max_rows)


def suggest_mapping(columns: Sequence[str], variables: Sequence[str]) -> dict[str, str | None]:
    """A column for each variable: exact name, then the same name ignoring case/_/-, then a synonym; else None."""
    mapping: dict[str, str | None] = dict.fromkeys(variables)
    taken: set[str] = set()
    # One pass per rule over all variables, so an exact match is never stolen by another variable's synonym.
    for rule in (_same, _similar, _synonym):
        for variable in variables:
            if mapping[variable] is None:
                column = next((c for c in columns if c not in taken and rule(variable, c)), None)
                if column is not None:
                    mapping[variable] = column
                    taken.add(column)
    return mapping


def check_mapping(table: Table, variables: Iterable[str], mapping: Mapping[str, str | None]) -> dict[str, str]:
    """Per-variable messages for variables without a column or mapped to a column the table lacks; {} when usable."""
    errors: dict[str, str] = {}
    for variable in variables:
        column = mapping.get(variable)
        if not column:
            errors[variable] = f"Choose a column for '{variable}'."
        elif column not in table.columns:
            errors[variable] = f"'{table.name}' has no column '{column}'. Choose one of: {', '.join(table.columns)}."
    return errors


def require_mapping(table: Table, variables: Iterable[str], mapping: Mapping[str, str | None]) -> dict[str, str]:
    """The mapping narrowed to the variables, every one with a column of the table; MappingError otherwise."""
    variables = list(variables)
    errors = check_mapping(table, variables, mapping)
    if errors:
        raise MappingError(errors)
    return {variable: str(mapping[variable]) for variable in variables}


def row_values(row: Mapping[str, str], mapping: Mapping[str, str | None]) -> dict[str, str]:
    """Template values for one row: each variable gets the text of its mapped column."""
    errors = {
        variable: f"Choose a column for '{variable}'." if not column else f"The row has no column '{column}'."
        for variable, column in mapping.items()
        if not column or column not in row
    }
    if errors:
        raise MappingError(errors)
    return {variable: row[str(column)] for variable, column in mapping.items()}


def _is_table(relative: PurePosixPath | Path) -> bool:
    parts = relative.parts
    return (
        relative.suffix.lower() in TABLE_SUFFIXES
        and relative.stem.lower() != "readme"
        and CORPUS_FOLDER not in parts[:-1]
        and not any(part.startswith(".") for part in parts)
    )


def _same(variable: str, column: str) -> bool:
    return variable == column


def _similar(variable: str, column: str) -> bool:
    return _norm(variable) == _norm(column)


def _synonym(variable: str, column: str) -> bool:
    return any(_norm(variable) in group and _norm(column) in group for group in _SYNONYMS)


def _norm(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name).lower()
