"""A playground run's grid as CSV: one line per input row, its values, then each variant's output and figures."""

from __future__ import annotations

import csv
import io
from typing import Any

from workbench.playground.records import RunSnapshot

FIGURES = ("status", "output", "error", "latency_ms", "ttft_ms", "input_tokens", "output_tokens", "cost_usd")


def grid_csv(snapshot: RunSnapshot) -> str:
    """The grid of a snapshot; a cell not worked yet reads `not run`."""
    variants, inputs, cells = snapshot.variants, snapshot.inputs, snapshot.cells
    by_key = {(cell.row_index, cell.position): cell for cell in cells}
    columns = list(dict.fromkeys(name for values in inputs for name in values))
    header = ["row", *columns]
    for position in range(1, len(variants) + 1):
        header += [f"v{position} {name}" for name in FIGURES]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["# variants"] + [f"v{n}: {variant.label}" for n, variant in enumerate(variants, start=1)])
    writer.writerow(header)
    for row_index, values in enumerate(inputs):
        line: list[Any] = [row_index + 1, *(values.get(name, "") for name in columns)]
        for position in range(len(variants)):
            cell = by_key.get((row_index, position))
            line += ["" if cell is None else _csv_value(getattr(cell, name)) for name in FIGURES]
            if cell is None:
                line[-len(FIGURES)] = "not run"
        writer.writerow(line)
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    return "" if value is None else value
