"""The Account page: who you are, and changing your password."""

from app.views.account.view import render

__all__ = ["render"]
