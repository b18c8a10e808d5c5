"""Helpers shared by the `workbench eval ...` modules: refusals, the SQL-only session, run ids and number formats."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from workbench.bootstrap import SqlServices, open_sql
from workbench.cli.common import fail, readable_errors
from workbench.evaluation.config import EvalConfigError
from workbench.evaluation.datasets import EvalDatasetError
from workbench.evaluation.reports import EvalReports
from workbench.evaluation.runs import EvalRunError

EXIT_USAGE = 2  # click's code for a bad argument; a gate script tells "misused" from "regressed" (1) by it
MIN_PREFIX = 6  # a run id may be shortened to a unique prefix of at least this many characters


def usage(message: str) -> typer.Exit:
    """Print a bad-argument refusal in red on stderr; raise the returned Exit (code 2)."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=EXIT_USAGE)


@contextmanager
def eval_errors() -> Iterator[None]:
    """One line per refusal: a configuration that cannot run is a usage error (2), the rest refusals (1)."""
    try:
        with readable_errors():
            yield
    except EvalConfigError as exc:
        raise usage(str(exc)) from exc
    except (EvalDatasetError, EvalRunError) as exc:
        raise fail(str(exc)) from exc


@contextmanager
def sql_only() -> Iterator[SqlServices]:
    """Datasets and reports read and write SQL only: no MongoDB is started and no model loaded for them."""
    with open_sql() as sql:
        yield sql


def resolve_id(reports: EvalReports, ref: str) -> str:
    """A run id, or a unique prefix of one (at least MIN_PREFIX characters)."""
    return reports.resolve_id(ref, MIN_PREFIX)


def num(value: float | None, *, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
