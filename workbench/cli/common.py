"""What the command groups share: readable refusals, the services they open (all from bootstrap), tables."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime

import typer

from workbench.bootstrap import Container, build_container, open_playground_reader, open_sql
from workbench.config import get_settings
from workbench.llm.errors import ModelNotConfigured
from workbench.playground.datasets import (
    DatasetError,
)
from workbench.playground.service import PlaygroundError, PlaygroundService
from workbench.playground.variants import VariantError
from workbench.prompting.registry import PRODUCTION, PromptNotFound, PromptRegistry, PromptVersion, RegistryError
from workbench.prompting.templates import TemplateError

# Refusals a user can act on: one line, exit code 1, no traceback.
USER_ERRORS = (RegistryError, TemplateError, DatasetError, PlaygroundError, VariantError, ModelNotConfigured)
EXIT_INTERRUPTED = 130  # the shell's code for "stopped by Ctrl-C"


def fail(message: str) -> typer.Exit:
    """Print a refusal in red on stderr; raise the returned Exit (code 1)."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@contextmanager
def readable_errors() -> Iterator[None]:
    try:
        yield
    except USER_ERRORS as exc:
        raise fail(str(exc)) from exc


@contextmanager
def quiet_registry_log() -> Iterator[None]:
    """The registry logs each broken prompt file as a warning; here `prompts list` and a failed lookup report it."""
    logger = logging.getLogger("workbench.prompting.registry")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def open_registry() -> Iterator[PromptRegistry]:
    """The registry over SQL alone: reading and saving prompts needs neither MongoDB nor a model."""
    with open_sql() as sql, quiet_registry_log():
        yield sql.prompts


@contextmanager
def open_container() -> Iterator[Container]:
    container = build_container(get_settings(), register_atexit=False)
    try:
        with quiet_registry_log():
            yield container
    finally:
        container.close()


@contextmanager
def run_reader() -> Iterator[PlaygroundService]:
    """Playground runs to list, show and export, over SQL alone."""
    with open_playground_reader() as service:
        yield service


def who() -> str:
    return os.environ.get("USER") or "cli"


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def print_table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Collection[int] = ()) -> None:
    """Plain aligned columns: readable in a terminal, easy to grep and cut in a script."""
    lines = [list(header), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        typer.echo("  ".join(cells).rstrip())


def version_of(registry: PromptRegistry, name: str, ref: str | None) -> PromptVersion:
    """A version by number, label or "latest"; without a ref, production (the latest when production is unset)."""
    try:
        if ref is None:
            _, number = registry.resolve(name, PRODUCTION)
            return registry.get(name, number)
        return registry.get(name, ref)
    except PromptNotFound as exc:
        problem = registry.last_sync.problems.get(f"{name}.md")
        if problem is None:
            raise
        raise PromptNotFound(f"{exc} Its file prompts/{name}.md is not recorded: {problem}") from exc


def wait_for_run(finished: threading.Event, stop: threading.Event, say: Callable[[str], None], what: str,
                 resume: str, leave: Callable[[], None]) -> bool:  # fmt: skip
    """Wait for a run working in another thread; the first Ctrl-C asks it to stop after the `what` in progress
    (e.g. "items"), a second one records the run as stopped (`leave`) and leaves at once, saying how to `resume`.
    True when interrupted."""
    # An Event, not Thread.join: on Python 3.11 a KeyboardInterrupt inside join() marks the thread as ended while
    # it still runs (threading's bpo-45274 handler releases the lock the running thread holds).
    interrupted = False
    while not finished.is_set():
        try:
            finished.wait(0.2)
        except KeyboardInterrupt:
            if interrupted:
                with suppress(Exception):  # a database that went away: the run is left running; stop it later
                    leave()
                typer.secho(
                    f"left without waiting for the {what} in progress; resume with `{resume}`",
                    fg=typer.colors.YELLOW, err=True,
                )  # fmt: skip
                raise typer.Exit(EXIT_INTERRUPTED) from None
            interrupted = True
            stop.set()
            say(f"stopping: the {what} in progress finish first (Ctrl-C again to leave now)")
    return interrupted
