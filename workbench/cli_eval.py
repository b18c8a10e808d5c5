"""`workbench eval ...`: eval datasets, runs in the foreground, reports, and the CI gate. Registered in cli.py.

Exit codes: 0 done (gate passed), 1 a refusal, a failed or unfinished run, or a failed gate, 2 a bad argument or
configuration file, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import typer

from workbench.bootstrap import build_sql
from workbench.cli_common import EXIT_INTERRUPTED, fail, open_container, print_table, readable_errors, when, who
from workbench.config import get_settings
from workbench.evaluation.config import EvalConfig, EvalConfigError
from workbench.evaluation.datasets import FIELDS, EvalDatasetError, EvalDatasetService, ImportReport, suggest_mapping
from workbench.evaluation.metrics import METRICS
from workbench.evaluation.reports import EvalReports, GateVerdict, MetricSummary, RunSummary
from workbench.evaluation.runs import MAX_REPEATS, EvalRunError, EvalRunService, RunView
from workbench.evaluation.stats import MetricComparison, TestName
from workbench.playground.datasets import DatasetError, Table, load_table
from workbench.storage.sql.uow import SqlUnitOfWork

EXIT_USAGE = 2  # click's code for a bad argument; a gate script tells "misused" from "regressed" (1) by it
MIN_PREFIX = 6  # a run id may be shortened to a unique prefix of at least this many characters
MAP_HELP = f"FIELD=COLUMN, FIELD one of {', '.join(FIELDS)} (default: matching names); FIELD= leaves it out"


class Status(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"


class Test(StrEnum):
    __test__ = False  # a choice of the command line, not a pytest test class

    WILCOXON = "wilcoxon"
    SIGN = "sign"


eval_app = typer.Typer(help="Evaluation: datasets, runs, comparisons and the CI gate.", no_args_is_help=True)
datasets_app = typer.Typer(help="Versioned eval datasets (questions with reference answers).", no_args_is_help=True)
eval_app.add_typer(datasets_app, name="datasets")


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
def sql_only() -> Iterator[Callable[[], SqlUnitOfWork]]:
    """Datasets and reports read and write SQL only: no MongoDB is started and no model loaded for them."""
    engine, session_factory = build_sql(get_settings(), migrate_embedded=True)
    try:
        yield lambda: SqlUnitOfWork(session_factory)
    finally:
        engine.dispose()


# datasets --------------------------------------------------------------------------------------------------------


@datasets_app.command("list")
def datasets_list() -> None:
    """Eval datasets with their latest version."""
    with eval_errors(), sql_only() as uow:
        latest = EvalDatasetService(uow).datasets()
    if not latest:
        typer.echo("no eval datasets yet: import one with `workbench eval datasets import FILE --name NAME`")
        return
    rows = [[v.name, f"v{v.version}", str(v.item_count), v.source, v.created_by, when(v.created_at)] for v in latest]
    print_table(["name", "latest", "items", "source", "by", "created"], rows, right={2})


@datasets_app.command("import")
def datasets_import(
    file: Path = typer.Argument(..., help="a CSV, JSONL or JSON file, one question per row"),
    name: str = typer.Option(..., "--name", help="the dataset; a new version when it exists"),
    mapping: list[str] | None = typer.Option(None, "--map", help=MAP_HELP),
    note: str = typer.Option("", "--note", help="what changed in this version"),
) -> None:
    """Import a file as a new dataset version; rows that cannot be used are listed with their line and reason.

    Example: workbench eval datasets import datasets/eval/northwind-qa.jsonl --name northwind-qa
    """
    with eval_errors():
        table = _read_table(file, int(get_settings().evaluation.max_upload_mb * 1_000_000))
        columns = _import_mapping(table, mapping or [])
        with sql_only() as uow:
            report = EvalDatasetService(uow).import_table(table, name, columns, actor=who(), note=note)
    _print_import(report)


@datasets_app.command("show")
def datasets_show(
    name: str,
    version: int | None = typer.Option(None, "--version", "-v", min=1, help="default: the latest"),
    limit: int = typer.Option(20, "--limit", min=0, help="how many items to list"),
) -> None:
    """A dataset version: where it came from, the dataset's versions, and its first items."""
    with eval_errors(), sql_only() as uow:
        service = EvalDatasetService(uow)
        chosen = service.version(name, version)
        versions = service.versions(name)
        items = service.items(chosen.id)
    detail = ", ".join(_detail(k, v) for k, v in chosen.source_detail.items() if k != "content_sha256")
    typer.echo(f"{chosen.label}  {chosen.item_count} items  {chosen.source}{f' ({detail})' if detail else ''}")
    typer.echo(f"by {chosen.created_by} at {when(chosen.created_at)}{f'  note: {chosen.note}' if chosen.note else ''}")
    typer.echo("")
    print_table(["version", "items", "source", "by", "created", "note"],
                [[f"v{v.version}", str(v.item_count), v.source, v.created_by, when(v.created_at), _cut(v.note, 40)]
                 for v in versions], right={1})  # fmt: skip
    if limit:
        typer.echo(f"\nitems of v{chosen.version}" + (f" (first {limit})" if len(items) > limit else "") + ":")
        rows = [[str(i.position + 1), _cut(i.question, 60), _cut(i.reference_answer or "-", 40),
                 str(len(i.reference_contexts)), ",".join(i.tags)] for i in items[:limit]]  # fmt: skip
        print_table(["#", "question", "reference answer", "contexts", "tags"], rows, right={0, 3})


def _detail(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"{key} " + ",".join(f"{k}={v}" for k, v in value.items())
    return f"{key} {str(value)[:12] if key == 'sha256' else value}"


def _read_table(path: Path, max_bytes: int) -> Table:
    try:
        if path.stat().st_size > max_bytes:  # refused before reading it into memory
            raise DatasetError(f"{path} is larger than {max_bytes / 1_000_000:g} MB; keep only the rows you need.")
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}") from exc
    return load_table(data, path.name, max_bytes=max_bytes)


def _import_mapping(table: Table, pairs: Sequence[str]) -> dict[str, str | None]:
    """The suggested columns, overridden by --map; a field without a column is left out (except the question)."""
    chosen = suggest_mapping(table.columns)
    have = ", ".join(table.columns)
    for pair in pairs:
        field, sep, column = (part.strip() for part in pair.partition("="))
        if not sep or not field:
            raise usage(f"--map '{pair}' is not FIELD=COLUMN.")
        if field not in FIELDS:
            raise usage(f"--map {pair}: unknown field '{field}'; the fields are {', '.join(FIELDS)}.")
        if column and column not in table.columns:
            raise usage(f"--map {pair}: {table.name} has no column '{column}' (it has: {have}).")
        chosen[field] = column or None
    if not chosen["question"]:
        raise fail(f"No column for the question: pass --map question=COLUMN ({table.name} has: {have}).")
    return chosen


def _print_import(report: ImportReport) -> None:
    version = report.version
    if report.unchanged:
        typer.echo(f"unchanged: {version.label} already has this content ({version.item_count} items)")
    else:
        typer.echo(f"imported {report.imported} items as {version.label}")
    if report.rejected:
        typer.echo(f"rejected {len(report.rejected)} rows:")
    for row in report.rejected:
        where = row.where or "row"
        typer.echo(f"  {where}: {row.reason}" + (f"  ({_cut(row.question, 60)})" if row.question else ""))


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
) -> None:
    """Run a configuration over a dataset in the foreground; Ctrl-C stops after the items in progress (resumable).

    Example: workbench eval run --dataset northwind-qa --config datasets/eval/configs/baseline.yaml
    """
    with eval_errors():
        chosen = _config(config, name, tag or [])  # a bad file is refused before anything starts
        with open_container() as container:
            service = container.eval_runs  # built once: it caches the pinned prompt templates
            runs = service.create_run(dataset, chosen, actor=who(), version=version, repeats=repeats)
            first = runs[0]
            typer.echo(f"{len(runs)} run(s) of '{first.name}' over {first.dataset} v{first.dataset_version}: "
                       f"{first.item_count} items each", err=as_json)  # fmt: skip
            interrupted = False
            for run in runs:  # one after another: repeats of a local model would only queue for it anyway
                interrupted = _execute(service, run.id, retry_failed=False)
                if interrupted:
                    break
            _finish(container.eval_reports, [r.id for r in runs], interrupted, as_json)


@eval_app.command("resume")
def eval_resume(
    run_id: str,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="answer and score failed items again"),
    as_json: bool = typer.Option(False, "--json", help="print the run id and summary as JSON on stdout"),
) -> None:
    """Work the items a stopped or crashed run has not done yet."""
    with eval_errors(), open_container() as container:
        service, reports = container.eval_runs, container.eval_reports
        run = service.run(_resolve_id(reports, run_id))
        interrupted = False
        if run.status == "completed" and not (retry_failed and run.failed_count):
            typer.echo(f"run {run.id} is complete: nothing left to run", err=as_json)
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
        interrupted = _wait(finished, stop, console.print, run_id, service.lease.total_seconds())
    if outcome:
        raise outcome[0]
    return interrupted


def _wait(finished: threading.Event, stop: threading.Event, say: Callable[[str], None], run_id: str,
          lease_s: float) -> bool:  # fmt: skip
    # An Event, not Thread.join: on Python 3.11 a KeyboardInterrupt inside join() marks the thread as ended while
    # it still runs (threading's bpo-45274 handler releases the lock the running thread holds).
    interrupted = False
    while not finished.is_set():
        try:
            finished.wait(0.2)
        except KeyboardInterrupt:
            if interrupted:
                typer.secho(
                    f"left without waiting for the items in progress; in {lease_s:.0f} s resume with "
                    f"`workbench eval resume {run_id}`", fg=typer.colors.YELLOW, err=True,
                )  # fmt: skip
                raise typer.Exit(EXIT_INTERRUPTED) from None
            interrupted = True
            stop.set()
            say("stopping: the items in progress finish first (Ctrl-C again to leave now)")
    return interrupted


def _finish(reports: EvalReports, run_ids: Sequence[str], interrupted: bool, as_json: bool) -> None:
    """Summaries, run ids and what to do next; the exit code says whether every run is complete."""
    summaries = [reports.summary(run_id) for run_id in run_ids]
    if as_json:
        typer.echo(json.dumps({"runs": [_run_json(s) for s in summaries],
                               "complete": all(s.run.status == "completed" for s in summaries)}, indent=2))  # fmt: skip
    for summary in summaries:
        if not as_json:
            _print_summary(summary)
        run = summary.run
        typer.echo(f"run id: {run.id}", err=as_json)
        if run.status == "completed":
            again = f"; retry them with `workbench eval resume {run.id} --retry-failed`" if run.failed_count else ""
            typer.echo(f"completed: {run.done_count} items, {run.failed_count} failed{again}", err=as_json)
    unfinished = [s.run for s in summaries if s.run.status != "completed"]
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
    status: Status | None = typer.Option(None, "--status", help="only runs in this state"),
    limit: int = typer.Option(50, "--limit", min=1, help="how many of the newest runs"),
) -> None:
    """Runs newest first: id, name, dataset, status, progress, tags."""
    with eval_errors(), sql_only() as uow:
        found = EvalReports(uow).runs(dataset=dataset, tag=tag, status=status, limit=limit)
    if not found:
        typer.echo("no eval runs found" if dataset or tag or status else
                   "no eval runs yet: start one with `workbench eval run --dataset NAME --config FILE`")  # fmt: skip
        return
    rows = [[r.id, _cut(r.label, 40), f"{r.dataset} v{r.dataset_version}", r.status,
             f"{r.done_count}/{r.item_count}", str(r.failed_count), ",".join(r.tags), when(r.created_at)]
            for r in (s.run for s in found)]  # fmt: skip
    print_table(["id", "name", "dataset", "status", "items", "failed", "tags", "created"], rows, right={4, 5})


@eval_app.command("show")
def eval_show(run_id: str) -> None:
    """A run's pinned configuration, state and per-metric summary."""
    with eval_errors(), sql_only() as uow:
        reports = EvalReports(uow)
        summary = reports.summary(_resolve_id(reports, run_id))
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
    with eval_errors(), sql_only() as uow:
        reports = EvalReports(uow)
        text = reports.export_csv(list(dict.fromkeys(_resolve_id(reports, r) for r in run_ids)))
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8", newline="")  # the csv module wrote the line ends already
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from exc
    typer.echo(f"wrote {out}")


def _resolve_id(reports: EvalReports, ref: str) -> str:
    """A run id, or a unique prefix of one (at least MIN_PREFIX characters)."""
    try:
        return reports.summary(ref).run.id
    except EvalRunError:
        if len(ref) < MIN_PREFIX:
            raise
    matches = [s.run.id for s in reports.runs(limit=1_000_000) if s.run.id.startswith(ref.lower())]
    if len(matches) > 1:
        raise EvalRunError(f"'{ref}' is the start of {len(matches)} run ids; give more of it.")
    if not matches:
        raise EvalRunError(f"There is no eval run {ref}.")
    return matches[0]


# compare and the gate --------------------------------------------------------------------------------------------


@eval_app.command("compare")
def eval_compare(
    baseline: str = typer.Argument(..., help="the run compared against (id or a unique prefix)"),
    candidate: str = typer.Argument(..., help="the new run"),
    metric: list[str] | None = typer.Option(None, "--metric", help="compare only these (default: all both have)"),
    test: Test = typer.Option(Test.WILCOXON, "--test", help="paired test per metric (Holm-corrected across them)"),
    alpha: float = typer.Option(0.05, "--alpha", help="significance level of the gate"),
    fail_if_worse: list[str] | None = typer.Option(
        None,
        "--fail-if-worse",
        metavar="METRIC:DELTA",
        help="exit 1 when the candidate is significantly worse on METRIC by more than DELTA (>= 0); repeatable",
    ),
    as_json: bool = typer.Option(False, "--json", help="print the comparison (and verdicts) as JSON"),
) -> None:
    """Compare two runs of one dataset item by item; with --fail-if-worse, a CI gate.

    Example: workbench eval compare BASELINE CANDIDATE --fail-if-worse faithfulness:0.02 --fail-if-worse chrf:0.05
    """
    rules = _rules(fail_if_worse or [])
    unknown = [m for m in metric or [] if m not in METRICS]
    if unknown:
        raise usage(f"Unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}.")
    if not 0 < alpha < 1:
        raise usage(f"--alpha must lie strictly between 0 and 1; got {alpha:g}.")
    chosen: TestName = "sign" if test is Test.SIGN else "wilcoxon"
    with eval_errors(), sql_only() as uow:
        reports = EvalReports(uow)
        a, b = _resolve_id(reports, baseline), _resolve_id(reports, candidate)
        comparison = reports.compare(a, b, metrics=metric or None, test=chosen, top=0)
        verdicts = reports.gate(a, b, rules, alpha=alpha, test=chosen) if rules else []
    if as_json:
        typer.echo(json.dumps({
            "baseline": _run_ref(comparison.baseline), "candidate": _run_ref(comparison.candidate), "test": chosen,
            "alpha": alpha, "unpaired_items": comparison.unpaired, "metrics": [_comparison_json(c) for c in
            comparison.metrics], "gate": [_verdict_json(v) for v in verdicts],
            "passed": not any(v.failed for v in verdicts),
        }, indent=2))  # fmt: skip
    else:
        _print_comparison(comparison.baseline, comparison.candidate, comparison.metrics, comparison.unpaired, chosen)
        missing = [m for m in metric or [] if m not in {c.metric for c in comparison.metrics}]
        if missing:
            typer.echo(f"no paired scores for: {', '.join(missing)}")
        if verdicts:
            _print_verdicts(verdicts, alpha)
    failed = [v.metric for v in verdicts if v.failed]
    if failed:
        typer.secho(f"gate failed: the candidate is significantly worse on {', '.join(failed)}",
                    fg=typer.colors.RED, err=True)  # fmt: skip
        raise typer.Exit(1)


def _rules(specs: Sequence[str]) -> dict[str, float]:
    """METRIC:DELTA rules, refused with exit code 2 and the reason when malformed."""
    rules: dict[str, float] = {}
    for spec in specs:
        metric, sep, value = (part.strip() for part in spec.partition(":"))
        if not sep or not metric or not value:
            _bad_rule(spec, "it is not METRIC:DELTA (for example faithfulness:0.02)")
        if metric not in METRICS:
            _bad_rule(spec, f"unknown metric '{metric}'; known: {', '.join(METRICS)}")
        try:
            drop = float(value)
        except ValueError:
            _bad_rule(spec, f"'{value}' is not a number")
        if not math.isfinite(drop) or drop < 0:
            _bad_rule(spec, "DELTA is the largest drop allowed, a number >= 0")
        if metric in rules:
            _bad_rule(spec, f"{metric} has a rule already")
        rules[metric] = drop
    return rules


def _bad_rule(spec: str, reason: str) -> NoReturn:
    raise usage(f"--fail-if-worse '{spec}': {reason}.")


def _print_comparison(baseline: RunView, candidate: RunView, rows: Sequence[MetricComparison], unpaired: int,
                      test: str) -> None:  # fmt: skip
    typer.echo(f"baseline:  {baseline.id}  {baseline.label}  ({baseline.dataset} v{baseline.dataset_version})")
    typer.echo(f"candidate: {candidate.id}  {candidate.label}  ({candidate.dataset} v{candidate.dataset_version})")
    if unpaired:
        typer.echo(f"{unpaired} items were scored in only one run and are left out")
    if not rows:
        typer.echo("no metric has paired scores in both runs")
        return
    table = [[c.metric, str(c.n), _num(c.baseline_mean), _num(c.candidate_mean),
              f"{_num(c.delta.estimate, signed=True)} [{_num(c.delta.low, signed=True)}, "
              f"{_num(c.delta.high, signed=True)}]", f"{c.wins}/{c.ties}/{c.losses}", _p(c.test.p_value),
              _p(c.p_adjusted)] for c in rows]  # fmt: skip
    print_table(["metric", "n", "baseline", "candidate", "Δ [95% CI]", "W/T/L", "p", "Holm p"], table,
                right={1, 2, 3, 6, 7})  # fmt: skip
    typer.echo(f"Δ = candidate - baseline; W/T/L: items the candidate wins, ties, loses; {test} test, "
               f"Holm-corrected across the {len(rows)} metrics")  # fmt: skip


def _print_verdicts(verdicts: Sequence[GateVerdict], alpha: float) -> None:
    typer.echo(f"\ngate (alpha {alpha:g}; Holm across the {len(verdicts)} gated metrics):")
    for verdict in verdicts:
        typer.echo(f"  {'FAIL' if verdict.failed else 'pass'} {verdict.metric}:{verdict.max_drop:g}  "
                   f"{_why(verdict, alpha)}")  # fmt: skip


def _why(verdict: GateVerdict, alpha: float) -> str:
    """Which part of stats.significantly_worse held or did not."""
    c, drop = verdict.comparison, verdict.max_drop
    worse = -c.delta.estimate if c.higher_is_better else c.delta.estimate  # > 0: the candidate is worse
    interval = f"Δ {_num(c.delta.estimate, signed=True)} [{_num(c.delta.low, signed=True)}, " \
               f"{_num(c.delta.high, signed=True)}]"  # fmt: skip
    if verdict.failed:
        return f"{interval}: worse by more than {drop:g}, Holm p {_p(c.p_adjusted)} < {alpha:g}, CI excludes 0"
    if not worse > drop:  # NaN (no pairs) lands here too
        return f"{interval}: not worse by more than {drop:g}"
    if not c.p_adjusted < alpha:
        return f"{interval}: worse by more than {drop:g} but not significantly (Holm p {_p(c.p_adjusted)})"
    return f"{interval}: worse by more than {drop:g} but the 95% CI reaches 0"


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
    interval = f"[{_num(s.ci_low)}, {_num(s.ci_high)}]" if s.ci_low is not None else "-"
    causes = ", ".join(f"{cause} {n}" for cause, n in sorted(s.failures.items()))
    return [s.metric, _num(s.mean), interval, str(s.n_ok), str(s.n_failed), str(s.n_skipped), causes]


# JSON and number formats -----------------------------------------------------------------------------------------


def _run_ref(run: RunView) -> dict[str, Any]:
    return {"id": run.id, "name": run.name, "repeat": run.repeat, "dataset": run.dataset,
            "dataset_version": run.dataset_version, "status": run.status}  # fmt: skip


def _run_json(summary: RunSummary) -> dict[str, Any]:
    run = summary.run
    return {
        **_run_ref(run), "tags": list(run.tags), "config_hash": run.config_hash, "items": run.item_count,
        "done": run.done_count, "failed": run.failed_count, "error": run.error,
        "summary": {m: {"mean": s.mean, "ci_low": s.ci_low, "ci_high": s.ci_high, "n_ok": s.n_ok,
                        "n_failed": s.n_failed, "n_skipped": s.n_skipped, "failures": s.failures}
                    for m, s in summary.metrics.items()},
    }  # fmt: skip


def _comparison_json(c: MetricComparison) -> dict[str, Any]:
    return {
        "metric": c.metric, "n": c.n, "baseline_mean": _finite(c.baseline_mean),
        "candidate_mean": _finite(c.candidate_mean), "delta": _finite(c.delta.estimate),
        "delta_ci_low": _finite(c.delta.low), "delta_ci_high": _finite(c.delta.high), "wins": c.wins, "ties": c.ties,
        "losses": c.losses, "p_value": _finite(c.test.p_value), "p_holm": _finite(c.p_adjusted),
        "higher_is_better": c.higher_is_better,
    }  # fmt: skip


def _verdict_json(v: GateVerdict) -> dict[str, Any]:
    # The gate's own comparison: its Holm family is the gated metrics, so its p may differ from "metrics".
    return {"metric": v.metric, "max_drop": v.max_drop, "failed": v.failed, **_comparison_json(v.comparison)}


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined figure (no pairs, a constant sample) is null."""
    return None if math.isnan(value) else value


def _num(value: float | None, *, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _p(value: float) -> str:
    if math.isnan(value):
        return "-"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
