"""`workbench user ...`: users and roles."""

from __future__ import annotations

import typer

from workbench.bootstrap import open_sql
from workbench.cli.common import fail
from workbench.config import get_settings
from workbench.domain.users import Role
from workbench.services import users as user_service

user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)


def _ask_password(password: str | None) -> str:
    if password:
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def user_create(
    username: str,
    role: Role = typer.Option(Role.VIEWER, help="admin, analyst, annotator or viewer"),
    password: str | None = typer.Option(None, envvar="WORKBENCH_NEW_USER_PASSWORD", help="prompted when omitted"),
    display_name: str = typer.Option("", help="name shown in the app"),
) -> None:
    """Create a user."""
    secret = _ask_password(password)
    try:
        with open_sql() as sql:
            user = user_service.create_user(sql.uow(), username, secret, role, display_name)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"created {user.username} ({user.role})")


@user_app.command("list")
def user_list() -> None:
    """List users with their roles."""
    with open_sql() as sql:
        rows = user_service.list_users(sql.uow())
    if not rows:
        typer.echo("no users yet: run `workbench user create NAME --role admin`")
        return
    for user in rows:
        state = "active" if user.is_active else "disabled"
        last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
        typer.echo(f"{user.username:<24} {user.role:<10} {state:<8} last login {last}")


@user_app.command("set-role")
def user_set_role(username: str, role: Role) -> None:
    """Change a user's role."""
    try:
        with open_sql() as sql:
            user = user_service.set_role(sql.uow(), username, role)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{user.username} is now {user.role}")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a user's sign-in (their records stay)."""
    try:
        with open_sql() as sql:
            user_service.set_active(sql.uow(), username, False)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{username} disabled")


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled user."""
    try:
        with open_sql() as sql:
            user_service.set_active(sql.uow(), username, True)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{username} enabled")


@user_app.command("reset-password")
def user_reset_password(
    username: str, password: str | None = typer.Option(None, envvar="WORKBENCH_NEW_USER_PASSWORD")
) -> None:
    """Set a new password for a user."""
    secret = _ask_password(password)
    try:
        with open_sql() as sql:
            user_service.reset_password(sql.uow(), username, secret)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"password of {username} changed")


@user_app.command("bootstrap-admin")
def user_bootstrap_admin(
    username: str | None = typer.Option(None, help="default: WORKBENCH_ADMIN_USERNAME"),
    password: str | None = typer.Option(None, help="default: WORKBENCH_ADMIN_PASSWORD"),
) -> None:
    """Create the first admin from the environment (or options) when no admin exists yet."""
    settings = get_settings()
    name = username or settings.admin_username
    secret = password or (settings.admin_password.get_secret_value() if settings.admin_password else None)
    if not secret:
        raise fail("Set WORKBENCH_ADMIN_PASSWORD (or pass --password) to create the first admin.")
    try:
        with open_sql() as sql:
            created = user_service.ensure_first_admin(sql.uow(), name, secret)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"created admin {created.username}" if created else "an admin exists already; nothing to do")
