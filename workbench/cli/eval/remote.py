"""`workbench eval run|compare --url URL`: the same commands against a workbench on another machine, through its
HTTP API (workbench.client), for a CI job that has no database of its own. The run is worked by that workbench's
queue workers; the exit codes are the local commands': 0 done (gate passed), 1 a refusal, an unfinished run or a
failed gate, 2 a bad argument, 130 stopped by Ctrl-C."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer

from workbench.cli.common import EXIT_INTERRUPTED, fail, print_table
from workbench.cli.eval.common import EXIT_USAGE, num, usage
from workbench.client import ApiRefused, WorkbenchClient
from workbench.evaluation.config import EvalConfig

URL_HELP = "a workbench's API (e.g. http://eval-box:8502): run there, through its queue workers"
KEY_HELP = "an API key of that workbench (Account page); default: $WORKBENCH_API_KEY"
POLL_S = 1.0


@contextmanager
def remote(url: str, key: str | None) -> Iterator[WorkbenchClient]:
    """A client of the API at `url`; its refusals become the CLI's exit codes (a 400: the request was wrong, 2)."""
    if not key:
        raise usage("--url needs an API key: pass --api-key or set WORKBENCH_API_KEY (Account page → API keys).")
    client = WorkbenchClient(url, key)
    try:
        yield client
    except ApiRefused as exc:
        typer.secho(f"{url}: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_USAGE if exc.status == 400 else 1) from exc
    except OSError as exc:  # httpx's connection errors are OSErrors too
        raise fail(f"cannot reach the workbench at {url}: {exc}") from exc
    finally:
        client.close()


def run_remotely(client: WorkbenchClient, dataset: str, config: EvalConfig, *, version: int | None, repeats: int,
                 as_json: bool) -> None:  # fmt: skip
    """Start the runs on the server's queue, follow them, print their summaries; exits as `eval run` does."""
    data = config.model_dump(mode="json")
    runs = client.start_eval_run(dataset, data, version=version, repeats=repeats)
    first = runs[0]
    typer.echo(f"{len(runs)} run(s) of '{first['name']}' over {first['dataset']} v{first['dataset_version']}: "
               f"{first['items']} items each, on the workers of {client.url}", err=as_json)  # fmt: skip
    interrupted = False
    for run in runs:
        interrupted = _follow(client, run["id"])
        if interrupted:
            break
    summaries = [client.eval_results(run["id"]) for run in runs]
    if as_json:
        complete = all(s["status"] == "completed" for s in summaries)
        typer.echo(json.dumps({"runs": summaries, "complete": complete}, indent=2))
    for summary in summaries:
        if not as_json:
            _print_summary(summary)
        typer.echo(f"run id: {summary['id']}", err=as_json)
    unfinished = [s for s in summaries if s["status"] != "completed"]
    for run in unfinished:
        why = f" ({run['error']})" if run["error"] else ""
        typer.secho(f"run {run['id']} {run['status']} after {run['done']} of {run['items']} items{why}",
                    fg=typer.colors.YELLOW, err=True)  # fmt: skip
    if unfinished:
        raise typer.Exit(EXIT_INTERRUPTED if interrupted else 1)


def _follow(client: WorkbenchClient, run_id: str) -> bool:
    """Poll the run until no worker works it; the first Ctrl-C stops it there, a second leaves. True if stopped."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    interrupted = False
    with Progress(
        TextColumn("items"), BarColumn(), MofNCompleteColumn(), TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    ) as bar:  # fmt: skip
        run = client.eval_run(run_id)
        task = bar.add_task("items", total=run["items"], completed=run["done"], failed=run["failed"])
        while run["live"]:
            try:
                time.sleep(POLL_S)
            except KeyboardInterrupt:
                if interrupted:
                    typer.secho("left; the run is stopped on the server", fg=typer.colors.YELLOW, err=True)
                    raise typer.Exit(EXIT_INTERRUPTED) from None
                interrupted = True
                client.stop_eval_run(run_id)
                bar.console.print("stopping: the items in progress finish first (Ctrl-C again to leave now)")
            try:
                run = client.eval_run(run_id)
            except OSError:  # the server away for a moment: keep the last figures
                continue
            bar.update(task, completed=run["done"], failed=run["failed"])
    return interrupted


def _print_summary(summary: dict[str, Any]) -> None:
    typer.echo(f"\n{summary['name']}  {summary['dataset']} v{summary['dataset_version']}  {summary['status']}  "
               f"{summary['done']}/{summary['items']} items, {summary['failed']} failed")  # fmt: skip
    metrics = summary["summary"]
    if not metrics:
        typer.echo("no scores yet")
        return
    rows = [[name, num(m["mean"]), f"[{num(m['ci_low'])}, {num(m['ci_high'])}]" if m["ci_low"] is not None
             else "-", str(m["n_ok"]), str(m["n_failed"]), str(m["n_skipped"])]
            for name, m in sorted(metrics.items())]  # fmt: skip
    print_table(["metric", "mean", "95% CI", "ok", "failed", "skipped"], rows, right={1, 3, 4, 5})


def compare_remotely(client: WorkbenchClient, baseline: str, candidate: str, *, metrics: Sequence[str], test: str,
                     alpha: float, rules: Sequence[str], as_json: bool) -> None:  # fmt: skip
    """The comparison and the gate computed by the server; printed and exited as `eval compare` does."""
    result = client.compare(baseline, candidate, metrics=list(metrics), test=test, alpha=alpha,
                            fail_if_worse=list(rules))  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        for role in ("baseline", "candidate"):
            run = result[role]
            typer.echo(f"{role + ':':<10} {run['id']}  {run['name']}  ({run['dataset']} v{run['dataset_version']})")
        if result["unpaired_items"]:
            typer.echo(f"{result['unpaired_items']} items were scored in only one run and are left out")
        rows = [[m["metric"], str(m["n"]), num(m["baseline_mean"]), num(m["candidate_mean"]),
                 f"{num(m['delta'], signed=True)} [{num(m['delta_ci_low'], signed=True)}, "
                 f"{num(m['delta_ci_high'], signed=True)}]", f"{m['wins']}/{m['ties']}/{m['losses']}",
                 _p(m["p_value"]), _p(m["p_holm"])] for m in result["metrics"]]  # fmt: skip
        if rows:
            print_table(["metric", "n", "baseline", "candidate", "Δ [95% CI]", "W/T/L", "p", "Holm p"], rows,
                        right={1, 2, 3, 6, 7})  # fmt: skip
        else:
            typer.echo("no metric has paired scores in both runs")
        if result["gate"]:
            typer.echo(f"\ngate (alpha {alpha:g}; Holm across the {len(result['gate'])} gated metrics):")
            for verdict in result["gate"]:
                typer.echo(f"  {'FAIL' if verdict['failed'] else 'pass'} {verdict['metric']}:{verdict['max_drop']:g}"
                           f"  Δ {num(verdict['delta'], signed=True)}, Holm p {_p(verdict['p_holm'])}"
                           + (f", {verdict['missing']} item(s) unscored" if verdict["missing"] else ""))  # fmt: skip
    if not result["passed"]:
        typer.secho("gate failed: the candidate is significantly worse or incomplete on "
                    f"{', '.join(result['failed_metrics'])}", fg=typer.colors.RED, err=True)  # fmt: skip
        raise typer.Exit(result["exit_code"])


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"
