"""Sign in."""

from __future__ import annotations

from app import ui
from app.views import login

c = ui.container()
login.render(uow=c.uow, throttle=c.login_throttle, sign_in=ui.sign_in)
