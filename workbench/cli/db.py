"""`workbench db ...`: SQL schema migrations."""

from __future__ import annotations

import typer

from workbench.config import get_settings
from workbench.storage.sql import migrate

db_app = typer.Typer(help="SQL schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(get_settings().sql_url, revision)
    typer.echo(f"database at revision {migrate.current_revision(get_settings().sql_url)}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="target revision, or 'base'")) -> None:
    """Revert migrations down to REVISION."""
    migrate.downgrade(get_settings().sql_url, revision)
    typer.echo(f"database at revision {migrate.current_revision(get_settings().sql_url)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the newest one."""
    url = get_settings().sql_url
    typer.echo(f"current: {migrate.current_revision(url)}  head: {migrate.head_revision()}")
