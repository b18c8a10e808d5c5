"""The Run log page: every model, retrieval, embedding and eval call, with filters, charts and paging."""

from app.views.run_log.view import render

__all__ = ["render"]
