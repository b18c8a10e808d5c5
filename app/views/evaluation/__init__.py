"""The Evaluation page: eval runs with their metric summaries, paired comparisons, item drill-downs and trends."""

from app.views.evaluation.view import render

__all__ = ["render"]
