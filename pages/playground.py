"""Playground: prompt variants (template version x model x parameters) side by side, on one input or a dataset."""

from __future__ import annotations

from app import ui
from app.views import playground

me = ui.require_page("playground")
c = ui.services(me)
playground.render(
    me, playground=c.playground, jobs=c.playground_jobs, tries=c.playground_tries, prompts=c.prompts,
    catalog=c.catalog, settings=c.settings.playground,
)  # fmt: skip
