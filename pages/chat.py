"""Chat: ask questions about a knowledge base; answers stream in with their sources, and can be rated."""

from __future__ import annotations

from app import ui
from app.views import chat

me = ui.require_page("chat")
c = ui.services(me)
chat.render(me, chat=c.chat, catalog=c.catalog, rag=c.rag, settings=c.settings)
