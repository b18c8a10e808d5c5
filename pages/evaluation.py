"""Evaluation: eval runs with their metric summaries, paired comparisons with real statistics, a drill-down into
the items that changed, trends over time, and CSV export. For analysts and admins."""

from __future__ import annotations

from app import ui
from app.views import evaluation

me = ui.require_page("evaluation")
c = ui.services(me)
evaluation.render(reports=c.eval_reports, runs=c.eval_runs, jobs=c.eval_jobs)
