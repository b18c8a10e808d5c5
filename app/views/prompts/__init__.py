"""The Prompts page: the registry's prompts, their versions, editing as new versions, labels, diffs and previews."""

from app.views.prompts.view import render

__all__ = ["render"]
