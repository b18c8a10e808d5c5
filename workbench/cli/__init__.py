"""The `workbench` command. Each command group is a module of this package; this one only assembles them."""

from __future__ import annotations

import typer

from workbench.cli import api, ingest, model_server, serve, worker
from workbench.cli.db import db_app
from workbench.cli.eval import eval_app
from workbench.cli.kb import kb_app
from workbench.cli.playground import playground_app
from workbench.cli.prompts import prompts_app
from workbench.cli.runlog import runlog_app
from workbench.cli.user import user_app
from workbench.cli.worker import queue_app

app = typer.Typer(help="GenAI Workbench command line.", no_args_is_help=True, add_completion=False)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(runlog_app, name="runlog")
app.add_typer(kb_app, name="kb")
app.add_typer(prompts_app, name="prompts")
app.add_typer(playground_app, name="playground")
app.add_typer(eval_app, name="eval")
app.add_typer(queue_app, name="queue")
app.command("seed-demo")(serve.seed_demo)
app.command("ingest")(ingest.ingest)
app.command("serve")(serve.serve)
app.command("demo")(serve.demo)
app.command("worker")(worker.worker)
app.command("model-server")(model_server.model_server)
app.command("api")(api.api)


def main() -> None:
    app()
