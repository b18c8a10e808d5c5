"""Documents: knowledge bases, uploading files into them (with progress), and what each one holds."""

from __future__ import annotations

from app import ui
from app.views import documents

me = ui.require_page("documents")
c = ui.services(me)
documents.render(rag=c.rag, settings=c.settings.rag)
