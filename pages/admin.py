"""Admin: users and roles, and the health of the stores."""

from __future__ import annotations

from app import ui
from app.views import admin

me = ui.require_page("admin")
c = ui.services(me)
admin.render(me, users=c.users, status=c.system_status)
