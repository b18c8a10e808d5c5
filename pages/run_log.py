"""Run log: every model, retrieval, embedding and eval call, with filters, charts and paging."""

from __future__ import annotations

from app import ui
from app.views import run_log

ui.require_page("run_log")
c = ui.container()
run_log.render(store=c.runlog_store, writer=c.runlog_writer, uow=c.uow)
