"""The Review page: labelling queues and rubrics, agreement between annotators, adjudication, golden datasets."""

from app.views.review.view import render

__all__ = ["render"]
