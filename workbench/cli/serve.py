"""`workbench serve`, `demo` and `seed-demo`: the app and its embedded services, the Gradio demo, a first admin."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import typer

from workbench.bootstrap import configure_offline_environment, mongo_url, open_rag, open_sql
from workbench.cli.common import fail
from workbench.config import Settings, get_settings
from workbench.config.settings import PROJECT_ROOT
from workbench.services import users as user_service
from workbench.storage.runlog.embedded import free_port
from workbench.storage.sql import migrate


def seed_demo() -> None:
    """Embedded default only: create a demo admin with a generated password, printed once and saved in data/."""
    settings = get_settings()
    if not settings.uses_embedded_sql or settings.env not in ("default", "development"):
        raise fail("seed-demo is for the embedded default; use `workbench user bootstrap-admin` elsewhere.")
    password_file = settings.resolved_data_dir / "demo-admin-password.txt"
    password = settings.admin_password.get_secret_value() if settings.admin_password else secrets.token_urlsafe(12)
    _seed_sample_corpus(settings)
    with open_sql(settings) as sql:
        created = user_service.ensure_first_admin(sql.uow(), settings.admin_username, password)
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
    from workbench.evaluation.datasets import SAMPLE_DATASET
    from workbench.rag.sample import ensure_sample_knowledge_base

    with open_rag(settings) as engine:
        report = ensure_sample_knowledge_base(engine)
    if report is not None:
        typer.echo(f"sample knowledge base: {len(report.added)} documents, {report.chunks_embedded} passages")
    with open_sql(settings) as sql:
        datasets = sql.eval_datasets
        had_sample = any(d.name == SAMPLE_DATASET for d in datasets.datasets())
        version = datasets.ensure_sample()
    if version is not None and not had_sample:
        typer.echo(f"sample eval dataset: {version.name} v{version.version}, {version.item_count} questions")


def serve(
    port: int = typer.Option(8501, help="HTTP port"),
    address: str = typer.Option("127.0.0.1", help="listen address"),
    worker: bool | None = typer.Option(
        None,
        "--worker/--no-worker",
        help="start a queue worker beside the app (default: when no broker is configured, i.e. WORKBENCH_QUEUE__"
        "BROKER_URL is unset; with a broker, workers are started on their own with `workbench worker`)",
    ),
    api: bool = typer.Option(True, "--api/--no-api", help="start the HTTP API beside the app (on api.port)"),
) -> None:
    """Start the embedded services (when configured so), a queue worker and the Streamlit app; Ctrl-C stops all."""
    configure_offline_environment()
    settings = get_settings()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    if settings.uses_embedded_sql:
        migrate.upgrade(settings.sql_url)
    url, embedded = mongo_url(settings)
    env = dict(os.environ)
    env["WORKBENCH_MONGODB_URL"] = url  # the app and the worker reuse this server; this process stops it on exit
    env["WORKBENCH_DATA_DIR"] = str(settings.resolved_data_dir)
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app" / "streamlit_app.py"),
        "--server.port", str(port), "--server.address", address,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    backend = f"embedded {url}" if embedded else "external"
    typer.echo(f"GenAI Workbench on http://{address}:{port}  (run log: {backend})")
    children: list[subprocess.Popen[bytes]] = []
    if settings.llm.model_server_url is None:
        # The local models run once, in a process of their own that the app and the worker share.
        model_port, model_key = free_port(), secrets.token_urlsafe(24)
        env["WORKBENCH_LLM__MODEL_SERVER_URL"] = f"http://127.0.0.1:{model_port}"
        env["WORKBENCH_LLM__MODEL_SERVER_KEY"] = model_key
        model_command = [sys.executable, "-m", "workbench.cli", "model-server", "--port", str(model_port),
                         "--parallel", str(max(4, settings.llm.local_parallel))]  # fmt: skip
        children.append(subprocess.Popen(model_command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL))
    if worker if worker is not None else settings.queue.broker_url is None:
        # Dataset and eval runs are worked here, not in the app's process: a reload of the app stops none of them.
        worker_command = [sys.executable, "-m", "workbench.cli", "worker", "--loglevel", "WARNING"]
        children.append(subprocess.Popen(worker_command, cwd=PROJECT_ROOT, env=env))
    if api:
        # Other programs' way in (prompts, feedback, run logs, eval runs), on the same stores as the app.
        api_command = [sys.executable, "-m", "workbench.cli", "api"]
        children.append(subprocess.Popen(api_command, cwd=PROJECT_ROOT, env=env))
        typer.echo(f"HTTP API on http://{settings.api.host}:{settings.api.port}/api/v1")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)
    children.append(process)
    try:
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:  # SIGTERM: the worker finishes the tasks in hand (a warm shutdown)
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
        if embedded is not None:
            embedded.stop()
    raise typer.Exit(process.returncode or 0)


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
