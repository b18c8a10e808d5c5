"""The `workbench` command: database migrations, users, the run log, and serving the app."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import typer

from workbench.bootstrap import build_sql, configure_offline_environment
from workbench.config import get_settings
from workbench.config.settings import PROJECT_ROOT
from workbench.domain.users import Role
from workbench.services import users as user_service
from workbench.storage.sql import migrate
from workbench.storage.sql.uow import SqlUnitOfWork

app = typer.Typer(help="GenAI Workbench command line.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="SQL schema migrations.", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
runlog_app = typer.Typer(help="The MongoDB run log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(runlog_app, name="runlog")


def _uow() -> SqlUnitOfWork:
    settings = get_settings()
    _, session_factory = build_sql(settings, migrate_embedded=True)
    return SqlUnitOfWork(session_factory)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


# db -------------------------------------------------------------------------------


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


# user -----------------------------------------------------------------------------


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
    try:
        user = user_service.create_user(_uow(), username, _ask_password(password), role, display_name)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"created {user.username} ({user.role})")


@user_app.command("list")
def user_list() -> None:
    """List users with their roles."""
    rows = user_service.list_users(_uow())
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
        user = user_service.set_role(_uow(), username, role)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"{user.username} is now {user.role}")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a user's sign-in (their records stay)."""
    try:
        user_service.set_active(_uow(), username, False)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"{username} disabled")


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled user."""
    try:
        user_service.set_active(_uow(), username, True)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"{username} enabled")


@user_app.command("reset-password")
def user_reset_password(
    username: str, password: str | None = typer.Option(None, envvar="WORKBENCH_NEW_USER_PASSWORD")
) -> None:
    """Set a new password for a user."""
    try:
        user_service.reset_password(_uow(), username, _ask_password(password))
    except ValueError as exc:
        raise _fail(str(exc)) from exc
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
        raise _fail("Set WORKBENCH_ADMIN_PASSWORD (or pass --password) to create the first admin.")
    try:
        created = user_service.ensure_first_admin(_uow(), name, secret)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"created admin {created.username}" if created else "an admin exists already; nothing to do")


@app.command("seed-demo")
def seed_demo() -> None:
    """Embedded default only: create a demo admin with a generated password, printed once and saved in data/."""
    settings = get_settings()
    if not settings.uses_embedded_sql or settings.env not in ("default", "development"):
        raise _fail("seed-demo is for the embedded default; use `workbench user bootstrap-admin` elsewhere.")
    password_file = settings.resolved_data_dir / "demo-admin-password.txt"
    password = settings.admin_password.get_secret_value() if settings.admin_password else secrets.token_urlsafe(12)
    created = user_service.ensure_first_admin(_uow(), settings.admin_username, password)
    if created is None:
        hint = f" (password saved in {password_file})" if password_file.exists() else ""
        typer.echo(f"admin exists already{hint}")
        return
    if settings.admin_password is None:
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    typer.secho(
        f"Demo admin created. Sign in as '{created.username}' with password: {password}"
        + (f"\n(saved in {password_file})" if settings.admin_password is None else ""),
        fg=typer.colors.GREEN,
    )


# runlog ---------------------------------------------------------------------------


@runlog_app.command("rebuild-rollups")
def runlog_rebuild_rollups() -> None:
    """Recompute the hourly rollups from the raw run logs."""
    from workbench.bootstrap import build_container

    container = build_container(register_atexit=False)
    try:
        total = container.runlog_store.rebuild_rollups()
    finally:
        container.close()
    typer.echo(f"rolled up {total} run logs")


# serve ----------------------------------------------------------------------------


@app.command("serve")
def serve(
    port: int = typer.Option(8501, help="HTTP port"),
    address: str = typer.Option("127.0.0.1", help="listen address"),
) -> None:
    """Start the embedded services (when configured so) and the Streamlit app; Ctrl-C stops all."""
    from workbench.bootstrap import mongo_url

    configure_offline_environment()
    settings = get_settings()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    if settings.uses_embedded_sql:
        migrate.upgrade(settings.sql_url)
    url, embedded = mongo_url(settings)
    env = dict(os.environ)
    env["WORKBENCH_MONGODB_URL"] = url  # the app reuses this server; this process stops it on exit
    env["WORKBENCH_DATA_DIR"] = str(settings.resolved_data_dir)
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app" / "streamlit_app.py"),
        "--server.port", str(port), "--server.address", address,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    backend = f"embedded {url}" if embedded else "external"
    typer.echo(f"GenAI Workbench on http://{address}:{port}  (run log: {backend})")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=20)
    finally:
        if embedded is not None:
            embedded.stop()
    raise typer.Exit(process.returncode or 0)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
