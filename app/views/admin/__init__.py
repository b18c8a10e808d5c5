"""The Admin page: users and roles, and the health of the stores."""

from app.views.admin.view import render

__all__ = ["render"]
