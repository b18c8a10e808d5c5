"""Eval runs for a CI job on another machine: start one on the queue's workers, follow it, read its results, and
compare two with the same gate (and exit semantics) as `workbench eval compare`.

The gate's answer is in the body (`passed`, `exit_code`: 0 passed, 1 worse or incomplete). A malformed rule or
option is a 400 (the CLI's exit 2); runs that cannot be compared (unknown, unfinished, without the gated scores) a
404 or 409 (the CLI's exit 1).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.runs import EvalRunStatus
from workbench.domain.users import UserView
from workbench.evaluation.config import EvalConfig, EvalConfigError
from workbench.evaluation.datasets import EvalDatasetError
from workbench.evaluation.gate import GateRuleError, check_options, parse_rules
from workbench.evaluation.report_json import comparison_json, summary_json
from workbench.evaluation.reports import EvalReports
from workbench.evaluation.run_view import RunView
from workbench.evaluation.runs import MAX_REPEATS, EvalRunError
from workbench.services.queued_runs import QueueError

router = APIRouter(prefix="/eval-runs", tags=["evaluation"])
MIN_PREFIX = 6


class RunIn(BaseModel):
    dataset: str = Field(min_length=1, max_length=128)
    config: dict[str, Any] = Field(description="the settings of an eval configuration file (datasets/eval/configs/)")
    version: int | None = Field(default=None, ge=1, description="dataset version (default: the latest)")
    repeats: int = Field(default=1, ge=1, le=MAX_REPEATS)
    name: str | None = Field(default=None, max_length=128)
    tags: list[str] = Field(default_factory=list, max_length=20)


class CompareIn(BaseModel):
    baseline: str = Field(min_length=1, max_length=64, description="run id or a unique prefix (6+ characters)")
    candidate: str = Field(min_length=1, max_length=64)
    metrics: list[str] = Field(default_factory=list, max_length=50, description="default: all both runs have")
    test: Literal["wilcoxon", "sign"] = "wilcoxon"
    alpha: float = Field(default=0.05, description="significance level of the gate, strictly between 0 and 1")
    fail_if_worse: list[str] = Field(
        default_factory=list, max_length=50, description="METRIC:DELTA rules, as the CLI's --fail-if-worse"
    )


def _status(run: RunView) -> dict[str, Any]:
    return {
        "id": run.id, "name": run.name, "dataset": run.dataset, "dataset_version": run.dataset_version,
        "repeat": run.repeat, "status": str(run.status), "live": run.live, "items": run.item_count,
        "done": run.done_count, "failed": run.failed_count, "progress": round(run.progress, 4), "error": run.error,
        "config": run.config, "tags": list(run.tags), "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }  # fmt: skip


def _reports(request: Request) -> EvalReports:
    reports: EvalReports = request.app.state.container.eval_reports
    return reports


def _resolve(reports: EvalReports, ref: str) -> str:
    try:
        return reports.resolve_id(ref, MIN_PREFIX)
    except EvalRunError as exc:
        raise ApiError(404, str(exc)) from exc


@router.get("", summary="Runs newest first, filtered by dataset, tag and status, with their metric summaries")
def runs(
    request: Request,
    dataset: str | None = Query(default=None, max_length=128),
    tag: str | None = Query(default=None, max_length=64),
    status: EvalRunStatus | None = Query(default=None),  # noqa: B008
    limit: int = Query(default=50, ge=1, le=500),
    user: UserView = Depends(allowed("evaluation")),  # noqa: B008
) -> list[dict[str, Any]]:
    found = _reports(request).runs(dataset=dataset, tag=tag, status=status, limit=limit)
    return [summary_json(summary) for summary in found]


@router.post("", status_code=202, summary="Start runs of a configuration on the queue's workers")
def start_run(run: RunIn, request: Request, user: UserView = Depends(allowed("evaluation"))) -> dict[str, Any]:  # noqa: B008
    container = request.app.state.container
    data = {**run.config, **({"name": run.name} if run.name else {})}
    if run.tags:  # added to the configuration's own tags, as the CLI's --tag does
        own = data.get("tags")
        data["tags"] = [*(own if isinstance(own, list) else []), *run.tags]
    try:
        config = EvalConfig.from_mapping(data, "the request's config")
        created = container.eval_runs.create_run(
            run.dataset, config, actor=user.username, version=run.version, repeats=run.repeats
        )
    except EvalConfigError as exc:
        raise ApiError(422, str(exc)) from exc
    except (EvalDatasetError, EvalRunError) as exc:
        raise ApiError(404 if "no eval dataset" in str(exc).lower() else 422, str(exc)) from exc
    status = container.queue.status()
    try:
        for view in created:
            container.eval_jobs.start(view.id)
    except QueueError as exc:
        raise ApiError(503, str(exc)) from exc
    return {
        "runs": [_status(container.eval_runs.run(view.id)) for view in created],
        "workers": len(status.workers),
        "note": None if status.workers else "no worker answers: the items wait in the queue until one starts",
    }


@router.post("/compare", summary="Compare two runs item by item; with fail_if_worse, the CI gate")
def compare(body: CompareIn, request: Request, user: UserView = Depends(allowed("evaluation"))) -> dict[str, Any]:  # noqa: B008
    try:
        rules = parse_rules(body.fail_if_worse)
        check_options(body.metrics, body.alpha, "alpha")
    except GateRuleError as exc:
        raise ApiError(400, str(exc)) from exc
    reports = _reports(request)
    baseline, candidate = _resolve(reports, body.baseline), _resolve(reports, body.candidate)
    try:
        comparison = reports.compare(baseline, candidate, metrics=body.metrics or None, test=body.test, top=0)
        verdicts = reports.gate(baseline, candidate, rules, alpha=body.alpha, test=body.test) if rules else []
    except EvalRunError as exc:
        raise ApiError(409, str(exc)) from exc
    return comparison_json(comparison, verdicts, test=body.test, alpha=body.alpha)


@router.get("/{run_id}", summary="An eval run's status and progress")
def eval_run(run_id: str, request: Request, user: UserView = Depends(allowed("evaluation"))) -> dict[str, Any]:  # noqa: B008
    resolved = _resolve(_reports(request), run_id)
    return _status(request.app.state.container.eval_runs.run(resolved))


@router.post("/{run_id}/stop", summary="Stop a run: queued items are dropped, items in progress finish (resumable)")
def stop_run(run_id: str, request: Request, user: UserView = Depends(allowed("evaluation"))) -> dict[str, Any]:  # noqa: B008
    container = request.app.state.container
    resolved = _resolve(_reports(request), run_id)
    container.eval_jobs.stop(resolved)
    return _status(container.eval_runs.run(resolved))


@router.get(
    "/{run_id}/results",
    summary="A run's per-metric summary (JSON), or every score with its failure cause (format=csv)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def results(
    run_id: str,
    request: Request,
    format: Literal["json", "csv"] = Query(default="json"),
    user: UserView = Depends(allowed("evaluation")),  # noqa: B008
) -> Any:
    reports = _reports(request)
    resolved = _resolve(reports, run_id)
    if format == "csv":
        return Response(reports.export_csv([resolved]), media_type="text/csv")
    return summary_json(reports.summary(resolved))
