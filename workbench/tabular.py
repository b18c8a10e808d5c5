"""Reading a table of text cells from a CSV, JSONL or JSON file: what the playground and eval datasets both load.

A table comes from an upload (bytes and a file name) or from a file under `datasets/`. Every cell is text, so a
row maps straight onto template variables or dataset fields. Every problem is a `DatasetError` whose message says
what is wrong and what to do, with the line number when one line is at fault.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from workbench.config.settings import PROJECT_ROOT

MAX_BYTES = 10_000_000
MAX_ROWS = 5_000
TABLE_SUFFIXES = (".csv", ".jsonl", ".json")
_DELIMITERS = ",;\t"


class DatasetError(ValueError):
    """A dataset that cannot be read or used; `line` is set when one line of the file is at fault."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...] = field(repr=False, hash=False)  # dicts are unhashable; sha256 stands in
    sha256: str
    # The file line each row starts on (None for the items of a .json list), for messages about one row.
    lines: tuple[int | None, ...] = field(default=(), repr=False, hash=False)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def short_sha(self) -> str:
        """Enough of the content hash to tell two versions of a file apart in the UI."""
        return self.sha256[:12]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.row_count:,} rows, {len(self.columns)} columns)"


def datasets_dir() -> Path:
    """Folder of shipped datasets; WORKBENCH_DATASETS_DIR moves it (read on every call, so tests can point it away)."""
    return Path(os.environ.get("WORKBENCH_DATASETS_DIR", PROJECT_ROOT / "datasets"))


def load_table(data: bytes, filename: str, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> Table:
    """Parse an uploaded or shipped file into a table of text cells, refusing anything it cannot read faithfully."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DatasetError(
            f"'{filename}' is not a CSV or JSONL file. Upload a .csv or .jsonl file (or a .json list of objects); "
            "from Excel, use Save As > CSV UTF-8."
        )
    if len(data) > max_bytes:
        raise DatasetError(
            f"The file is {format_size(len(data))}; the limit is {format_size(max_bytes)}. "
            "Split it into smaller files or keep only the rows you need."
        )
    text = _decode(data)
    if not text.strip():
        raise DatasetError(
            "The file is empty. Upload a CSV with a header row and at least one data row, "
            "or a JSONL file with one JSON object per line."
        )
    if suffix == ".csv":
        columns, rows, lines = _parse_csv(text)
    else:
        records = _jsonl_records(text) if suffix == ".jsonl" else _json_records(text)
        columns, rows = _from_records(records)
        lines = [line for line, _ in records]
    if not rows:
        raise DatasetError("The file has no data rows. Add at least one row below the header.")
    if len(rows) > max_rows:
        raise DatasetError(
            f"The file has {len(rows):,} rows; the limit is {max_rows:,}. "
            "Split it into smaller files or keep a sample of the rows."
        )
    return Table(filename, tuple(columns), tuple(rows), hashlib.sha256(data).hexdigest(), tuple(lines))


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise DatasetError(
            "The file is not UTF-8 text: it contains NUL bytes, so it is UTF-16 text or a binary file such as .xlsx. "
            "Save it as CSV UTF-8 (or JSONL in UTF-8) and upload it again.",
            line=1,
        )
    # Excel's "CSV UTF-8" starts with a byte order mark. Stripped by hand, not with "utf-8-sig", so that the
    # offset in an error counts from the start of the file the user has.
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise DatasetError(
            f"The file is not UTF-8 text: byte 0x{data[offset]:02X} at offset {offset:,} (line {line}) is not "
            "valid UTF-8; the file is probably Windows-1252 or Latin-1. Save it as UTF-8 (Excel: Save As > "
            "CSV UTF-8) and upload it again.",
            line=line,
        ) from exc


def _parse_csv(text: str) -> tuple[list[str], list[dict[str, str]], list[int | None]]:
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    header_line = 1
    rows: list[dict[str, str]] = []
    lines: list[int | None] = []
    line = 1  # where the next record starts; a quoted field may span several lines
    try:
        for fields in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in fields):  # blank lines and spreadsheet filler rows like ",,,"
                continue
            if header is None:
                header, header_line = [name.strip() for name in fields], start
                _check_header(header, header_line)
            elif len(fields) != len(header):
                raise DatasetError(
                    f"A CSV row has {len(fields)} fields but the header has {len(header)} (line {start}). "
                    f"Quote fields that contain the delimiter {delimiter!r}, or fix the row.",
                    line=start,
                )
            else:
                rows.append(dict(zip(header, fields, strict=True)))
                lines.append(start)
    except csv.Error as exc:
        raise DatasetError(f"Line {line} is not valid CSV ({exc}). Check the quotes on that line.", line=line) from exc
    return header or [], rows, lines


def _delimiter(text: str) -> str:
    """The candidate delimiter seen most often, outside quotes, in the header line; a comma when none is seen.

    Counting in the header is predictable; csv.Sniffer guesses from the data rows and is fooled by prose in them.
    """
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in text.lstrip("\r\n").split("\n", 1)[0]:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_header(header: list[str], line: int) -> None:
    unnamed = [str(position) for position, name in enumerate(header, start=1) if not name]
    if unnamed:
        raise DatasetError(
            f"The header row has no name for column{'s' * (len(unnamed) > 1)} {', '.join(unnamed)}. "
            "Give every column a name in the first row.",
            line=line,
        )
    repeated = sorted({name for name in header if header.count(name) > 1}, key=header.index)
    if repeated:
        raise DatasetError(
            f"The header row repeats the column name{'s' * (len(repeated) > 1)} {', '.join(map(repr, repeated))}. "
            "Column names must be unique; rename the copies.",
            line=line,
        )


def _jsonl_records(text: str) -> list[tuple[int | None, Any]]:
    # split("\n"), not splitlines(): U+2028 and friends are legal inside JSON strings.
    records: list[tuple[int | None, Any]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.strip():
            records.append((number, _loads(raw, number)))
    return records


def _json_records(text: str) -> list[tuple[int | None, Any]]:
    value = _loads(text, None)
    if not isinstance(value, list):
        raise DatasetError(
            f"A .json file must hold a list of objects ([{{...}}, {{...}}]); this one holds {_kind(value)}. "
            "Wrap the objects in a list, or save one object per line as .jsonl."
        )
    return [(None, item) for item in value]


def _loads(text: str, line: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line = line or exc.lineno
        raise DatasetError(
            f"Line {line} is not valid JSON ({exc.msg} at column {exc.colno}). Fix that line or remove it.", line=line
        ) from exc


def _from_records(records: list[tuple[int | None, Any]]) -> tuple[list[str], list[dict[str, str]]]:
    columns: dict[str, None] = {}  # an ordered set: the union of keys in first-seen order
    for position, (line, record) in enumerate(records, start=1):
        if not isinstance(record, dict):
            where = f"Line {line}" if line else f"Item {position} of the list"
            raise DatasetError(
                f"{where} is {_kind(record)}, not a JSON object. "
                'Each row must be an object such as {"question": "..."}.',
                line=line,
            )
        columns.update(dict.fromkeys(record))
    if records and not columns:
        raise DatasetError("The rows have no fields. Give each object the fields the template needs.")
    rows = [{column: _text(record.get(column)) for column in columns} for _, record in records]
    return list(columns), rows


def _text(value: Any) -> str:
    """A JSON value as the text a template sees; a missing field and null are both empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # JSON spelling, so a JSONL row and the same row as CSV give the same text
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")


def format_size(n: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n:,} bytes"
