"""Eval datasets: versioned datasets to evaluate on (imported files, golden datasets from the labelling queues,
generated questions after review) and eval runs over them, started here and followed while they go on."""

from __future__ import annotations

from app import ui
from app.views import eval_datasets

user = ui.require_page("eval_datasets")
c = ui.services(user)
eval_datasets.render(
    user, datasets=c.eval_datasets, runs=c.eval_runs, jobs=c.eval_jobs, prompts=c.prompts, review=c.review,
    rag=c.rag, catalog=c.catalog, generator=c.question_generator,
    max_upload_mb=c.settings.evaluation.max_upload_mb,
)  # fmt: skip
