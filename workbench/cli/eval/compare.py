"""`workbench eval compare`: two runs item by item, and the CI gate. Registered on eval_app in eval/runs.py."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from enum import StrEnum

import typer

from workbench.cli.common import print_table
from workbench.cli.eval.common import eval_errors, num, resolve_id, sql_only, usage
from workbench.cli.eval.remote import KEY_HELP, URL_HELP, compare_remotely, remote
from workbench.evaluation.gate import GateRuleError, check_options, parse_rules
from workbench.evaluation.report_json import comparison_json
from workbench.evaluation.reports import GateVerdict
from workbench.evaluation.runs import RunView
from workbench.evaluation.stats import MetricComparison, TestName


class Test(StrEnum):
    __test__ = False  # a choice of the command line, not a pytest test class

    WILCOXON = "wilcoxon"
    SIGN = "sign"


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
    url: str | None = typer.Option(None, "--url", envvar="WORKBENCH_URL", help=URL_HELP),
    api_key: str | None = typer.Option(None, "--api-key", envvar="WORKBENCH_API_KEY", help=KEY_HELP),
) -> None:
    """Compare two runs of one dataset item by item; with --fail-if-worse, a CI gate.

    Example: workbench eval compare BASELINE CANDIDATE --fail-if-worse faithfulness:0.02 --fail-if-worse chrf:0.05
    """
    try:
        rules = parse_rules(fail_if_worse or [])
        check_options(metric or [], alpha)
    except GateRuleError as exc:
        raise usage(str(exc)) from exc
    chosen: TestName = "sign" if test is Test.SIGN else "wilcoxon"
    if url:
        with remote(url, api_key) as client:
            compare_remotely(client, baseline, candidate, metrics=metric or [], test=chosen, alpha=alpha,
                             rules=fail_if_worse or [], as_json=as_json)  # fmt: skip
        return
    with eval_errors(), sql_only() as sql:
        reports = sql.eval_reports
        a, b = resolve_id(reports, baseline), resolve_id(reports, candidate)
        comparison = reports.compare(a, b, metrics=metric or None, test=chosen, top=0)
        verdicts = reports.gate(a, b, rules, alpha=alpha, test=chosen) if rules else []
    if as_json:
        typer.echo(json.dumps(comparison_json(comparison, verdicts, test=chosen, alpha=alpha), indent=2))
    else:
        _print_comparison(comparison.baseline, comparison.candidate, comparison.metrics, comparison.unpaired, chosen)
        missing = [m for m in metric or [] if m not in {c.metric for c in comparison.metrics}]
        if missing:
            typer.echo(f"no paired scores for: {', '.join(missing)}")
        if verdicts:
            _print_verdicts(verdicts, alpha)
    failed = [v.metric for v in verdicts if v.failed]
    if failed:
        typer.secho(f"gate failed: the candidate is significantly worse or incomplete on {', '.join(failed)}",
                    fg=typer.colors.RED, err=True)  # fmt: skip
        raise typer.Exit(1)


def _print_comparison(baseline: RunView, candidate: RunView, rows: Sequence[MetricComparison], unpaired: int,
                      test: str) -> None:  # fmt: skip
    typer.echo(f"baseline:  {baseline.id}  {baseline.label}  ({baseline.dataset} v{baseline.dataset_version})")
    typer.echo(f"candidate: {candidate.id}  {candidate.label}  ({candidate.dataset} v{candidate.dataset_version})")
    if unpaired:
        typer.echo(f"{unpaired} items were scored in only one run and are left out")
    if not rows:
        typer.echo("no metric has paired scores in both runs")
        return
    table = [[c.metric, str(c.n), num(c.baseline_mean), num(c.candidate_mean),
              f"{num(c.delta.estimate, signed=True)} [{num(c.delta.low, signed=True)}, "
              f"{num(c.delta.high, signed=True)}]", f"{c.wins}/{c.ties}/{c.losses}", _p(c.test.p_value),
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
    interval = f"Δ {num(c.delta.estimate, signed=True)} [{num(c.delta.low, signed=True)}, " \
               f"{num(c.delta.high, signed=True)}]"  # fmt: skip
    if verdict.missing:
        return f"{interval}: the candidate left {verdict.missing} item(s) unscored that the baseline scored"
    if verdict.worse:
        return f"{interval}: worse by more than {drop:g}, Holm p {_p(c.p_adjusted)} < {alpha:g}, CI excludes 0"
    if not worse > drop:  # NaN (no pairs) lands here too
        return f"{interval}: not worse by more than {drop:g}"
    if not c.p_adjusted < alpha:
        return f"{interval}: worse by more than {drop:g} but not significantly (Holm p {_p(c.p_adjusted)})"
    return f"{interval}: worse by more than {drop:g} but the 95% CI reaches 0"


# number formats -----------------------------------------------------------------------------------------------------


def _p(value: float) -> str:
    if math.isnan(value):
        return "-"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"
