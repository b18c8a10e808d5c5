"""The Labelling page: an annotator's queue, one item at a time, with the rubric as a compact form."""

from app.views.labelling.view import render

__all__ = ["render"]
