"""Labelling: an annotator's queue, one item at a time, the rubric as a compact form, and their own labels to revise."""

from __future__ import annotations

from app import ui
from app.views import labelling

user = ui.require_page("labelling")
c = ui.services(user)
labelling.render(user, annotation=c.annotation, label_queues=c.label_queues)
