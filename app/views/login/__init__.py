"""The sign-in page."""

from app.views.login.view import render

__all__ = ["render"]
