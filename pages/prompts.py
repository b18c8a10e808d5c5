"""Prompts: the registry's prompts, each version's content, editing as new versions, labels, diffs and previews."""

from __future__ import annotations

from app import ui
from app.views import prompts

user = ui.require_page("prompts")
prompts.render(user, registry=ui.services(user).prompts)
