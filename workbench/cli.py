"""The `workbench` command: database migrations, users, the run log, knowledge bases, and serving the app."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from workbench.bootstrap import build_rag_engine, build_sql, configure_offline_environment
from workbench.cli_common import fail
from workbench.cli_eval import eval_app
from workbench.cli_playground import playground_app
from workbench.cli_prompts import prompts_app
from workbench.config import Settings, get_settings
from workbench.config.settings import PROJECT_ROOT
from workbench.domain.users import Role
from workbench.rag.engine import RagEngine
from workbench.rag.records import IngestReport, ProgressCallback
from workbench.services import users as user_service
from workbench.storage.sql import migrate
from workbench.storage.sql.uow import SqlUnitOfWork

app = typer.Typer(help="GenAI Workbench command line.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="SQL schema migrations.", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
runlog_app = typer.Typer(help="The MongoDB run log.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge bases (documents for retrieval).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(runlog_app, name="runlog")
app.add_typer(kb_app, name="kb")
app.add_typer(prompts_app, name="prompts")
app.add_typer(playground_app, name="playground")
app.add_typer(eval_app, name="eval")


def _uow() -> SqlUnitOfWork:
    settings = get_settings()
    _, session_factory = build_sql(settings, migrate_embedded=True)
    return SqlUnitOfWork(session_factory)


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
        raise fail(str(exc)) from exc
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
        raise fail(str(exc)) from exc
    typer.echo(f"{user.username} is now {user.role}")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a user's sign-in (their records stay)."""
    try:
        user_service.set_active(_uow(), username, False)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{username} disabled")


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled user."""
    try:
        user_service.set_active(_uow(), username, True)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{username} enabled")


@user_app.command("reset-password")
def user_reset_password(
    username: str, password: str | None = typer.Option(None, envvar="WORKBENCH_NEW_USER_PASSWORD")
) -> None:
    """Set a new password for a user."""
    try:
        user_service.reset_password(_uow(), username, _ask_password(password))
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
        created = user_service.ensure_first_admin(_uow(), name, secret)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"created admin {created.username}" if created else "an admin exists already; nothing to do")


@app.command("seed-demo")
def seed_demo() -> None:
    """Embedded default only: create a demo admin with a generated password, printed once and saved in data/."""
    settings = get_settings()
    if not settings.uses_embedded_sql or settings.env not in ("default", "development"):
        raise fail("seed-demo is for the embedded default; use `workbench user bootstrap-admin` elsewhere.")
    password_file = settings.resolved_data_dir / "demo-admin-password.txt"
    password = settings.admin_password.get_secret_value() if settings.admin_password else secrets.token_urlsafe(12)
    _seed_sample_corpus(settings)
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


def _seed_sample_corpus(settings: Settings) -> None:
    """First run: the sample corpus becomes the "sample" knowledge base, so a newcomer can chat at once, and its
    questions the "northwind-qa" eval dataset, so an eval can run at once."""
    from workbench.rag.engine import RagEngine
    from workbench.rag.sample import ensure_sample_knowledge_base

    _, session_factory = build_sql(settings, migrate_embedded=True)
    engine = RagEngine(settings.rag, settings.resolved_data_dir, lambda: SqlUnitOfWork(session_factory))
    try:
        report = ensure_sample_knowledge_base(engine)
    finally:
        engine.close()
    if report is not None:
        typer.echo(f"sample knowledge base: {len(report.added)} documents, {report.chunks_embedded} passages")
    from workbench.evaluation.datasets import SAMPLE_DATASET, EvalDatasetService

    datasets = EvalDatasetService(lambda: SqlUnitOfWork(session_factory))
    had_sample = any(d.name == SAMPLE_DATASET for d in datasets.datasets())
    version = datasets.ensure_sample()
    if version is not None and not had_sample:
        typer.echo(f"sample eval dataset: {version.name} v{version.version}, {version.item_count} questions")


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


# knowledge bases ------------------------------------------------------------------


def _rag() -> RagEngine:
    configure_offline_environment()
    settings = get_settings()
    _, session_factory = build_sql(settings, migrate_embedded=True)
    return build_rag_engine(settings, session_factory)


@app.command("ingest")
def ingest(
    paths: list[Path] = typer.Argument(..., help="files and folders (folders are walked recursively)"),
    kb: str = typer.Option(..., "--kb", help="knowledge base; created when it does not exist"),
    chunk_size: int | None = typer.Option(None, help="tokens per chunk (new knowledge base only)"),
    chunk_overlap: int | None = typer.Option(None, help="tokens shared by neighbouring chunks (new KB only)"),
    sync: bool = typer.Option(False, "--sync", help="remove documents of the KB that are not among PATHS"),
) -> None:
    """Ingest documents into a knowledge base; unchanged files are skipped, changed ones replaced."""
    from workbench.rag.errors import RagError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged PDFs are listed in the summary instead
    engine = _rag()
    try:
        engine.ensure_knowledge_base(kb, chunk_size, chunk_overlap)
        with ingest_progress() as progress:
            report = engine.ingest(kb, paths, sync=sync, progress=progress)
    except RagError as exc:
        raise fail(str(exc)) from exc
    print_ingest_report(report)
    if report.nothing_ingested:
        raise fail("nothing was ingested")


@contextmanager
def ingest_progress() -> Iterator[ProgressCallback]:
    """A rich progress bar fed by the ingest progress callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as bar:
        task = bar.add_task("scanning", total=None)

        def update(done: int, total: int, current: str) -> None:
            bar.update(task, completed=done, total=total, description=current[-48:] or "done")

        yield update


def print_ingest_report(report: IngestReport) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"knowledge base {report.kb}", show_header=False)
    for label, count in [("added", len(report.added)), ("replaced", len(report.replaced)),
                         ("unchanged (skipped)", len(report.unchanged)), ("removed", len(report.removed)),
                         ("failed", len(report.failed)), ("chunks embedded", report.chunks_embedded)]:  # fmt: skip
        table.add_row(label, str(count))
    table.add_row("seconds", f"{report.seconds:.1f}")
    console = Console()
    console.print(table)
    for source, reason in report.failed:
        console.print(f"[red]failed[/red] {escape(source)}: {escape(reason)}", highlight=False, soft_wrap=True)


@kb_app.command("list")
def kb_list() -> None:
    """List knowledge bases with their documents, chunks and embedding model."""
    knowledge_bases = _rag().list_knowledge_bases()
    if not knowledge_bases:
        typer.echo("no knowledge bases yet: run `workbench ingest PATH --kb NAME`")
        return
    for kb in knowledge_bases:
        typer.echo(
            f"{kb.name:<24} {kb.document_count:>5} docs {kb.chunk_count:>7} chunks  "
            f"chunk {kb.chunk_size}/{kb.chunk_overlap}  {kb.embedding_model}"
        )


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


@app.command("demo")
def demo(
    port: int = typer.Option(7860, help="HTTP port"),
    host: str = typer.Option("127.0.0.1", help="listen address; keep loopback unless a proxy fronts it"),
    kb: str = typer.Option("sample", help="knowledge base to answer from ('' for plain chat)"),
) -> None:
    """Serve the Gradio chat demo (the same chat service, run log and feedback as the app)."""
    configure_offline_environment()
    script = PROJECT_ROOT / "app" / "gradio_demo.py"
    command = [sys.executable, str(script), "--host", host, "--port", str(port), "--kb", kb]
    raise typer.Exit(subprocess.call(command, cwd=PROJECT_ROOT))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
