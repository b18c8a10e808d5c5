"""The Documents page: knowledge bases, uploading files into them, and what each one holds."""

from app.views.documents.view import render

__all__ = ["render"]
