"""The Playground page: prompt variants (template version x model x parameters) side by side."""

from app.views.playground.view import render

__all__ = ["render"]
