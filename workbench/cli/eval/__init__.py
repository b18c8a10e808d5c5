"""`workbench eval ...`: evaluation runs (runs.py), datasets (datasets.py) and comparing runs (compare.py)."""

from workbench.cli.eval.runs import eval_app

__all__ = ["eval_app"]
