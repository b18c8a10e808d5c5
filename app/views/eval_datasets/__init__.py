"""The Eval datasets page: versioned datasets to evaluate on, and eval runs over them started and followed here."""

from app.views.eval_datasets.view import render

__all__ = ["render"]
