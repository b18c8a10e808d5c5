"""Eval runs: where one stands (for a CI job that started it and waits)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from workbench.api.auth import allowed
from workbench.api.errors import ApiError
from workbench.domain.users import UserView
from workbench.evaluation.runs import EvalRunError

router = APIRouter(prefix="/eval-runs", tags=["evaluation"])


@router.get("/{run_id}", summary="An eval run's status and progress")
def eval_run(run_id: str, request: Request, user: UserView = Depends(allowed("evaluation"))) -> dict[str, Any]:  # noqa: B008
    try:
        run = request.app.state.container.eval_runs.run(run_id)
    except EvalRunError as exc:
        raise ApiError(404, str(exc)) from exc
    return {
        "id": run.id, "name": run.name, "dataset": run.dataset, "dataset_version": run.dataset_version,
        "status": str(run.status), "items": run.item_count, "done": run.done_count, "failed": run.failed_count,
        "progress": round(run.progress, 4), "error": run.error, "config": run.config,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }  # fmt: skip
