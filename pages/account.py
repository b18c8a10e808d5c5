"""Account: who you are, and changing your password."""

from __future__ import annotations

from app import ui
from app.views import account

me = ui.require_page("account")
account.render(me, users=ui.services(me).users)
