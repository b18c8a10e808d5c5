"""`workbench eval ...`: eval datasets, runs in the foreground, reports and the CI gate (see cli/__init__.py).

This module holds the run commands; `datasets ...` lives in datasets.py, `compare` (the gate) in
compare.py, and the helpers they share in common.py.

Exit codes: 0 done (gate passed), 1 a refusal, a failed or unfinished run, or a failed gate, 2 a bad argument or
configuration file, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from workbench.cli.common import EXIT_INTERRUPTED, fail, open_container, print_table, wait_for_run, when, who
from workbench.cli.eval.common import cut, eval_errors, num, resolve_id, sql_only
from workbench.cli.eval.compare import eval_compare
from workbench.cli.eval.datasets import datasets_app
from workbench.cli.eval.remote import KEY_HELP, URL_HELP, remote, run_remotely
from workbench.domain.runs import EvalRunStatus
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.report_json import summary_json
from workbench.evaluation.reports import EvalReports, MetricSummary, RunSummary
from workbench.evaluation.runs import MAX_REPEATS, EvalRunService
from workbench.services.queued_runs import QueueError

if TYPE_CHECKING:
    from workbench.bootstrap import Container

eval_app = typer.Typer(help="Evaluation: datasets, runs, comparisons and the CI gate.", no_args_is_help=True)
eval_app.add_typer(datasets_app, name="datasets")


# run and resume --------------------------------------------------------------------------------------------------


@eval_app.command("run")
def eval_run(
    dataset: str = typer.Option(..., "--dataset", help="an eval dataset (workbench eval datasets list)"),
    config: Path = typer.Option(..., "--config", help="a YAML file; examples in datasets/eval/configs/"),
    version: int | None = typer.Option(None, "--version", min=1, help="dataset version (default: the latest)"),
    repeats: int = typer.Option(1, "--repeats", min=1, max=MAX_REPEATS, help="runs of the same configuration"),
    name: str | None = typer.Option(None, "--name", help="the run's name (default: the file's, else generated)"),
    tag: list[str] | None = typer.Option(None, "--tag", help="added to the file's tags; repeatable"),
    as_json: bool = typer.Option(False, "--json", help="print the run ids and summaries as JSON on stdout"),
    queued: bool = typer.Option(
        False, "--queue", help="send the items to the queue's workers (`workbench worker`) and follow them from here"
    ),
    url: str | None = typer.Option(None, "--url", envvar="WORKBENCH_URL", help=URL_HELP),
    api_key: str | None = typer.Option(None, "--api-key", envvar="WORKBENCH_API_KEY", help=KEY_HELP),
) -> None:
    """Run a configuration over a dataset in the foreground; Ctrl-C stops after the items in progress (resumable).

    Example: workbench eval run --dataset northwind-qa --config datasets/eval/configs/baseline.yaml
    """
    with eval_errors():
        chosen = _config(config, name, tag or [])  # a bad file is refused before anything starts
        if url:
            with remote(url, api_key) as client:
                run_remotely(client, dataset, chosen, version=version, repeats=repeats, as_json=as_json)
            return
        with open_container() as container:
            service = container.eval_runs  # built once: it caches the pinned prompt templates
            runs = service.create_run(dataset, chosen, actor=who(), version=version, repeats=repeats)
            first = runs[0]
            typer.echo(f"{len(runs)} run(s) of '{first.name}' over {first.dataset} v{first.dataset_version}: "
                       f"{first.item_count} items each", err=as_json)  # fmt: skip
            interrupted = False
            for run in runs:  # one after another: repeats of a local model would only queue for it anyway
                if queued:
                    interrupted = _follow(container, run.id, retry_failed=False)
                else:
                    interrupted = _execute(service, run.id, retry_failed=False)
                if interrupted:
                    break
            _finish(container.eval_reports, [r.id for r in runs], interrupted, as_json)


@eval_app.command("resume")
def eval_resume(
    run_id: str,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="answer and score failed items again"),
    as_json: bool = typer.Option(False, "--json", help="print the run id and summary as JSON on stdout"),
    queued: bool = typer.Option(
        False, "--queue", help="send the items to the queue's workers (`workbench worker`) and follow them from here"
    ),
) -> None:
    """Work the items a stopped or crashed run has not done yet."""
    with eval_errors(), open_container() as container:
        service, reports = container.eval_runs, container.eval_reports
        run = service.run(resolve_id(reports, run_id))
        interrupted = False
        if run.status == EvalRunStatus.COMPLETED and not (retry_failed and run.failed_count):
            typer.echo(f"run {run.id} is complete: nothing left to run", err=as_json)
        elif queued:
            interrupted = _follow(container, run.id, retry_failed=retry_failed)
        else:
            interrupted = _execute(service, run.id, retry_failed=retry_failed)
        _finish(reports, [run.id], interrupted, as_json)


def _config(path: Path, name: str | None, tags: Sequence[str]) -> EvalConfig:
    config = EvalConfig.from_file(path)
    if name is None and not tags:
        return config
    data = config.model_dump()
    if name is not None:
        data["name"] = name
    data["tags"] = [*config.tags, *tags]
    return EvalConfig.from_mapping(data, f"{path} with --name/--tag")


def _execute(service: EvalRunService, run_id: str, *, retry_failed: bool) -> bool:
    """Work the run with a progress line on stderr; True when Ctrl-C stopped it (the items in progress finished)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    before = service.run(run_id)
    done = before.done_count - (before.failed_count if retry_failed else 0)
    console = Console(stderr=True)  # stdout stays clean for --json and for the tables
    stop, finished = threading.Event(), threading.Event()
    outcome: list[BaseException] = []
    with Progress(
        TextColumn("items"), BarColumn(), MofNCompleteColumn(), TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as bar:  # fmt: skip
        failed = 0 if retry_failed else before.failed_count
        task = bar.add_task("items", total=before.item_count, completed=done, failed=failed)
        step = max(1, before.item_count // 10)  # without a terminal (CI logs): a line per tenth of the run

        def on_item(done: int, total: int) -> None:
            nonlocal failed
            # The callback does not say how the item went; the run row does. A progress display must never fail
            # the run, so a failed read keeps the last count.
            with suppress(Exception):
                failed = service.run(run_id).failed_count
            bar.update(task, completed=done, total=total, failed=failed)
            if not console.is_terminal and (done % step == 0 or done == total):
                console.print(f"items {done}/{total}, failed {failed}", highlight=False)

        def work() -> None:
            try:
                service.execute(run_id, stop=stop, on_item=on_item, retry_failed=retry_failed)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
                outcome.append(exc)
            finally:
                finished.set()

        # The run works in a thread so that Ctrl-C reaches this one: it sets the stop event and the run ends
        # cleanly ("stopped", resumable) instead of being torn down in the middle of an item.
        threading.Thread(target=work, name=f"eval-cli-{run_id[:8]}", daemon=True).start()
        interrupted = wait_for_run(
            finished, stop, console.print, "items", f"workbench eval resume {run_id}",
            lambda: service.request_stop(run_id),
        )  # fmt: skip
    if outcome:
        raise outcome[0]
    return interrupted


def _follow(container: Container, run_id: str, *, retry_failed: bool) -> bool:
    """Send the run's missing items to the queue and follow its progress in SQL (workers anywhere work it); the
    first Ctrl-C stops the run (the items in progress finish), a second leaves. True when interrupted."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    service, jobs, console = container.eval_runs, container.eval_jobs, Console(stderr=True)
    status = container.queue.status()
    if not status.reachable:
        raise fail(status.error or f"the task queue at {status.broker} does not answer")
    if not status.workers:
        typer.secho("no worker answers: the items wait in the queue until one starts (`workbench worker`)",
                    fg=typer.colors.YELLOW, err=True)  # fmt: skip
    try:
        started = jobs.start(run_id, retry_failed=retry_failed)
    except QueueError as exc:
        raise fail(str(exc)) from exc
    if not started:
        raise fail(f"run {run_id} is being worked on already; follow it on the Evaluation page or stop it there")
    interrupted = False
    with Progress(
        TextColumn("items"), BarColumn(), MofNCompleteColumn(), TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as bar:  # fmt: skip
        run = service.run(run_id)
        task = bar.add_task("items", total=run.item_count, completed=run.done_count, failed=run.failed_count)
        while run.live:
            try:
                time.sleep(0.5)
            except KeyboardInterrupt:
                if interrupted:
                    typer.secho(f"left; the run is stopped: resume it with `workbench eval resume {run_id} --queue`",
                                fg=typer.colors.YELLOW, err=True)  # fmt: skip
                    raise typer.Exit(EXIT_INTERRUPTED) from None
                interrupted = True
                jobs.stop(run_id)
                console.print("stopping: the items in progress finish first (Ctrl-C again to leave now)")
            with suppress(Exception):  # a database hiccup: keep the last figures
                run = service.run(run_id)
            bar.update(task, completed=run.done_count, failed=run.failed_count)
    return interrupted


def _finish(reports: EvalReports, run_ids: Sequence[str], interrupted: bool, as_json: bool) -> None:
    """Summaries, run ids and what to do next; the exit code says whether every run is complete."""
    summaries = [reports.summary(run_id) for run_id in run_ids]
    if as_json:
        complete = all(s.run.status == EvalRunStatus.COMPLETED for s in summaries)
        typer.echo(json.dumps({"runs": [summary_json(s) for s in summaries], "complete": complete}, indent=2))
    for summary in summaries:
        if not as_json:
            _print_summary(summary)
        run = summary.run
        typer.echo(f"run id: {run.id}", err=as_json)
        if run.status == EvalRunStatus.COMPLETED:
            again = f"; retry them with `workbench eval resume {run.id} --retry-failed`" if run.failed_count else ""
            typer.echo(f"completed: {run.done_count} items, {run.failed_count} failed{again}", err=as_json)
    unfinished = [s.run for s in summaries if s.run.status != EvalRunStatus.COMPLETED]
    for run in unfinished:
        typer.secho(f"run {run.id} {run.status} after {run.done_count} of {run.item_count} items"
                    f"{f' ({run.error})' if run.error else ''}; resume with `workbench eval resume {run.id}`",
                    fg=typer.colors.YELLOW, err=True)  # fmt: skip
    if unfinished:
        raise typer.Exit(EXIT_INTERRUPTED if interrupted else 1)


# runs, show, export ----------------------------------------------------------------------------------------------


@eval_app.command("runs")
def eval_runs(
    dataset: str | None = typer.Option(None, "--dataset", help="only runs over this dataset"),
    tag: str | None = typer.Option(None, "--tag", help="only runs with this tag"),
    status: EvalRunStatus | None = typer.Option(None, "--status", help="only runs in this state"),
    limit: int = typer.Option(50, "--limit", min=1, help="how many of the newest runs"),
) -> None:
    """Runs newest first: id, name, dataset, status, progress, tags."""
    with eval_errors(), sql_only() as sql:
        found = sql.eval_reports.runs(dataset=dataset, tag=tag, status=status, limit=limit)
    if not found:
        typer.echo("no eval runs found" if dataset or tag or status else
                   "no eval runs yet: start one with `workbench eval run --dataset NAME --config FILE`")  # fmt: skip
        return
    rows = [[r.id, cut(r.label, 40), f"{r.dataset} v{r.dataset_version}", r.status,
             f"{r.done_count}/{r.item_count}", str(r.failed_count), ",".join(r.tags), when(r.created_at)]
            for r in (s.run for s in found)]  # fmt: skip
    print_table(["id", "name", "dataset", "status", "items", "failed", "tags", "created"], rows, right={4, 5})


@eval_app.command("show")
def eval_show(run_id: str) -> None:
    """A run's pinned configuration, state and per-metric summary."""
    with eval_errors(), sql_only() as sql:
        reports = sql.eval_reports
        summary = reports.summary(resolve_id(reports, run_id))
    run = summary.run
    typer.echo(f"run {run.id}  {run.label}")
    typer.echo(f"dataset {run.dataset} v{run.dataset_version}  status {run.status}  items {run.done_count}/"
               f"{run.item_count} ({run.failed_count} failed)  tags {','.join(run.tags) or '-'}")  # fmt: skip
    typer.echo(f"created by {run.created_by} at {when(run.created_at)}  started {when(run.started_at)}  "
               f"finished {when(run.finished_at)}")  # fmt: skip
    if run.error:
        typer.echo(f"error: {run.error}")
    typer.echo("configuration:")
    for key, value in run.config.items():
        typer.echo(f"  {key}: {value if isinstance(value, str) and value else json.dumps(value)}")
    libraries = run.environment.get("libraries") or {}
    pinned = ", ".join(f"{k} {libraries[k]}" for k in ("ragas", "llama-index-core", "xllamacpp") if libraries.get(k))
    if run.environment:
        typer.echo(f"environment: python {run.environment.get('python', '?')}" + (f", {pinned}" if pinned else ""))
    typer.echo("")
    _print_summary(summary, heading=False)


@eval_app.command("export")
def eval_export(
    run_ids: list[str] = typer.Argument(..., help="one or more run ids"),
    out: Path | None = typer.Option(None, "--out", "-o", help="file to write (default: stdout)"),
) -> None:
    """Scores as CSV: one line per run, item and metric, failures with their cause."""
    with eval_errors(), sql_only() as sql:
        reports = sql.eval_reports
        text = reports.export_csv(list(dict.fromkeys(resolve_id(reports, r) for r in run_ids)))
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8", newline="")  # the csv module wrote the line ends already
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from exc
    typer.echo(f"wrote {out}")


# compare and the gate --------------------------------------------------------------------------------------------

# Defined in compare.py; registered after export so that `workbench eval --help` keeps its order.
eval_app.command("compare")(eval_compare)


# summaries -------------------------------------------------------------------------------------------------------


def _print_summary(summary: RunSummary, *, heading: bool = True) -> None:
    run = summary.run
    if heading:
        typer.echo(f"\n{run.label}  {run.dataset} v{run.dataset_version}  {run.status}  "
                   f"{run.done_count}/{run.item_count} items, {run.failed_count} failed")  # fmt: skip
    if not summary.metrics:
        typer.echo("no scores yet")
        return
    order = [m for m in run.config.get("metrics", []) if m in summary.metrics]
    order += sorted(set(summary.metrics) - set(order))
    rows = [_summary_row(summary.metrics[m]) for m in order]
    print_table(["metric", "mean", "95% CI", "ok", "failed", "skipped", "failures"], rows, right={1, 3, 4, 5})


def _summary_row(s: MetricSummary) -> list[str]:
    interval = f"[{num(s.ci_low)}, {num(s.ci_high)}]" if s.ci_low is not None else "-"
    causes = ", ".join(f"{cause} {n}" for cause, n in sorted(s.failures.items()))
    return [s.metric, num(s.mean), interval, str(s.n_ok), str(s.n_failed), str(s.n_skipped), causes]
